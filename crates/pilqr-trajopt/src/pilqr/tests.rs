//! PILQR with the true model of a deterministic linear system: no residual, so the PI2 stage
//! sees uniform weights.
#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use pilqr_core::{SampleBatch, SampleDims, Trajectory};

use super::*;
use crate::lqr_flm::LqrFlmConfig;
use crate::test_fixtures::*;

/// Roll out `policy` in the true linear model from `x0mu` (no process noise), scoring with the
/// quadratic cost model itself plus, per step, `unmodelled` times a standard normal draw (a cost
/// the model cannot predict).
fn rollouts(
    policy: &LinearGaussianPolicy,
    dynamics: &LinearDynamics,
    cost: &CostModel,
    n: usize,
    seed: u64,
    unmodelled: f64,
) -> SampleBatch {
    let (t_len, dx, du) = (policy.horizon(), policy.state_dim(), policy.action_dim());
    let mut r = rng(seed);
    let trajs = (0..n)
        .map(|_| {
            let noise: Vec<f64> = (0..t_len * du).map(|_| normal(&mut r)).collect();
            let (mut xs, mut us, mut cs) = (vec![], vec![], vec![]);
            let mut x = dynamics.x0mu.clone();
            for t in 0..t_len {
                let mut u = vec![0.0; du];
                policy
                    .act_state(t, &x, &noise[t * du..(t + 1) * du], &mut u)
                    .unwrap();
                let y: Vec<f64> = x.iter().chain(&u).copied().collect();
                cs.push(cost.eval(t, &y) + unmodelled * normal(&mut r));
                xs.extend_from_slice(&x);
                us.extend_from_slice(&u);
                if t + 1 < t_len {
                    let fm = dynamics.fm.at(t);
                    x = (0..dx)
                        .map(|i| {
                            dynamics.fv.at(t)[i]
                                + (0..dx + du).map(|j| fm[(i, j)] * y[j]).sum::<f64>()
                        })
                        .collect();
                }
            }
            Trajectory {
                x: xs,
                u: us,
                obs: vec![],
                noise,
                cost: cs,
            }
        })
        .collect();
    let dims = SampleDims {
        horizon: t_len,
        dx,
        du,
        dobs: 0,
    };
    SampleBatch::from_trajectories(dims, trajs).unwrap()
}

#[test]
fn true_linear_model_leaves_no_residual_and_pi2_only_averages_noise() {
    let (t, dx, du, n) = (25, 5, 2, 20);
    let dynamics = linear_system(61, t, dx, du, 0.0);
    let cost = quadratic_cost(62, t, dx, du);
    let prev = random_policy(63, t, dx, du, 0.3);
    let batch = rollouts(&prev, &dynamics, &cost, n, 64, 0.0);
    let approx = approximate_costs(&prev, &dynamics, &cost, &batch).unwrap();
    let residual = residual_costs(&batch, &approx).unwrap();
    let num: f64 = residual.iter().map(|r| r.abs()).sum();
    let den: f64 = batch.cost_all().iter().map(|c| c.abs()).sum();
    assert!(num / den < 1e-6, "relative residual {}", num / den);

    let mut lqr = LqrFlm::new(t, dx, du);
    let targets = vec![0.5; t];
    let res = pilqr_update(
        &mut lqr,
        PilqrInputs {
            previous: &prev,
            kl_reference: None,
            dynamics: &dynamics,
            cost: &cost,
            batch: &batch,
            approximated: &approx,
            kl_targets: &targets,
            eta_init: &[1.0],
        },
        &LqrFlmConfig::default(),
        &Pi2Config::default(),
    )
    .unwrap();
    let p_hat = &res.lqr.policy;
    // Uniform weights: the PI2 mean is k̂ plus the sample average of L̂ ε, a zero-mean term of
    // size ~ chol(Σ̂)/√N; nothing else moves k.
    for s in 0..t {
        assert!(res.pi2.weight_kl[s] < 1e-6, "step {s}: weights not uniform");
        let mean_eps: Vec<f64> = (0..du)
            .map(|j| (0..n).map(|i| batch.noise(i, s)[j]).sum::<f64>() / n as f64)
            .collect();
        let l = p_hat.chol().at(s);
        for r in 0..du {
            let want =
                p_hat.offset().at(s)[r] + (0..=r).map(|c| l[(r, c)] * mean_eps[c]).sum::<f64>();
            let got = res.policy.offset().at(s)[r];
            assert!(
                (got - want).abs() < 1e-9 * (1.0 + want.abs()),
                "step {s}: {got} vs {want}"
            );
            assert!(
                (got - p_hat.offset().at(s)[r]).abs()
                    < 4.0 * l[(r, r)].abs().max(l.norm_max()) / (n as f64).sqrt() * du as f64
            );
        }
        // The gains are LQR's.
        assert_eq!(res.policy.gain().at(s), p_hat.gain().at(s));
    }
}

/// With a cost model 100× too large, the residual costs-to-go vary ~100× more than the full
/// ones. `residual-costs` temperatures give the PI2 stage's weights exactly `kl_threshold` of KL
/// to uniform per step; `full-costs` temperatures (docs/design.md §4.5) collapse them.
#[test]
fn residual_cost_temperature_bounds_the_pi2_stage_kl() {
    let (t, dx, du, n) = (25, 5, 2, 20);
    let dynamics = linear_system(61, t, dx, du, 0.0);
    let cost = quadratic_cost(62, t, dx, du);
    let prev = random_policy(63, t, dx, du, 0.3);
    let batch = rollouts(&prev, &dynamics, &cost, n, 64, 0.0);
    let mut wrong = cost.clone();
    wrong.cm.as_mut_slice().iter_mut().for_each(|v| *v *= 100.0);
    wrong.cv.as_mut_slice().iter_mut().for_each(|v| *v *= 100.0);
    wrong.cc.iter_mut().for_each(|v| *v *= 100.0);
    let approx = approximate_costs(&prev, &dynamics, &wrong, &batch).unwrap();
    let targets = vec![0.5; t];
    let run = |temperature: PilqrTemperature| {
        let mut lqr = LqrFlm::new(t, dx, du);
        let pi2 = Pi2Config {
            kl_threshold: 1.0,
            pilqr_temperature: temperature,
            ..Pi2Config::default()
        };
        pilqr_update(
            &mut lqr,
            PilqrInputs {
                previous: &prev,
                kl_reference: None,
                dynamics: &dynamics,
                cost: &wrong,
                batch: &batch,
                approximated: &approx,
                kl_targets: &targets,
                eta_init: &[1.0],
            },
            &LqrFlmConfig::default(),
            &pi2,
        )
        .unwrap()
    };
    let residual = run(PilqrTemperature::ResidualCosts);
    assert!(
        residual.pi2.recovered.is_empty(),
        "{:?}",
        residual.pi2.recovered
    );
    for (s, kl) in residual.pi2.weight_kl.iter().enumerate() {
        assert!((kl - 1.0).abs() < 1e-3, "step {s}: weight KL {kl}");
    }
    // Temperatures sized for the full costs are ~100× too cold for the residuals: the weights
    // go one-hot and the covariance collapses, so PI2's recovery has to re-raise η.
    let full = run(PilqrTemperature::FullCosts);
    assert!(
        full.pi2.recovered.len() > t / 2,
        "only steps {:?} collapsed",
        full.pi2.recovered
    );
}
