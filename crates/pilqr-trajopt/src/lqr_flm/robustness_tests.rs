//! LQR-FLM on problems that broke the assembled `C + ηM` form: strongly unstable fitted
//! dynamics, large feedback gains and a collapsed reference covariance. With a positive-definite
//! reference precision, a large η must give a positive-definite `Q_uu` and the search must
//! succeed; the only typed failures left are a step whose threshold exceeds the bound of η
//! and, for one global η, a KL still above its target at `max_eta`. Per-step `η_t` are bounded
//! relative to the scale of their step, so the search does not depend on the cost's units.
#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use faer::Mat;
use pilqr_core::{CostModel, LinearGaussianPolicy};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::{MatStack, VecStack, min_eigenvalue};

use super::*;
use crate::kl::policy_kl;
use crate::test_fixtures::*;

/// A pathological problem: `x' = (growth·I + 0.1·R) x + B u` (open-loop unstable for
/// `growth > 1`), a convex cost with a small action weight, and a reference controller whose
/// gains are the max-entropy LQR of another cost with action weight `action_weight` (a small
/// weight gives large, stabilising gains) plus `gain_noise`-sized random gains (which make the
/// closed loop unstable), with covariance `var·I`; `collapsed` shrinks the covariance to
/// `1e-12 … 1e-80` at a few steps, as a PI2 stage with one-hot weights used to do.
struct Case {
    growth: f64,
    action_weight: f64,
    var: f64,
    gain_noise: f64,
    collapsed: bool,
}

fn pathological(seed: u64, case: &Case) -> (LinearDynamics, CostModel, LinearGaussianPolicy) {
    let (t, dx, du) = (50, 4, 2);
    let mut r = rng(seed);
    let mut d = LinearDynamics::zeros(t, dx, du);
    for s in 0..t - 1 {
        let mut fm = d.fm.at_mut(s);
        for i in 0..dx {
            for j in 0..dx {
                fm[(i, j)] = if i == j { case.growth } else { 0.0 } + 0.1 * normal(&mut r);
            }
            for j in 0..du {
                fm[(i, dx + j)] = 0.5 * normal(&mut r);
            }
        }
        for i in 0..dx {
            d.dyn_covar.at_mut(s)[(i, i)] = 1e-4;
        }
    }
    for i in 0..dx {
        d.x0mu[i] = normal(&mut r);
        d.x0sigma.at_mut(0)[(i, i)] = 1e-2;
    }
    let mut c = CostModel::zeros(t, dx, du);
    let mut stabilise = CostModel::zeros(t, dx, du);
    for s in 0..t {
        for i in 0..dx + du {
            c.cm.at_mut(s)[(i, i)] = if i < dx { 1.0 } else { 1e-2 };
            c.cv.at_mut(s)[i] = normal(&mut r);
            stabilise.cm.at_mut(s)[(i, i)] = if i < dx { 1.0 } else { case.action_weight };
        }
    }
    let lqr = max_entropy_lqr(&d, &stabilise, 1.0).expect("convex cost");
    let mut offset = VecStack::zeros(t, du);
    for v in offset.as_mut_slice() {
        *v = normal(&mut r);
    }
    let mut gain = lqr.gain().clone();
    for v in gain.as_mut_slice() {
        *v += case.gain_noise * normal(&mut r);
    }
    let identity = Mat::<f64>::identity(du, du);
    let mut cov = MatStack::repeat(t, (&identity * case.var).as_ref());
    if case.collapsed {
        for (s, v) in [(18, 1e-40), (19, 1e-80), (20, 1e-12), (35, 1e-20)] {
            cov.at_mut(s).copy_from(&identity * v);
        }
    }
    let policy = LinearGaussianPolicy::new(gain, offset, cov).expect("SPD covariance");
    (d, c, policy)
}

/// Collapsed reference covariances with neutral and with open-loop unstable dynamics (large
/// stabilising gains). The assembled `C + ηM` form failed on both with "Q_uu is not positive
/// definite at time step 34 even with eta = 9e15 (the bound)", smallest eigenvalue −3e18 and
/// −2e19.
const CASES: [Case; 2] = [
    Case {
        growth: 1.0,
        action_weight: 1e-2,
        var: 1e-2,
        gain_noise: 0.0,
        collapsed: true,
    },
    Case {
        growth: 1.3,
        action_weight: 1e-4,
        var: 1e-2,
        gain_noise: 0.0,
        collapsed: true,
    },
];

/// A strongly unstable closed loop (the reference's cost under the model is ~1e47). The
/// assembled form failed with "not positive definite at time step 37 even with eta = 5e15".
const UNSTABLE: Case = Case {
    growth: 1.05,
    action_weight: 1e-2,
    var: 1e-2,
    gain_noise: 3.0,
    collapsed: false,
};

#[test]
fn a_large_eta_reproduces_the_reference_and_is_positive_definite() {
    for (case, params) in CASES.iter().enumerate() {
        let (dynamics, cost, reference) = pathological(200, params);
        let (t, dx, du) = (
            reference.horizon(),
            reference.state_dim(),
            reference.action_dim(),
        );
        let mut solver = LqrFlm::new(t, dx, du);
        solver.prepare(&dynamics, &cost, &reference).unwrap();
        let mut previous_kl = f64::INFINITY;
        for eta in [1e4, 1e8, 1e12, 1e16] {
            solver.set_eta(&vec![eta; t]).unwrap();
            let kl = solver
                .pass(BackwardParams {
                    omega: 0.0,
                    min_eta: 1e-8,
                    max_eta: 1e16,
                    mode: EtaMode::Global,
                    value_function: crate::lqr_flm::ValueFunction::Lagrangian,
                })
                .unwrap_or_else(|e| panic!("case {case}, eta {eta:e}: {e}"));
            // Not raised: Q_uu was positive definite at the η given, at every step.
            assert!(solver.eta.iter().all(|&e| e == eta), "case {case}");
            assert!(
                kl.is_finite() && kl <= previous_kl,
                "case {case}: {kl} at {eta:e}"
            );
            previous_kl = kl;
        }
        // At η = 1e16 the new controller is the reference up to round-off.
        let out = solver.buffers();
        for s in 0..t {
            let k_ref = reference.gain().at(s);
            assert!((out.gain.at(s) - k_ref).norm_max() < 1e-6 * (1.0 + k_ref.norm_max()));
            let c_ref = reference.cov().at(s);
            assert!((out.cov.at(s) - c_ref).norm_max() < 1e-6 * c_ref.norm_max());
        }
        assert!(
            previous_kl < 1e-6,
            "case {case}: KL {previous_kl} at η = 1e16"
        );
    }
}

#[test]
fn the_search_succeeds_on_unstable_dynamics_with_large_gains() {
    for (case, params) in CASES.iter().enumerate() {
        let (dynamics, cost, reference) = pathological(200, params);
        let t = reference.horizon();
        let targets = vec![0.5; t];
        let (before, _) = estimate_cost(&reference, &dynamics, &cost).unwrap();
        for per_step in [true, false] {
            let config = LqrFlmConfig {
                per_step,
                ..LqrFlmConfig::default()
            };
            let mut solver = LqrFlm::new(t, reference.state_dim(), reference.action_dim());
            let res = solver
                .update(&dynamics, &cost, &reference, &targets, &[1.0], &config)
                .unwrap_or_else(|e| panic!("case {case}, per_step {per_step}: {e}"));
            assert!(res.converged, "case {case}, per_step {per_step}");
            if per_step {
                for s in 0..t {
                    let inactive =
                        res.eta[s] <= config.min_eta * (1.0 + 1e-9) && res.kl[s] < targets[s];
                    assert!(
                        (res.kl[s] - targets[s]).abs() < 0.1 * targets[s] || inactive,
                        "case {case}, step {s}: KL {}",
                        res.kl[s]
                    );
                }
            } else {
                assert!((res.kl_total - 0.5 * t as f64).abs() < 0.1 * 0.5 * t as f64);
            }
            // The KL reported is the closed-form KL of the returned controller in absolute
            // coordinates (an independent computation).
            let check = policy_kl(&res.policy, &reference, &res.trajectory).unwrap();
            for s in 0..t {
                assert!(
                    (check[s] - res.kl[s]).abs() < 1e-6 * (1.0 + res.kl[s]),
                    "case {case}, step {s}: {} vs {}",
                    check[s],
                    res.kl[s]
                );
            }
            // The new controller minimises cost + Σ η_t KL_t, which the reference attains with
            // KL = 0: its expected cost under the model cannot be higher.
            let (after, _) = estimate_cost(&res.policy, &dynamics, &cost).unwrap();
            assert!(
                after <= before + 1e-9 * before.abs(),
                "case {case}: {after} > {before}"
            );
        }
    }
}

#[test]
fn a_strongly_unstable_closed_loop_is_solved_with_room_for_eta() {
    let (dynamics, cost, reference) = pathological(200, &UNSTABLE);
    let (t, dx, du) = (
        reference.horizon(),
        reference.state_dim(),
        reference.action_dim(),
    );
    let targets = vec![0.5; t];
    let (before, _) = estimate_cost(&reference, &dynamics, &cost).unwrap();
    assert!(
        before > 1e40,
        "the reference's cost under the model: {before:e}"
    );
    // Values of ~1e47 need η far above 1e16 for a KL of 0.5. One global η at the default
    // bound stops there: a typed KL-bound error (not an indefinite Q_uu).
    let global = LqrFlmConfig {
        per_step: false,
        ..LqrFlmConfig::default()
    };
    let err = LqrFlm::new(t, dx, du)
        .update(&dynamics, &cost, &reference, &targets, &[1.0], &global)
        .unwrap_err();
    assert!(
        matches!(err, TrajOptError::EtaBound { kl, target, .. } if kl > target),
        "{err:?}"
    );
    // Per-step η_t are bounded relative to each step's curvature, so the default settings
    // solve it; so does a global η given room.
    for config in [
        LqrFlmConfig::default(),
        LqrFlmConfig {
            max_eta: 1e60,
            ..LqrFlmConfig::default()
        },
    ] {
        check_unstable_solution(&dynamics, &cost, &reference, &config, before);
    }
}

/// The checks of [`a_strongly_unstable_closed_loop_is_solved_with_room_for_eta`] for one
/// configuration.
fn check_unstable_solution(
    dynamics: &LinearDynamics,
    cost: &CostModel,
    reference: &LinearGaussianPolicy,
    config: &LqrFlmConfig,
    before: f64,
) {
    let (t, dx, du) = (
        reference.horizon(),
        reference.state_dim(),
        reference.action_dim(),
    );
    let targets = vec![0.5; t];
    let res = LqrFlm::new(t, dx, du)
        .update(dynamics, cost, reference, &targets, &[1.0], config)
        .unwrap();
    assert!(res.converged);
    assert!(res.eta.iter().any(|&e| e > 1e40));
    for s in 0..t {
        let inactive = res.eta[s] <= config.min_eta * (1.0 + 1e-9) && res.kl[s] < targets[s];
        assert!((res.kl[s] - targets[s]).abs() < 0.1 * targets[s] || inactive);
    }
    // The KL in absolute coordinates subtracts K̄ from K = K̄ + ΔK: its round-off, times state
    // covariances that grow to ~1e46, swamps it late in the horizon (which is why the solver
    // works relative to the reference). Compare where the states are still moderate.
    let check = policy_kl(&res.policy, reference, &res.trajectory).unwrap();
    let mut compared = 0;
    for s in 0..t {
        let sx = res.trajectory.sigma.at(s);
        if sx.submatrix(0, 0, dx, dx).norm_max() < 1e4 {
            assert!(
                (check[s] - res.kl[s]).abs() < 1e-6 * (1.0 + res.kl[s]),
                "step {s}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 3);
    let (after, _) = estimate_cost(&res.policy, dynamics, cost).unwrap();
    assert!(after <= before, "{after:e} > {before:e}");
}

#[test]
fn an_unreachable_threshold_names_the_step_eta_and_eigenvalue() {
    // Concave in u at the last step, where Q_uu + ηP̄ = C_uu + ηP̄ exactly.
    let plain = Case {
        growth: 1.0,
        action_weight: 1e-2,
        var: 1.0,
        gain_noise: 0.0,
        collapsed: false,
    };
    let (dynamics, mut cost, reference) = pathological(210, &plain);
    let (t, dx, du) = (
        reference.horizon(),
        reference.state_dim(),
        reference.action_dim(),
    );
    for i in 0..du {
        cost.cm.at_mut(t - 1)[(dx + i, dx + i)] = -50.0;
    }
    // Q_zz = C_uu = −50·I there (unit reference covariance), so η must exceed 50. A global η
    // stops at max_eta; a per-step η_t at max_eta times the step's scale, at least
    // 50·max_eta (see `eta_ceiling`), so the per-step case needs max_eta below 1 to fail.
    for (per_step, max_eta) in [(true, 0.5), (false, 10.0)] {
        let config = LqrFlmConfig {
            max_eta,
            per_step,
            ..LqrFlmConfig::default()
        };
        let err = LqrFlm::new(t, dx, du)
            .update(&dynamics, &cost, &reference, &vec![0.5; t], &[1.0], &config)
            .unwrap_err();
        match err {
            TrajOptError::NotPositiveDefinite {
                step,
                eta,
                min_eigenvalue: reported,
            } => {
                assert_eq!(step, t - 1);
                if per_step {
                    assert!((25.0..50.0).contains(&eta), "per-step bound {eta}");
                } else {
                    assert_eq!(eta, max_eta);
                }
                // The eigenvalue reported is Q_uu's at the η reported.
                let mut quu = cost.cm.at(t - 1).submatrix(dx, dx, du, du).to_owned();
                quu += reference.precision().at(t - 1) * eta;
                let want = min_eigenvalue(quu.as_ref());
                assert!(want < 0.0);
                assert!((reported - want).abs() < 1e-9 * want.abs());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn the_per_step_search_is_invariant_to_the_scale_of_the_cost() {
    // Multiplying the cost by c multiplies Q_zz, Y and h by c, so (with ω = 0) the KL of every
    // step satisfies KL_t(c·η) = KL_t(η): the same controller, every η_t times c. At c = 1e20
    // the η_t needed are far above max_eta = 1e16, where a fixed bound stopped the search.
    let (t, dx, du) = (20, 6, 3);
    let dynamics = linear_system(300, t, dx, du, 0.01);
    let cost = quadratic_cost(301, t, dx, du);
    let reference = random_policy(302, t, dx, du, 0.5);
    let targets = vec![0.05; t];
    let config = LqrFlmConfig::default();
    let solve = |cost: &CostModel| {
        LqrFlm::new(t, dx, du)
            .update(&dynamics, cost, &reference, &targets, &[1.0], &config)
            .unwrap()
    };
    let base = solve(&cost);
    let c = 1e20;
    let mut scaled = cost.clone();
    for v in scaled.cm.as_mut_slice() {
        *v *= c;
    }
    for v in scaled.cv.as_mut_slice() {
        *v *= c;
    }
    for v in &mut scaled.cc {
        *v *= c;
    }
    let big = solve(&scaled);
    assert!(base.converged && big.converged);
    // Every constraint is active (η_t above its floor), so the invariance applies at every step.
    assert!(base.eta.iter().all(|&e| e > 1e3 * config.min_eta));
    assert!(big.eta.iter().all(|&e| e > config.max_eta));
    for s in 0..t {
        let ratio = big.eta[s] / (c * base.eta[s]);
        assert!((ratio - 1.0).abs() < 1e-6, "step {s}: η ratio {ratio}");
        assert!(
            (big.kl[s] - base.kl[s]).abs() < 1e-6 * base.kl[s],
            "step {s}"
        );
    }
    let rel = |a: &[f64], b: &[f64]| {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        a.iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
            / scale
    };
    let (p, q) = (&big.policy, &base.policy);
    assert!(rel(p.gain().as_slice(), q.gain().as_slice()) < 1e-6);
    assert!(rel(p.offset().as_slice(), q.offset().as_slice()) < 1e-6);
    assert!(rel(p.cov().as_slice(), q.cov().as_slice()) < 1e-6);
}
