//! Cost evaluation and cost-model building at gripper-pusher size (T=100, dX=36, dU=4, N=20).
//!
//! Issue targets: evaluating the pusher-like cost on all 20 samples with derivatives < 2 ms;
//! building the cost model < 3 ms.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use pilqr_core::{
    ActionCost, Cost, CostDerivatives, CostModelBuilder, Penalty, Ramp, SampleBatch, SampleDims,
    StateCost, Trajectory, WeightedSum,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const T: usize = 100;
const DX: usize = 36;
const DU: usize = 4;
const N: usize = 20;

/// The gripper-pusher-like cost: block→goal (quadratic ramp), gripper→block, a joint term and a
/// tiny action term. State layout assumed: joints 0..4, velocities 4..8, gripper points 8..17,
/// block points 17..26, …
fn pusher_like_cost() -> WeightedSum {
    let smooth = Penalty {
        l2: 1.0,
        l1: 0.1,
        alpha: 1e-5,
    };
    WeightedSum::new()
        .with(
            4.0,
            Arc::new(
                StateCost::new((17..26).collect(), vec![0.5; 9])
                    .with_penalty(smooth)
                    .with_ramp(Ramp::Quadratic)
                    .with_final_multiplier(5.0),
            ),
        )
        .with(
            1.0,
            Arc::new(
                StateCost::new((8..17).collect(), vec![0.0; 9])
                    .with_relative_to((17..26).collect())
                    .with_penalty(smooth),
            ),
        )
        .with(
            1.0,
            Arc::new(StateCost::new((0..4).collect(), vec![0.0; 4]).with_weights(vec![0.1; 4])),
        )
        .with(
            1e-3,
            Arc::new(ActionCost {
                weights: vec![1.0; DU],
            }),
        )
}

fn batch(cost: &dyn Cost) -> SampleBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let dims = SampleDims {
        horizon: T,
        dx: DX,
        du: DU,
        dobs: 0,
    };
    let trajs = (0..N)
        .map(|_| {
            let x: Vec<f64> = (0..T * DX).map(|_| rng.random_range(-1.0..1.0)).collect();
            let u: Vec<f64> = (0..T * DU).map(|_| rng.random_range(-1.0..1.0)).collect();
            let c = cost
                .values(pilqr_core::TrajectoryRef::new(T, DX, DU, &x, &u).expect("sizes"))
                .expect("cost");
            Trajectory {
                x,
                u,
                obs: vec![],
                noise: vec![0.0; T * DU],
                cost: c,
            }
        })
        .collect();
    SampleBatch::from_trajectories(dims, trajs).expect("valid batch")
}

fn bench_costs(c: &mut Criterion) {
    let cost = pusher_like_cost();
    let b = batch(&cost);
    let mut buf = CostDerivatives::zeros(T, DX, DU);
    let support = cost.state_hessian_support(DX);
    c.bench_function("pusher cost + derivatives, 20 samples", |bench| {
        bench.iter(|| {
            for i in 0..N {
                buf.reset_support(support.as_deref());
                cost.accumulate(b.trajectory(i), 1.0, &mut buf)
                    .expect("cost");
            }
            buf.l[T - 1]
        })
    });
    let mut builder = CostModelBuilder::new(T, DX, DU);
    c.bench_function("cost model build, 20 samples", |bench| {
        bench.iter(|| builder.build(&cost, &b).expect("model").cc[0])
    });
}

criterion_group!(benches, bench_costs);
criterion_main!(benches);
