//! Finite-difference checks of every cost's first and second derivatives.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cost::*;
use crate::sample::TrajectoryRef;

const T: usize = 5;
const DX: usize = 6;
const DU: usize = 3;

fn random_traj(rng: &mut ChaCha8Rng) -> (Vec<f64>, Vec<f64>) {
    let x = (0..T * DX).map(|_| rng.random_range(-2.0..2.0)).collect();
    let u = (0..T * DU).map(|_| rng.random_range(-2.0..2.0)).collect();
    (x, u)
}

fn values(cost: &dyn Cost, x: &[f64], u: &[f64]) -> Vec<f64> {
    cost.values(TrajectoryRef::new(T, DX, DU, x, u).unwrap())
        .unwrap()
}

/// Gradient at step t by central differences of the value, over y = [x_t; u_t].
fn fd_gradient(cost: &dyn Cost, x: &[f64], u: &[f64], t: usize, h: f64) -> Vec<f64> {
    (0..DX + DU)
        .map(|k| {
            let (mut xp, mut up) = (x.to_vec(), u.to_vec());
            let (mut xm, mut um) = (x.to_vec(), u.to_vec());
            if k < DX {
                xp[t * DX + k] += h;
                xm[t * DX + k] -= h;
            } else {
                up[t * DU + k - DX] += h;
                um[t * DU + k - DX] -= h;
            }
            (values(cost, &xp, &up)[t] - values(cost, &xm, &um)[t]) / (2.0 * h)
        })
        .collect()
}

fn analytic_gradient(d: &CostDerivatives, t: usize) -> Vec<f64> {
    d.lx.at(t).iter().chain(d.lu.at(t)).copied().collect()
}

fn analytic_hessian(d: &CostDerivatives, t: usize) -> Vec<Vec<f64>> {
    let mut h = vec![vec![0.0; DX + DU]; DX + DU];
    for i in 0..DX {
        for j in 0..DX {
            h[i][j] = d.lxx.at(t)[(i, j)];
        }
    }
    for i in 0..DU {
        for j in 0..DX {
            h[DX + i][j] = d.lux.at(t)[(i, j)];
            h[j][DX + i] = d.lux.at(t)[(i, j)];
        }
        for j in 0..DU {
            h[DX + i][DX + j] = d.luu.at(t)[(i, j)];
        }
    }
    h
}

fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / (1.0 + a.abs().max(b.abs()))
}

/// Check the gradient against finite differences of the value, and the Hessian against
/// finite differences of the analytic gradient; relative error < 1e-5.
fn check_cost(cost: &dyn Cost, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..5 {
        let (x, u) = random_traj(&mut rng);
        let d = cost
            .evaluate(TrajectoryRef::new(T, DX, DU, &x, &u).unwrap())
            .unwrap();
        assert_eq!(d.l, values(cost, &x, &u), "values-only path must agree");
        for t in 0..T {
            let g = analytic_gradient(&d, t);
            let fd = fd_gradient(cost, &x, &u, t, 1e-5);
            for k in 0..DX + DU {
                assert!(
                    rel_err(g[k], fd[k]) < 1e-5,
                    "{cost:?}: gradient t={t} k={k}: {} vs {}",
                    g[k],
                    fd[k]
                );
            }
            let h = analytic_hessian(&d, t);
            let eps = 1e-6;
            for k in 0..DX + DU {
                let (mut xp, mut up) = (x.clone(), u.clone());
                let (mut xm, mut um) = (x.clone(), u.clone());
                if k < DX {
                    xp[t * DX + k] += eps;
                    xm[t * DX + k] -= eps;
                } else {
                    up[t * DU + k - DX] += eps;
                    um[t * DU + k - DX] -= eps;
                }
                let gp = analytic_gradient(
                    &cost
                        .evaluate(TrajectoryRef::new(T, DX, DU, &xp, &up).unwrap())
                        .unwrap(),
                    t,
                );
                let gm = analytic_gradient(
                    &cost
                        .evaluate(TrajectoryRef::new(T, DX, DU, &xm, &um).unwrap())
                        .unwrap(),
                    t,
                );
                for j in 0..DX + DU {
                    let fd = (gp[j] - gm[j]) / (2.0 * eps);
                    assert!(
                        rel_err(h[j][k], fd) < 1e-5,
                        "{cost:?}: hessian t={t} ({j},{k}): {} vs {fd}",
                        h[j][k]
                    );
                }
            }
        }
    }
}

fn smooth_l1() -> Penalty {
    Penalty {
        l2: 0.7,
        l1: 1.3,
        alpha: 0.1,
    }
}

#[test]
fn action_cost_derivatives() {
    check_cost(
        &ActionCost {
            weights: vec![1.0, 0.5, 2.0],
        },
        1,
    );
}

#[test]
fn state_cost_derivatives_all_ramps() {
    for (k, ramp) in [
        Ramp::Constant,
        Ramp::Linear,
        Ramp::Quadratic,
        Ramp::FinalOnly,
    ]
    .into_iter()
    .enumerate()
    {
        let c = StateCost::new(vec![0, 2, 3], vec![0.5, -0.3, 1.0])
            .with_weights(vec![1.0, 2.0, 0.5])
            .with_penalty(smooth_l1())
            .with_ramp(ramp)
            .with_final_multiplier(10.0);
        check_cost(&c, 10 + k as u64);
    }
}

#[test]
fn relative_point_cost_derivatives() {
    let c = StateCost::new(vec![0, 1, 2], vec![0.1, 0.0, 0.0])
        .with_relative_to(vec![3, 4, 5])
        .with_penalty(smooth_l1())
        .with_ramp(Ramp::Linear);
    check_cost(&c, 20);
}

#[test]
fn waypoint_cost_derivatives() {
    let c = WaypointCost {
        waypoints: vec![
            Waypoint {
                rows: 2,
                a: (0..2 * DX).map(|i| (i as f64 * 0.37).sin()).collect(),
                b: vec![0.3, -0.4],
                start: 0,
                end: 3,
                weight: 2.0,
                penalty: smooth_l1(),
            },
            Waypoint {
                rows: 1,
                a: (0..DX).map(|i| if i == 4 { 1.0 } else { 0.0 }).collect(),
                b: vec![-1.0],
                start: 2,
                end: T,
                weight: 1.0,
                penalty: Penalty::default(),
            },
        ],
    };
    check_cost(&c, 30);
}

#[test]
fn weighted_sum_derivatives() {
    let c = WeightedSum::new()
        .with(
            4.0,
            Arc::new(
                StateCost::new(vec![0, 1], vec![1.0, 1.0])
                    .with_ramp(Ramp::Quadratic)
                    .with_penalty(smooth_l1()),
            ),
        )
        .with(
            1.0,
            Arc::new(StateCost::new(vec![2, 3], vec![0.0, 0.0]).with_relative_to(vec![4, 5])),
        )
        .with(
            1e-3,
            Arc::new(ActionCost {
                weights: vec![1.0; DU],
            }),
        );
    check_cost(&c, 40);
}

#[test]
fn region_cost_has_zero_derivatives() {
    let c = RegionCost {
        indices: vec![0],
        lower: vec![-0.5],
        upper: vec![0.5],
        value: 3.0,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (x, u) = random_traj(&mut rng);
    let d = c
        .evaluate(TrajectoryRef::new(T, DX, DU, &x, &u).unwrap())
        .unwrap();
    assert!(d.lx.as_slice().iter().all(|&v| v == 0.0));
    for t in 0..T {
        let inside = x[t * DX].abs() <= 0.5;
        assert_eq!(d.l[t], if inside { 0.0 } else { 3.0 });
    }
}

#[test]
fn bad_indices_and_lengths_are_errors() {
    let traj_x = vec![0.0; T * DX];
    let traj_u = vec![0.0; T * DU];
    let traj = TrajectoryRef::new(T, DX, DU, &traj_x, &traj_u).unwrap();
    let c = StateCost::new(vec![DX], vec![0.0]);
    assert!(matches!(
        c.values(traj),
        Err(crate::CoreError::IndexOutOfRange { index: DX, .. })
    ));
    let c = StateCost::new(vec![0, 1], vec![0.0]);
    assert!(matches!(
        c.values(traj),
        Err(crate::CoreError::Length {
            field: "state cost target",
            ..
        })
    ));
    let c = ActionCost { weights: vec![1.0] };
    assert!(c.values(traj).is_err());
}

#[test]
fn cost_model_reproduces_quadratic_costs_exactly() {
    let cost = WeightedSum::new()
        .with(
            2.0,
            Arc::new(
                StateCost::new(vec![0, 2], vec![0.5, -1.0])
                    .with_relative_to(vec![4, 5])
                    .with_ramp(Ramp::Linear),
            ),
        )
        .with(
            0.1,
            Arc::new(ActionCost {
                weights: vec![1.0, 2.0, 3.0],
            }),
        );
    let batch = random_batch(&cost, 7, 9);
    let model = CostModelBuilder::new(T, DX, DU)
        .build(&cost, &batch)
        .unwrap();
    for i in 0..batch.len() {
        for t in 0..T {
            let y: Vec<f64> = batch.x(i, t).iter().chain(batch.u(i, t)).copied().collect();
            let m = model.eval(t, &y);
            assert!(
                (m - batch.cost(i, t)).abs() < 1e-10 * (1.0 + batch.cost(i, t).abs()),
                "sample {i} step {t}: model {m} vs cost {}",
                batch.cost(i, t)
            );
        }
    }
}

/// Hides the inner cost's Hessian support, forcing the dense path.
#[derive(Debug)]
struct Dense<C>(C);

impl<C: Cost> Cost for Dense<C> {
    fn accumulate(
        &self,
        traj: TrajectoryRef<'_>,
        weight: f64,
        out: &mut CostDerivatives,
    ) -> Result<(), crate::CoreError> {
        self.0.accumulate(traj, weight, out)
    }
}

#[test]
fn sparse_support_model_equals_dense_model() {
    let cost = WeightedSum::new()
        .with(
            3.0,
            Arc::new(
                StateCost::new(vec![1, 3], vec![0.2, -0.4])
                    .with_penalty(smooth_l1())
                    .with_ramp(Ramp::Quadratic),
            ),
        )
        .with(
            1e-2,
            Arc::new(ActionCost {
                weights: vec![1.0; DU],
            }),
        );
    assert_eq!(cost.state_hessian_support(DX), Some(vec![1, 3]));
    let batch = random_batch(&cost, 6, 11);
    let mut builder = CostModelBuilder::new(T, DX, DU);
    let sparse = builder.build(&cost, &batch).unwrap();
    let dense = builder.build(&Dense(cost), &batch).unwrap();
    for t in 0..T {
        assert!((sparse.cm.at(t) - dense.cm.at(t)).norm_max() < 1e-12);
        for k in 0..DX + DU {
            assert!((sparse.cv.at(t)[k] - dense.cv.at(t)[k]).abs() < 1e-12);
        }
        assert!((sparse.cc[t] - dense.cc[t]).abs() < 1e-12);
    }
}

/// `½ (x₀ + 2 u₁ − 1)²`: a quadratic cost with a non-zero mixed block `l_ux`.
#[derive(Debug)]
struct Coupled;

impl Cost for Coupled {
    fn accumulate(
        &self,
        traj: TrajectoryRef<'_>,
        weight: f64,
        out: &mut CostDerivatives,
    ) -> Result<(), crate::CoreError> {
        for t in 0..traj.horizon {
            let e = traj.x(t)[0] + 2.0 * traj.u(t)[1] - 1.0;
            out.l[t] += weight * 0.5 * e * e;
            if out.has_derivatives() {
                out.lx.at_mut(t)[0] += weight * e;
                out.lu.at_mut(t)[1] += weight * 2.0 * e;
                out.lxx.at_mut(t)[(0, 0)] += weight;
                out.luu.at_mut(t)[(1, 1)] += weight * 4.0;
                out.lux.at_mut(t)[(1, 0)] += weight * 2.0;
            }
        }
        Ok(())
    }
}

#[test]
fn cost_model_reproduces_a_cost_with_mixed_terms() {
    let cost = WeightedSum::new()
        .with(1.5, Arc::new(Coupled))
        .with(1.0, Arc::new(StateCost::new(vec![3], vec![0.25])));
    assert!(cost.has_mixed_hessian());
    let batch = random_batch(&cost, 5, 13);
    let model = CostModelBuilder::new(T, DX, DU)
        .build(&cost, &batch)
        .unwrap();
    for i in 0..batch.len() {
        for t in 0..T {
            let y: Vec<f64> = batch.x(i, t).iter().chain(batch.u(i, t)).copied().collect();
            let m = model.eval(t, &y);
            let c = batch.cost(i, t);
            assert!(
                (m - c).abs() < 1e-10 * (1.0 + c.abs()),
                "sample {i} step {t}: {m} vs {c}"
            );
        }
    }
    // The mixed block lands symmetrically in Cm: ∂²/∂x₀∂u₁ = 1.5 · 2.
    let cm = model.cm.at(0);
    assert!((cm[(DX + 1, 0)] - 3.0).abs() < 1e-12 && (cm[(0, DX + 1)] - 3.0).abs() < 1e-12);
}

/// `n` random trajectories (seeded) with their exact per-step costs under `cost`.
fn random_batch(cost: &dyn Cost, n: usize, seed: u64) -> crate::sample::SampleBatch {
    use crate::sample::{SampleBatch, SampleDims, Trajectory};
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dims = SampleDims {
        horizon: T,
        dx: DX,
        du: DU,
        dobs: 0,
    };
    let trajs: Vec<Trajectory> = (0..n)
        .map(|_| {
            let (x, u) = random_traj(&mut rng);
            let c = values(cost, &x, &u);
            Trajectory {
                x,
                u,
                obs: vec![],
                noise: vec![0.0; T * DU],
                cost: c,
            }
        })
        .collect();
    SampleBatch::from_trajectories(dims, trajs).unwrap()
}
