//! Oracles of LQR-FLM: discrete Riccati, KL targets, Monte-Carlo KL, typed failures.
#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use faer::Mat;
use faer::linalg::solvers::Solve;
use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;

use super::*;
use crate::kl::policy_kl;
use crate::test_fixtures::*;

/// Finite-horizon discrete Riccati recursion with an LU solve, independent of the crate's code:
/// gains, feed-forward terms and `Q_uu⁻¹` per step.
type Riccati = (Vec<Mat<f64>>, Vec<Mat<f64>>, Vec<Mat<f64>>);
fn riccati(d: &LinearDynamics, c: &CostModel) -> Riccati {
    let t_len = d.horizon();
    let (dx, du) = (d.dx(), d.du());
    let mut p = Mat::<f64>::zeros(dx, dx);
    let mut pv = Mat::<f64>::zeros(dx, 1);
    let mut ks = vec![Mat::zeros(du, dx); t_len];
    let mut kffs = vec![Mat::zeros(du, 1); t_len];
    let mut quu_inv = vec![Mat::zeros(du, du); t_len];
    for t in (0..t_len).rev() {
        let cm = c.cm.at(t).to_owned();
        let cv = Mat::from_fn(dx + du, 1, |i, _| c.cv.at(t)[i]);
        let (mut q, mut qv) = (cm, cv);
        if t + 1 < t_len {
            let f = d.fm.at(t);
            let fv = Mat::from_fn(dx, 1, |i, _| d.fv.at(t)[i]);
            q = &q + f.transpose() * &p * f;
            qv = &qv + f.transpose() * (&pv + &p * &fv);
        }
        let quu = q.submatrix(dx, dx, du, du).to_owned();
        let lu = quu.partial_piv_lu();
        let k = -lu.solve(q.submatrix(dx, 0, du, dx));
        let kff = -lu.solve(qv.submatrix(dx, 0, du, 1));
        p = q.submatrix(0, 0, dx, dx) + q.submatrix(0, dx, dx, du) * &k;
        p = (&p + p.transpose()) * 0.5;
        pv = qv.submatrix(0, 0, dx, 1) + q.submatrix(0, dx, dx, du) * &kff;
        ks[t] = k;
        kffs[t] = kff;
        quu_inv[t] = lu.solve(Mat::<f64>::identity(du, du));
    }
    (ks, kffs, quu_inv)
}

#[test]
fn unbounded_step_gives_the_riccati_controller() {
    let (t, dx, du) = (30, 6, 2);
    let dynamics = linear_system(1, t, dx, du, 0.01);
    let cost = quadratic_cost(2, t, dx, du);
    let prev = random_policy(3, t, dx, du, 1.0);
    let (ks, kffs, _) = riccati(&dynamics, &cost);
    for per_step in [false, true] {
        // An effectively unbounded step: a huge KL target and η allowed down to 1e-14.
        let config = LqrFlmConfig {
            min_eta: 1e-14,
            per_step,
            ..LqrFlmConfig::default()
        };
        let mut solver = LqrFlm::new(t, dx, du);
        let res = solver
            .update(&dynamics, &cost, &prev, &vec![1e12; t], &[1.0], &config)
            .unwrap();
        assert!(res.converged);
        for s in 0..t {
            let k = res.policy.gain().at(s);
            let kff = res.policy.offset().at(s);
            let scale = 1.0 + ks[s].norm_max();
            assert!(
                (k - ks[s].as_ref()).norm_max() < 1e-8 * scale,
                "K at step {s}"
            );
            for i in 0..du {
                assert!((kff[i] - kffs[s][(i, 0)]).abs() < 1e-8 * (1.0 + kffs[s].norm_max()));
            }
        }
    }
}

#[test]
fn finite_step_meets_the_kl_target_per_step_and_in_total() {
    let (t, dx, du) = (40, 8, 3);
    let dynamics = linear_system(11, t, dx, du, 0.01);
    let cost = quadratic_cost(12, t, dx, du);
    let prev = random_policy(13, t, dx, du, 1.0);
    // Per step: ε_t falling from 0.6 to 0.2 along the horizon, as in the paper's pusher.
    let targets: Vec<f64> = (0..t)
        .map(|s| 0.6 + (0.2 - 0.6) * s as f64 / (t - 1) as f64)
        .collect();
    let config = LqrFlmConfig::default();
    let mut solver = LqrFlm::new(t, dx, du);
    let res = solver
        .update(&dynamics, &cost, &prev, &targets, &[1.0], &config)
        .unwrap();
    assert!(
        res.converged,
        "per-step search did not converge in {} passes",
        res.iterations
    );
    for s in 0..t {
        let inactive = res.eta[s] <= config.min_eta * (1.0 + 1e-9) && res.kl[s] < targets[s];
        assert!(
            (res.kl[s] - targets[s]).abs() < 0.1 * targets[s] || inactive,
            "step {s}: KL {} vs {}",
            res.kl[s],
            targets[s]
        );
    }
    // The KL reported is the KL of the returned controller.
    let check = policy_kl(&res.policy, &prev, &res.trajectory).unwrap();
    for s in 0..t {
        assert!((check[s] - res.kl[s]).abs() < 1e-9 * (1.0 + res.kl[s]));
    }
    // Warm-started from its own η, the search is done in fewer passes.
    let warm = solver
        .update(&dynamics, &cost, &prev, &targets, &res.eta, &config)
        .unwrap();
    assert!(warm.converged && warm.iterations < res.iterations);
    // Global η: the total meets Σ ε_t.
    let global = LqrFlmConfig {
        per_step: false,
        ..config
    };
    let res = solver
        .update(&dynamics, &cost, &prev, &targets, &[1.0], &global)
        .unwrap();
    let total: f64 = targets.iter().sum();
    assert!(res.converged);
    assert!(
        (res.kl_total - total).abs() < 0.1 * total,
        "{} vs {total}",
        res.kl_total
    );
}

#[test]
fn closed_form_kl_matches_monte_carlo() {
    let (t, dx, du) = (1, 4, 3);
    let new = random_policy(21, t, dx, du, 1.0);
    let reference = random_policy(22, t, dx, du, 2.0);
    let mut r = rng(23);
    let sigma_x = spd(&mut r, dx, 0.2);
    let mu_x: Vec<f64> = (0..dx).map(|_| normal(&mut r)).collect();
    let mut traj = GaussianTrajectory::zeros(t, dx, du);
    traj.mu.at_mut(0)[..dx].copy_from_slice(&mu_x);
    traj.sigma
        .at_mut(0)
        .submatrix_mut(0, 0, dx, dx)
        .copy_from(sigma_x.as_ref());
    let closed = policy_kl(&new, &reference, &traj).unwrap()[0];
    let lx = sigma_x.llt(faer::Side::Lower).unwrap().L().to_owned();
    let log_density = |p: &LinearGaussianPolicy, x: &[f64], u: &[f64]| {
        let mut m = vec![0.0; du];
        p.mean_action(0, x, &mut m).unwrap();
        let d: Vec<f64> = (0..du).map(|i| u[i] - m[i]).collect();
        let prec = p.precision().at(0);
        let mut q = 0.0;
        for i in 0..du {
            for j in 0..du {
                q += d[i] * prec[(i, j)] * d[j];
            }
        }
        -0.5 * q - 0.5 * crate::kl::log_det_from_chol(p.chol().at(0))
    };
    let draws = 100_000;
    let mut sum = 0.0;
    let (mut x, mut u) = (vec![0.0; dx], vec![0.0; du]);
    for _ in 0..draws {
        let z: Vec<f64> = (0..dx).map(|_| normal(&mut r)).collect();
        for i in 0..dx {
            x[i] = mu_x[i] + (0..=i).map(|j| lx[(i, j)] * z[j]).sum::<f64>();
        }
        let eps: Vec<f64> = (0..du).map(|_| normal(&mut r)).collect();
        new.act_state(0, &x, &eps, &mut u).unwrap();
        sum += log_density(&new, &x, &u) - log_density(&reference, &x, &u);
    }
    let mc = sum / draws as f64;
    assert!(
        closed > 0.1,
        "the test needs a non-trivial KL, got {closed}"
    );
    assert!(
        (mc - closed).abs() < 0.02 * closed,
        "closed {closed} vs MC {mc}"
    );
}

#[test]
fn non_pd_at_the_first_step_is_a_typed_error() {
    let (t, dx, du) = (5, 2, 1);
    let dynamics = linear_system(31, t, dx, du, 0.0);
    let mut cost = quadratic_cost(32, t, dx, du);
    // Strongly concave in u at t = 0 only.
    cost.cm.at_mut(0)[(dx, dx)] = -1e3;
    let prev = random_policy(33, t, dx, du, 1.0);
    let mut solver = LqrFlm::new(t, dx, du);
    // The bound of one global η is max_eta; that of a per-step η_t is max_eta times the
    // step's scale (here ≥ 1e3), so it needs max_eta well below 1 to stay under the
    // concavity.
    for (per_step, max_eta) in [(false, 1.0), (true, 0.1)] {
        let config = LqrFlmConfig {
            max_eta,
            per_step,
            ..LqrFlmConfig::default()
        };
        let err = solver
            .update(&dynamics, &cost, &prev, &vec![0.1; t], &[1e-3], &config)
            .unwrap_err();
        match err {
            TrajOptError::NotPositiveDefinite {
                step,
                eta,
                min_eigenvalue,
            } => {
                assert_eq!(step, 0, "per_step {per_step}");
                if per_step {
                    assert!(eta > 10.0 * max_eta, "per-step bound {eta}");
                } else {
                    assert!(eta <= 1.0 && eta > 0.4, "global η {eta}");
                }
                assert!(min_eigenvalue < 0.0);
            }
            other => panic!("per_step {per_step}: unexpected {other:?}"),
        }
    }
    // With room for η the same problem is solved: η_0 is raised past the concavity.
    let res = solver
        .update(
            &dynamics,
            &cost,
            &prev,
            &vec![0.1; t],
            &[1e-3],
            &LqrFlmConfig::default(),
        )
        .unwrap();
    let p = prev.precision().at(0)[(0, 0)];
    assert!(res.eta[0] * p > 1e3 * 0.5, "η_0 = {}", res.eta[0]);
    assert!(res.policy.gain().check_finite().is_ok());
}

#[test]
fn eta_bound_and_nan_inputs_are_typed_errors() {
    let (t, dx, du) = (6, 3, 2);
    let dynamics = linear_system(41, t, dx, du, 0.01);
    let cost = quadratic_cost(42, t, dx, du);
    let prev = random_policy(43, t, dx, du, 1.0);
    // A tiny step with η capped low cannot be met.
    let config = LqrFlmConfig {
        max_eta: 1e-2,
        ..LqrFlmConfig::default()
    };
    for per_step in [true, false] {
        let cfg = LqrFlmConfig {
            per_step,
            ..config.clone()
        };
        let err = LqrFlm::new(t, dx, du)
            .update(&dynamics, &cost, &prev, &vec![1e-6; t], &[1.0], &cfg)
            .unwrap_err();
        assert!(
            matches!(err, TrajOptError::EtaBound { kl, target, .. } if kl > target),
            "{err:?}"
        );
    }
    let mut bad = dynamics.clone();
    bad.fm.at_mut(2)[(1, 1)] = f64::NAN;
    let err = LqrFlm::new(t, dx, du)
        .update(&bad, &cost, &prev, &vec![0.1; t], &[1.0], &config)
        .unwrap_err();
    assert_eq!(
        err,
        TrajOptError::NonFinite {
            field: "dynamics Fm",
            step: 2
        }
    );
    let mut bad = cost.clone();
    bad.cv.at_mut(4)[0] = f64::INFINITY;
    let err = LqrFlm::new(t, dx, du)
        .update(&dynamics, &bad, &prev, &vec![0.1; t], &[1.0], &config)
        .unwrap_err();
    assert_eq!(
        err,
        TrajOptError::NonFinite {
            field: "cost cv",
            step: 4
        }
    );
    let err = LqrFlm::new(t, dx, du)
        .update(&dynamics, &cost, &prev, &vec![0.1; t - 1], &[1.0], &config)
        .unwrap_err();
    assert!(matches!(err, TrajOptError::Dimension { .. }));
}

#[test]
fn expected_cost_matches_monte_carlo_rollouts() {
    let (t, dx, du) = (8, 3, 2);
    let dynamics = linear_system(51, t, dx, du, 0.02);
    let cost = quadratic_cost(52, t, dx, du);
    let policy = random_policy(53, t, dx, du, 0.5);
    let (total, _) = estimate_cost(&policy, &dynamics, &cost).unwrap();
    let mut r = rng(54);
    let draws = 20_000;
    let mut sum = 0.0;
    let l0 = dynamics
        .x0sigma
        .at(0)
        .llt(faer::Side::Lower)
        .unwrap()
        .L()
        .to_owned();
    let ldyn = 0.02f64.sqrt();
    for _ in 0..draws {
        let mut x: Vec<f64> = (0..dx)
            .map(|i| dynamics.x0mu[i] + (0..=i).map(|j| l0[(i, j)] * normal(&mut r)).sum::<f64>())
            .collect();
        let mut u = vec![0.0; du];
        for s in 0..t {
            let eps: Vec<f64> = (0..du).map(|_| normal(&mut r)).collect();
            policy.act_state(s, &x, &eps, &mut u).unwrap();
            let y: Vec<f64> = x.iter().chain(u.iter()).copied().collect();
            sum += cost.eval(s, &y);
            if s + 1 < t {
                let fm = dynamics.fm.at(s);
                x = (0..dx)
                    .map(|i| {
                        dynamics.fv.at(s)[i]
                            + (0..dx + du).map(|j| fm[(i, j)] * y[j]).sum::<f64>()
                            + ldyn * normal(&mut r)
                    })
                    .collect();
            }
        }
    }
    let mc = sum / draws as f64;
    assert!(
        (mc - total).abs() < 0.02 * total.abs().max(1.0),
        "{total} vs {mc}"
    );
}

#[test]
fn relative_coordinates_solve_the_normalised_augmented_cost() {
    // DESIGN's Ĉ = C/(η+ω) + η/(η+ω) M, assembled in absolute coordinates and solved as a plain
    // max-entropy LQR (Σ = Q̂_uu⁻¹) by the independent Riccati code, gives the controller of the
    // backward pass in coordinates relative to the reference.
    let (t, dx, du) = (10, 4, 2);
    let dynamics = linear_system(71, t, dx, du, 0.01);
    let cost = quadratic_cost(72, t, dx, du);
    let reference = random_policy(73, t, dx, du, 0.7);
    let (eta, omega) = (0.8, 0.3);
    let normalised = augmented_cost(&cost, &KlTerm::of(&reference), eta, omega);
    let (ks, kffs, covs) = riccati(&dynamics, &normalised);
    let mut solver = LqrFlm::new(t, dx, du);
    solver.prepare(&dynamics, &cost, &reference).unwrap();
    solver.set_eta(&vec![eta; t]).unwrap();
    solver
        .pass(BackwardParams {
            omega,
            min_eta: 1e-8,
            max_eta: 1e16,
            mode: EtaMode::Global,
            value_function: crate::lqr_flm::ValueFunction::Lagrangian,
        })
        .unwrap();
    let out = solver.buffers();
    for s in 0..t {
        assert!((out.gain.at(s) - ks[s].as_ref()).norm_max() < 1e-9);
        assert!((out.cov.at(s) - covs[s].as_ref()).norm_max() < 1e-9);
        for i in 0..du {
            assert!((out.offset.at(s)[i] - kffs[s][(i, 0)]).abs() < 1e-9);
        }
        let log_det = covs[s].determinant().ln();
        assert!((out.log_det[s] - log_det).abs() < 1e-9);
    }
}

#[test]
fn entropy_weight_widens_the_controller() {
    let (t, dx, du) = (15, 3, 2);
    let dynamics = linear_system(81, t, dx, du, 0.01);
    let cost = quadratic_cost(82, t, dx, du);
    let prev = random_policy(83, t, dx, du, 1.0);
    let targets = vec![0.3; t];
    let mut solver = LqrFlm::new(t, dx, du);
    let plain = solver
        .update(
            &dynamics,
            &cost,
            &prev,
            &targets,
            &[1.0],
            &LqrFlmConfig::default(),
        )
        .unwrap();
    let config = LqrFlmConfig {
        omega: 1.0,
        ..LqrFlmConfig::default()
    };
    let wide = solver
        .update(&dynamics, &cost, &prev, &targets, &[1.0], &config)
        .unwrap();
    assert!(wide.converged && plain.converged);
    // Same KL budget; with an entropy bonus the η needed is smaller and each log det Σ_t is no
    // smaller than without it at the same η (checked through the determinant of step 0's Σ at
    // an inactive KL: η → min_eta).
    let loose = vec![1e9; t];
    let a = solver
        .update(
            &dynamics,
            &cost,
            &prev,
            &loose,
            &[1.0],
            &LqrFlmConfig::default(),
        )
        .unwrap();
    let b = solver
        .update(&dynamics, &cost, &prev, &loose, &[1.0], &config)
        .unwrap();
    let det = |p: &LinearGaussianPolicy| crate::kl::log_det_from_chol(p.chol().at(0));
    assert!(det(&b.policy) > det(&a.policy) + 1.0);
}
