//! Speed of the MDGPS pieces against the targets of the MDGPS issue: one network action during
//! rollouts (< 50 µs) and an S-step (4,000 Adam iterations of batch 25 on 4 conditions × 20
//! samples × T = 100, 2 hidden layers of 100, dO = 26, dU = 2: < 15 s; the bench times 400
//! iterations, a tenth); the S-step at the learner-speed issue's reacher size (dO = 14, the
//! full 4,000 iterations) and the network's evaluation on every training observation (the
//! inputs of the policy linearisation and of held-out evaluation), so their ratio to the
//! physics can be read.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pilqr_core::{Policy, RunSeed};
use pilqr_mdgps::{
    GlobalPolicy, MlpConfig, NnPolicy, PolicyPriorConfig, PolicyPriorGmm, PolicySampleMode,
    SStepConfig, s_step,
};

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Problem, conditions, controller, rollouts};

const REACHER_LIKE: Problem = Problem {
    horizon: 100,
    dx: 26,
    du: 2,
    samples: 20,
};

fn action(c: &mut Criterion) {
    let p = REACHER_LIKE;
    let pol = NnPolicy::new(&MlpConfig::default(), p.dx, p.du, 0.1, RunSeed::new(0)).unwrap();
    let obs: Vec<f64> = (0..p.dx).map(|i| (i as f64 * 0.37).sin()).collect();
    let noise = [0.3, -0.4];
    let mut u = [0.0; 2];
    c.bench_function("nn_action_26_100_100_2", |b| {
        b.iter(|| pol.act(0, &[], black_box(&obs), &noise, &mut u).unwrap())
    });
}

fn s_step_bench(c: &mut Criterion) {
    let p = REACHER_LIKE;
    let seed = RunSeed::new(3);
    let local = controller(p, 0.3, seed);
    let batches: Vec<_> = (0..4).map(|m| rollouts(p, &local, seed, m)).collect();
    let data = conditions(&batches, &local);
    let config = SStepConfig {
        iterations: 400,
        ..SStepConfig::default()
    };
    let fresh = NnPolicy::new(&MlpConfig::default(), p.dx, p.du, 0.1, seed).unwrap();
    let mut group = c.benchmark_group("s_step");
    group.sample_size(10);
    group.bench_function("400_iterations_4x20x100_rows", |b| {
        b.iter(|| {
            let mut pol = fresh.clone();
            s_step(&mut pol, &data, &config, seed, 0).unwrap()
        })
    });
    group.finish();
}

/// The learner-speed issue's reacher: 4 conditions × 20 samples × 100 steps, dO = 14, dU = 2.
const REACHER: Problem = Problem {
    horizon: 100,
    dx: 14,
    du: 2,
    samples: 20,
};

fn reacher_network_work(c: &mut Criterion) {
    let p = REACHER;
    let seed = RunSeed::new(4);
    let local = controller(p, 0.3, seed);
    let batches: Vec<_> = (0..4).map(|m| rollouts(p, &local, seed, m)).collect();
    let data = conditions(&batches, &local);
    let config = SStepConfig::default();
    let fresh = NnPolicy::new(&MlpConfig::default(), p.dx, p.du, 0.1, seed).unwrap();
    let mut trained = fresh.clone();
    s_step(&mut trained, &data, &config, seed, 0).unwrap();
    let obs: Vec<f64> = batches.iter().flat_map(|b| b.obs_all().to_vec()).collect();
    let mut group = c.benchmark_group("reacher_network");
    group.sample_size(10);
    group.bench_function("s_step_4000_iterations_4x20x100_rows", |b| {
        b.iter(|| {
            let mut pol = fresh.clone();
            s_step(&mut pol, &data, &config, seed, 0).unwrap()
        })
    });
    group.bench_function("mean_actions_on_all_8000_observations", |b| {
        b.iter(|| trained.mean_actions(black_box(&obs)).unwrap())
    });
    group.finish();
}

/// The reacher task itself: dX = 8, dU = 2, T = 50, 20 samples (observations here equal states).
const REACHER_TASK: Problem = Problem {
    horizon: 50,
    dx: 8,
    du: 2,
    samples: 20,
};

/// One condition's network work in one MDGPS iteration outside the S-step, at the reacher
/// task's size: the policy prior's refit over `[x; μ_θ(o)]` (replace mode, as
/// experiments/reacher_mdgps.toml) and the linearisation of the trained network.
fn reacher_iteration_network_work(c: &mut Criterion) {
    let p = REACHER_TASK;
    let seed = RunSeed::new(5);
    let local = controller(p, 0.3, seed);
    let batches: Vec<_> = (0..4).map(|m| rollouts(p, &local, seed, m)).collect();
    let data = conditions(&batches, &local);
    let mut trained = NnPolicy::new(&MlpConfig::default(), p.dx, p.du, 0.1, seed).unwrap();
    s_step(&mut trained, &data, &SStepConfig::default(), seed, 0).unwrap();
    let config = PolicyPriorConfig {
        mode: PolicySampleMode::Replace,
        ..PolicyPriorConfig::default()
    };
    let fresh = PolicyPriorGmm::new(config, p.dx, p.dx).unwrap();
    let mut warm = fresh.clone();
    warm.update(&batches[0], &trained, 1).unwrap();
    let mut group = c.benchmark_group("reacher_iteration_network");
    group.sample_size(10);
    group.bench_function("policy_prior_update_warm_20x50", |b| {
        b.iter(|| {
            let mut prior = warm.clone();
            prior.update(&batches[1], &trained, 2).unwrap()
        })
    });
    group.bench_function("linearize_20x50", |b| {
        b.iter(|| warm.linearize(&batches[0], &trained).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    action,
    s_step_bench,
    reacher_network_work,
    reacher_iteration_network_work
);
criterion_main!(benches);
