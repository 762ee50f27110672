//! Oracle tests of the dynamics fitter: exact recovery, prior vs ridge generalisation, GMM
//! recovery and monotone EM, determinism and checkpoint round trips.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{Rollout, System};
use faer::Mat;
use pilqr_core::SampleBatch;
use pilqr_dynamics::*;
use pilqr_linalg::{Cholesky, Jitter};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

fn excite(n: usize, t: usize) -> Rollout {
    Rollout {
        horizon: t,
        n,
        offset: 0.5,
        gain: 0.0,
        action_std: 1.0,
        x0_std: 1.0,
        process_std: 0.0,
    }
}

fn max_fit_error(d: &LinearDynamics, sys: &System) -> f64 {
    let (dx, du) = (sys.dx, sys.du);
    let mut err: f64 = 0.0;
    for t in 0..d.horizon() - 1 {
        let fm = d.fm.at(t);
        for i in 0..dx {
            for j in 0..dx {
                err = err.max((fm[(i, j)] - sys.a[i * dx + j]).abs());
            }
            for j in 0..du {
                err = err.max((fm[(i, dx + j)] - sys.b[i * du + j]).abs());
            }
            err = err.max((d.fv.at(t)[i] - sys.c[i]).abs());
        }
    }
    err
}

#[test]
fn plain_regression_recovers_noiseless_linear_system() {
    let (dx, du) = (6, 2);
    let sys = System::random(dx, du, 0.0, 3);
    let batch = excite(dx + du + 1, 12).run(&sys, 5);
    let d = fit_linear_dynamics(&batch, 0.0, 1e-6).unwrap();
    let err = max_fit_error(&d, &sys);
    assert!(err < 1e-8, "max error {err:e}");
    for t in 0..11 {
        let c = d.dyn_covar.at(t);
        for j in 0..dx {
            for i in 0..dx {
                assert!(c[(i, j)].abs() < 1e-10);
                assert_eq!(c[(i, j)], c[(j, i)]);
            }
        }
    }
    // Last step has no transition.
    assert!(d.fm.at(11).norm_max() == 0.0);
    // With well-conditioned data the default tiny ridge changes the answer by a tiny amount.
    let batch = excite(60, 12).run(&sys, 6);
    let d = fit_linear_dynamics(&batch, 1e-6, 1e-6).unwrap();
    assert!(max_fit_error(&d, &sys) < 1e-4);
}

#[test]
fn fitter_without_prior_matches_plain_regression() {
    let sys = System::random(4, 2, 0.0, 9);
    let batch = excite(10, 8).run(&sys, 1);
    let mut f = DynamicsFitter::new(DynamicsConfig::without_prior(), 4, 2).unwrap();
    let a = f.update(&batch, 0).unwrap();
    let b = fit_linear_dynamics(&batch, 1e-6, 1e-6).unwrap();
    assert_eq!(a, b);
    assert!(f.last_em_report().is_none());
}

fn one_step_error(d: &LinearDynamics, batch: &SampleBatch) -> f64 {
    let dims = batch.dims();
    let mut err = 0.0;
    let mut count = 0.0;
    for i in 0..batch.len() {
        for t in 0..dims.horizon - 1 {
            let fm = d.fm.at(t);
            let fv = d.fv.at(t);
            let (x, u, xn) = (batch.x(i, t), batch.u(i, t), batch.x(i, t + 1));
            for r in 0..dims.dx {
                let mut p = fv[r];
                for j in 0..dims.dx {
                    p += fm[(r, j)] * x[j];
                }
                for j in 0..dims.du {
                    p += fm[(r, dims.dx + j)] * u[j];
                }
                err += (p - xn[r]).powi(2);
                count += 1.0;
            }
        }
    }
    err / count
}

#[test]
fn prior_beats_ridge_with_few_samples() {
    let (dx, du) = (6, 2);
    let sys = System::random(dx, du, 0.0, 3);
    let ro = excite(5, 30);
    let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
    let mut last = None;
    let mut batch = ro.run(&sys, 100);
    for it in 0..4u64 {
        batch = ro.run(&sys, 100 + it);
        last = Some(fitter.update(&batch, it).unwrap());
    }
    let with_prior = last.unwrap();
    let ridge = fit_linear_dynamics(&batch, 1e-6, 1e-6).unwrap();
    // Covariances: finite, exactly symmetric, positive definite.
    for t in 0..29 {
        let c = with_prior.dyn_covar.at(t);
        for j in 0..dx {
            for i in 0..dx {
                assert!(c[(i, j)].is_finite());
                assert_eq!(c[(i, j)], c[(j, i)]);
            }
        }
        Cholesky::factor(c, Jitter::NONE).expect("dyn_covar is positive definite");
    }
    Cholesky::factor(with_prior.x0sigma.at(0), Jitter::NONE).unwrap();
    let held_out = ro.run(&sys, 999);
    let (ep, er) = (
        one_step_error(&with_prior, &held_out),
        one_step_error(&ridge, &held_out),
    );
    assert!(ep < er, "prior {ep:e} vs ridge {er:e}");
    assert!(ep < 0.2 * er, "prior should help a lot: {ep:e} vs {er:e}");
}

fn three_clusters(n: usize, seed: u64) -> (Mat<f64>, [[f64; 2]; 3], [f64; 3]) {
    let means = [[0.0, 0.0], [6.0, 6.0], [-6.0, 6.0]];
    let weights = [0.5, 0.3, 0.2];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let nrm = Normal::new(0.0, 1.0).unwrap();
    let mut pts = Mat::zeros(2, n);
    for j in 0..n {
        let c = if j < n / 2 {
            0
        } else if j < n * 8 / 10 {
            1
        } else {
            2
        };
        // An anisotropic, correlated cluster shape.
        let (a, b) = (nrm.sample(&mut rng), nrm.sample(&mut rng));
        pts[(0, j)] = means[c][0] + 0.6 * a;
        pts[(1, j)] = means[c][1] + 0.3 * a + 0.4 * b;
    }
    (pts, means, weights)
}

#[test]
fn gmm_recovers_three_separated_clusters() {
    let (pts, means, weights) = three_clusters(3000, 1);
    for seed in 0..5 {
        let mut gmm = Gmm::new(GmmConfig::default());
        let report = gmm.fit(pts.as_ref(), 3, seed).unwrap();
        assert!(report.initialised);
        assert!(
            report.log_likelihoods.windows(2).all(|w| w[1] >= w[0]),
            "{:?}",
            report.log_likelihoods
        );
        for (m, w) in means.iter().zip(weights) {
            let k = (0..3)
                .min_by(|&a, &b| {
                    let da = (gmm.mean(a)[0] - m[0]).powi(2) + (gmm.mean(a)[1] - m[1]).powi(2);
                    let db = (gmm.mean(b)[0] - m[0]).powi(2) + (gmm.mean(b)[1] - m[1]).powi(2);
                    da.total_cmp(&db)
                })
                .unwrap();
            assert!(
                (gmm.mean(k)[0] - m[0]).abs() < 0.05,
                "seed {seed}: {:?}",
                gmm.mean(k)
            );
            assert!(
                (gmm.mean(k)[1] - m[1]).abs() < 0.05,
                "seed {seed}: {:?}",
                gmm.mean(k)
            );
            assert!(
                (gmm.weights()[k] - w).abs() < 0.05,
                "seed {seed}: {:?}",
                gmm.weights()
            );
            // Recovered covariance of the shape [[0.36, 0.18], [0.18, 0.25]].
            let c = gmm.covariance(k);
            assert!((c[(0, 0)] - 0.36).abs() < 0.05 && (c[(0, 1)] - 0.18).abs() < 0.05);
        }
        let r = gmm.responsibilities(pts.as_ref()).unwrap();
        for i in 0..pts.ncols() {
            let s: f64 = (0..3).map(|k| r[(i, k)]).sum();
            assert!((s - 1.0).abs() < 1e-12);
            assert!((0..3).all(|k| (0.0..=1.0).contains(&r[(i, k)])));
        }
    }
}

#[test]
fn em_log_likelihood_never_decreases() {
    // Overlapping clusters and too many components: many iterations, tolerance 0.
    let (mut pts, _, _) = three_clusters(600, 2);
    for j in 0..pts.ncols() {
        pts[(0, j)] *= 0.2;
    }
    let config = GmmConfig {
        tolerance: 0.0,
        max_iterations: 60,
        ..GmmConfig::default()
    };
    let mut gmm = Gmm::new(config);
    let report = gmm.fit(pts.as_ref(), 6, 3).unwrap();
    assert!(report.iterations >= 10, "{report:?}");
    for w in report.log_likelihoods.windows(2) {
        assert!(w[1] >= w[0], "decrease {} -> {}", w[0], w[1]);
    }
    // The kept fit is the best seen, and equals the model's likelihood.
    let best = report
        .log_likelihoods
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(report.log_likelihood(), best);
    let ll = gmm.log_likelihood(pts.as_ref()).unwrap();
    assert!((ll - best).abs() <= 1e-9 * best.abs());
    if let Some(r) = report.rejected {
        assert!(r < best);
        assert_eq!(report.stop, EmStop::LikelihoodDecreased);
    }
    // Warm restart from the fit: starts where it stopped.
    let again = gmm.update(pts.as_ref(), 6, 99).unwrap();
    assert!(!again.initialised);
    assert!(again.log_likelihoods[0] >= best - 1e-9 * best.abs());
}

#[test]
fn convergence_test_is_relative_to_magnitude_and_works_for_negative_ll() {
    let (pts, _, _) = three_clusters(900, 4);
    let mut gmm = Gmm::new(GmmConfig {
        tolerance: 1e-6,
        ..GmmConfig::default()
    });
    let r = gmm.fit(pts.as_ref(), 3, 0).unwrap();
    assert!(r.log_likelihood() < 0.0);
    assert_eq!(r.stop, EmStop::Converged, "{r:?}");
    let ll = r.log_likelihoods;
    let n = ll.len();
    let next = r.rejected.unwrap_or(ll[n - 1]);
    let prev = if r.rejected.is_some() {
        ll[n - 1]
    } else {
        ll[n - 2]
    };
    assert!((next - prev).abs() <= 1e-6 * prev.abs().max(1.0));
}

#[test]
fn inference_matches_mixture_moments() {
    let (pts, _, _) = three_clusters(900, 5);
    let mut gmm = Gmm::new(GmmConfig::default());
    gmm.fit(pts.as_ref(), 3, 0).unwrap();
    let q = pts.as_ref().subcols(0, 50);
    let prior = gmm.inference(q).unwrap();
    let r = gmm.responsibilities(q).unwrap();
    let w: Vec<f64> = (0..3)
        .map(|k| (0..50).map(|i| r[(i, k)]).sum::<f64>() / 50.0)
        .collect();
    let mut mu0 = [0.0; 2];
    for k in 0..3 {
        for d in 0..2 {
            mu0[d] += w[k] * gmm.mean(k)[d];
        }
    }
    for d in 0..2 {
        assert!((prior.mu0[d] - mu0[d]).abs() < 1e-12);
    }
    for a in 0..2 {
        for b in 0..2 {
            let mut s = 0.0;
            for k in 0..3 {
                let (da, db) = (gmm.mean(k)[a] - mu0[a], gmm.mean(k)[b] - mu0[b]);
                s += w[k] * (gmm.covariance(k)[(a, b)] + da * db);
            }
            assert!(
                (prior.phi[(a, b)] - s).abs() < 1e-10,
                "{} vs {s}",
                prior.phi[(a, b)]
            );
        }
    }
    assert_eq!(prior.m, 1.0);
    assert!((prior.n0 - (900.0 - 2.0 - 2.0) / 900.0).abs() < 1e-15);
}

#[test]
fn conditional_fit_with_prior_matches_formula() {
    // Independent evaluation of docs/design.md §4.2's posterior and conditioning.
    let (a, b, n) = (3usize, 2usize, 4usize);
    let d = a + b;
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let nrm = Normal::new(0.0, 1.0).unwrap();
    let pts = Mat::from_fn(d, n, |_, _| nrm.sample(&mut rng));
    let g = Mat::from_fn(d, d, |_, _| nrm.sample(&mut rng));
    let phi = &g * g.transpose();
    let mu0: Vec<f64> = (0..d).map(|_| nrm.sample(&mut rng)).collect();
    let prior = NiwPrior::new(mu0.clone(), phi.clone(), 2.0, 3.0).unwrap();
    let ridge = 1e-3;
    let fit = fit_conditional_gaussian(pts.as_ref(), a, Some(&prior), ridge).unwrap();

    let nf = n as f64;
    let mu: Vec<f64> = (0..d)
        .map(|i| (0..n).map(|j| pts[(i, j)]).sum::<f64>() / nf)
        .collect();
    let mut sigma = Mat::from_fn(d, d, |i, k| {
        let s: f64 = (0..n)
            .map(|j| (pts[(i, j)] - mu[i]) * (pts[(k, j)] - mu[k]))
            .sum();
        let c = nf * 2.0 / (nf + 2.0);
        (s + phi[(i, k)] + c * (mu[i] - mu0[i]) * (mu[k] - mu0[k])) / (nf + 3.0)
    });
    for i in 0..a {
        sigma[(i, i)] += ridge;
    }
    let saa = sigma.as_ref().submatrix(0, 0, a, a).to_owned();
    let sab = sigma.as_ref().submatrix(0, a, a, b).to_owned();
    let sbb = sigma.as_ref().submatrix(a, a, b, b).to_owned();
    let inv = Cholesky::factor(saa.as_ref(), Jitter::NONE)
        .unwrap()
        .inverse();
    let f = (&inv * &sab).transpose().to_owned();
    let cov = &sbb - &f * &saa * f.transpose();
    for r in 0..b {
        for c in 0..a {
            assert!((fit.gain[(r, c)] - f[(r, c)]).abs() < 1e-10);
        }
        let off = mu[a + r] - (0..a).map(|c| f[(r, c)] * mu[c]).sum::<f64>();
        assert!((fit.offset[r] - off).abs() < 1e-10);
        for c in 0..b {
            assert!((fit.covariance[(r, c)] - cov[(r, c)]).abs() < 1e-10);
        }
    }
}

#[test]
fn initial_state_prior_divides_by_n_plus_n0() {
    let sys = System::random(3, 1, 0.0, 1);
    let b1 = excite(6, 5).run(&sys, 1);
    let b2 = excite(4, 5).run(&sys, 2);
    let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), 3, 1).unwrap();
    fitter.update(&b1, 0).unwrap();
    let d = fitter.update(&b2, 1).unwrap();
    // Buffer: the 10 trajectories (max_samples = 20).
    let prior = fitter.prior().unwrap();
    assert_eq!(prior.buffer_len(), 10);
    let x0: Vec<Vec<f64>> = prior.buffer().map(|t| t.x[..3].to_vec()).collect();
    let mu00: Vec<f64> = (0..3)
        .map(|j| x0.iter().map(|x| x[j]).sum::<f64>() / 10.0)
        .collect();
    let var00: Vec<f64> = (0..3)
        .map(|j| x0.iter().map(|x| (x[j] - mu00[j]).powi(2)).sum::<f64>() / 10.0)
        .collect();
    let (m0, n00, nf) = (3.0, 3.0, 4.0);
    let mu: Vec<f64> = (0..3)
        .map(|j| (0..4).map(|i| b2.x(i, 0)[j]).sum::<f64>() / nf)
        .collect();
    for i in 0..3 {
        assert!((d.x0mu[i] - mu[i]).abs() < 1e-14);
        for j in 0..3 {
            let var = (0..4).map(|s| (b2.x(s, 0)[j] - mu[j]).powi(2)).sum::<f64>() / nf;
            let diag = if i == j { var.max(1e-6) } else { 0.0 };
            let phi = if i == j { m0 * var00[j] } else { 0.0 };
            let want = diag
                + (phi + nf * m0 / (nf + m0) * (mu[i] - mu00[i]) * (mu[j] - mu00[j])) / (nf + n00);
            assert!((d.x0sigma.at(0)[(i, j)] - want).abs() < 1e-13, "{i},{j}");
        }
    }
}

#[test]
fn buffer_keeps_exactly_max_samples() {
    let sys = System::random(2, 1, 0.0, 1);
    let config = DynamicsConfig {
        prior: Some(GmmPriorConfig {
            max_samples: 7,
            ..GmmPriorConfig::default()
        }),
        ..DynamicsConfig::default()
    };
    let mut f = DynamicsFitter::new(config, 2, 1).unwrap();
    let mut all = Vec::new();
    for it in 0..4u64 {
        let b = excite(3, 6).run(&sys, it);
        for i in 0..3 {
            all.push(b.trajectory_owned(i).x);
        }
        f.update(&b, it).unwrap();
        let p = f.prior().unwrap();
        assert_eq!(p.buffer_len(), all.len().min(7));
        let kept: Vec<&Vec<f64>> = p.buffer().map(|t| &t.x).collect();
        let expect: Vec<&Vec<f64>> = all[all.len().saturating_sub(7)..].iter().collect();
        assert_eq!(kept, expect);
        assert_eq!(p.gmm().num_components(), 2);
        assert_eq!(p.gmm().fitted_points(), all.len().min(7) * 5);
    }
    // A batch larger than the buffer: only its last max_samples are kept, and the fit uses all.
    let big = excite(9, 6).run(&sys, 50);
    let d = f.update(&big, 9).unwrap();
    assert_eq!(f.prior().unwrap().buffer_len(), 7);
    assert!(d.fm.as_slice().iter().all(|v| v.is_finite()));
}

fn pusher_like() -> (SampleBatch, SampleBatch) {
    common::iterative_batches(8, 2, 30, 10)
}

#[test]
fn same_seed_is_bit_identical() {
    let (a, b) = pusher_like();
    let run = || {
        let mut f = DynamicsFitter::new(DynamicsConfig::default(), 8, 2).unwrap();
        let d1 = f.update(&a, 11).unwrap();
        let d2 = f.update(&b, 12).unwrap();
        (d1, d2, f)
    };
    let (x1, x2, f1) = run();
    let (y1, y2, f2) = run();
    assert!(x1 == y1);
    assert!(x2 == y2);
    assert!(f1 == f2);
    let bits = |d: &LinearDynamics| -> Vec<u64> {
        d.fm.as_slice()
            .iter()
            .chain(d.dyn_covar.as_slice())
            .chain(d.fv.as_slice())
            .map(|v| v.to_bits())
            .collect()
    };
    assert_eq!(bits(&x2), bits(&y2));
    // A different seed still gives a valid fit.
    let mut f = DynamicsFitter::new(DynamicsConfig::default(), 8, 2).unwrap();
    let d = f.update(&a, 999).unwrap();
    assert!(d.fm.as_slice().iter().all(|v| v.is_finite()));
}

#[test]
fn serde_round_trip_reproduces_next_fit() {
    let (a, b) = pusher_like();
    let mut f = DynamicsFitter::new(DynamicsConfig::default(), 8, 2).unwrap();
    f.update(&a, 1).unwrap();
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&f, cfg).unwrap();
    let (mut g, _): (DynamicsFitter, usize) =
        bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    assert!(f == g);
    let json = serde_json::to_string(&f).unwrap();
    let h: DynamicsFitter = serde_json::from_str(&json).unwrap();
    assert_eq!(h.config(), f.config());
    let df = f.update(&b, 2).unwrap();
    let dg = g.update(&b, 2).unwrap();
    assert!(df == dg);
    assert!(f == g);
    // Garbage is an error, not a panic.
    assert!(
        bincode::serde::decode_from_slice::<DynamicsFitter, _>(&bytes[..bytes.len() / 2], cfg)
            .is_err()
    );
    assert!(serde_json::from_str::<DynamicsFitter>("{\"config\": {}}").is_err());
    // A stored GMM with a wrong shape is rejected on load.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["prior"]["gmm"]["weights"] = serde_json::json!([1.0]);
    assert!(serde_json::from_value::<DynamicsFitter>(v).is_err());
}

#[test]
fn gmm_serde_round_trip() {
    let (pts, _, _) = three_clusters(300, 3);
    let mut gmm = Gmm::new(GmmConfig::default());
    gmm.fit(pts.as_ref(), 3, 1).unwrap();
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&gmm, cfg).unwrap();
    let (mut back, _): (Gmm, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    assert!(gmm == back);
    let r1 = gmm.update(pts.as_ref(), 3, 5).unwrap();
    let r2 = back.update(pts.as_ref(), 3, 5).unwrap();
    assert_eq!(r1, r2);
    assert!(gmm == back);
}
