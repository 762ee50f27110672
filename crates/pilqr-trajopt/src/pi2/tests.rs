//! Oracles of PI2: the dual's minimiser, convergence on a quadratic bowl, recovery.
#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use faer::mat;
use pilqr_core::{LinearGaussianPolicy, SampleBatch, SampleDims, Trajectory};
use pilqr_linalg::{MatStack, VecStack};

use super::*;
use crate::test_fixtures::{normal, rng};

#[test]
fn dual_minimiser_meets_the_requested_kl() {
    let mut r = rng(1);
    let n = 20;
    let mut scratch = vec![0.0; n];
    let mut w = vec![0.0; n];
    for trial in 0..50 {
        let scale = 10f64.powi(trial % 5 - 2);
        let s: Vec<f64> = (0..n).map(|_| scale * normal(&mut r).abs() * 3.0).collect();
        for eps in [0.1, 0.5, 1.0, 2.0] {
            let temp = dual_temperature(&s, eps, 1e-12, 1e16, &mut scratch);
            let kl = weights_into(&s, temp.eta, &mut w);
            assert!((kl - eps).abs() < 1e-3, "trial {trial}, ε {eps}: KL {kl}");
            assert!((temp.kl - kl).abs() < 1e-9);
            // It is the minimiser of the dual: neighbours are not lower.
            let g = dual_value(&s, temp.eta, eps);
            for f in [0.99, 1.01] {
                assert!(g <= dual_value(&s, temp.eta * f, eps) + 1e-12 * g.abs().max(1.0));
            }
        }
    }
}

#[test]
fn dual_respects_min_temperature() {
    // Two distinct costs among 20 samples: the KL can never exceed log(20) − …; asking for more
    // pins η at its lower bound.
    let s: Vec<f64> = (0..20).map(|i| if i == 0 { 0.0 } else { 1.0 }).collect();
    let mut scratch = vec![0.0; 20];
    let temp = dual_temperature(&s, 10.0, 0.5, 1e16, &mut scratch);
    assert_eq!(temp.eta, 0.5);
    // Equal costs: any η gives uniform weights and KL 0, the dual is minimal at the bound.
    let temp = dual_temperature(&[3.0; 20], 1.0, 0.5, 1e16, &mut scratch);
    assert_eq!((temp.eta, temp.kl), (0.5, 0.0));
}

/// One-step batch of N draws of `policy` with cost `½ (u − u*)ᵀ W (u − u*)`.
fn bowl_batch(policy: &LinearGaussianPolicy, seed: u64, n: usize) -> SampleBatch {
    let target = [1.5, -0.5];
    let weights = [1.0, 4.0];
    let mut r = rng(seed);
    let dims = SampleDims {
        horizon: 1,
        dx: 1,
        du: 2,
        dobs: 0,
    };
    let trajs = (0..n)
        .map(|_| {
            let eps = vec![normal(&mut r), normal(&mut r)];
            let mut u = vec![0.0; 2];
            policy.act_state(0, &[0.0], &eps, &mut u).unwrap();
            let c = 0.5
                * (0..2)
                    .map(|i| weights[i] * (u[i] - target[i]) * (u[i] - target[i]))
                    .sum::<f64>();
            Trajectory {
                x: vec![0.0],
                u,
                obs: vec![],
                noise: eps,
                cost: vec![c],
            }
        })
        .collect();
    SampleBatch::from_trajectories(dims, trajs).unwrap()
}

#[test]
fn converges_to_the_bottom_of_a_quadratic_bowl() {
    let mut policy = LinearGaussianPolicy::new(
        MatStack::zeros(1, 2, 1),
        VecStack::zeros(1, 2),
        MatStack::repeat(1, mat![[1.0, 0.0], [0.0, 1.0]].as_ref()),
    )
    .unwrap();
    let config = Pi2Config {
        kl_threshold: 1.0,
        ..Pi2Config::default()
    };
    let dist = |p: &LinearGaussianPolicy| {
        let k = p.offset().at(0);
        ((k[0] - 1.5).powi(2) + (k[1] + 0.5).powi(2)).sqrt()
    };
    let d0 = dist(&policy);
    for it in 0..60 {
        let batch = bowl_batch(&policy, 100 + it, 20);
        policy = pi2_update(&policy, &batch, &config).unwrap().policy;
    }
    let cov = policy.cov().at(0);
    assert!(
        dist(&policy) < 1e-2 * d0,
        "distance {} from {d0}",
        dist(&policy)
    );
    assert!(cov[(0, 0)] < 1e-2 && cov[(1, 1)] < 1e-2);
}

#[test]
fn one_hot_weights_are_recovered_not_collapsed() {
    let policy = LinearGaussianPolicy::new(
        MatStack::zeros(1, 2, 1),
        VecStack::zeros(1, 2),
        MatStack::repeat(1, mat![[1.0, 0.0], [0.0, 1.0]].as_ref()),
    )
    .unwrap();
    let batch = bowl_batch(&policy, 7, 20);
    for damping in [0.0, 2.0] {
        // A threshold above log 20 drives η to its floor, where the weights are one-hot.
        let config = Pi2Config {
            kl_threshold: 5.0,
            min_temperature: 1e-9,
            covariance_damping: damping,
            ..Pi2Config::default()
        };
        let res = pi2_update(&policy, &batch, &config).unwrap();
        assert_eq!(res.recovered, vec![0]);
        assert!(res.eta[0] > 1e-9);
        let cov = res.policy.cov().at(0);
        assert!(cov[(0, 0)] > 0.0 && cov[(1, 1)] > 0.0);
        assert!(res.policy.offset().at(0).iter().all(|v| v.is_finite()));
    }
}

#[test]
fn fixed_temperature_mode_uses_the_given_eta() {
    let policy = LinearGaussianPolicy::new(
        MatStack::zeros(1, 2, 1),
        VecStack::zeros(1, 2),
        MatStack::repeat(1, mat![[1.0, 0.0], [0.0, 1.0]].as_ref()),
    )
    .unwrap();
    let batch = bowl_batch(&policy, 9, 20);
    // A huge temperature: uniform weights, the mean is the plain sample mean.
    let config = Pi2Config {
        fixed_temperature: Some(1e12),
        covariance_damping: 0.0,
        ..Pi2Config::default()
    };
    let res = pi2_update(&policy, &batch, &config).unwrap();
    assert_eq!(res.eta, vec![1e12]);
    assert!(res.weight_kl[0] < 1e-9);
    for r in 0..2 {
        let mean = (0..20).map(|i| batch.u(i, 0)[r]).sum::<f64>() / 20.0;
        assert!((res.policy.offset().at(0)[r] - mean).abs() < 1e-9);
    }
}

#[test]
fn bad_configuration_and_sizes_are_rejected() {
    let policy = LinearGaussianPolicy::new(
        MatStack::zeros(2, 2, 1),
        VecStack::zeros(2, 2),
        MatStack::repeat(2, mat![[1.0, 0.0], [0.0, 1.0]].as_ref()),
    )
    .unwrap();
    let one_step = LinearGaussianPolicy::new(
        MatStack::zeros(1, 2, 1),
        VecStack::zeros(1, 2),
        MatStack::repeat(1, mat![[1.0, 0.0], [0.0, 1.0]].as_ref()),
    )
    .unwrap();
    let batch = bowl_batch(&one_step, 1, 5);
    assert!(matches!(
        pi2_update(&policy, &batch, &Pi2Config::default()),
        Err(TrajOptError::Dimension { .. })
    ));
    let config = Pi2Config {
        kl_threshold: f64::NAN,
        ..Pi2Config::default()
    };
    assert!(matches!(
        pi2_update(&one_step, &batch, &config),
        Err(TrajOptError::Config {
            field: "kl_threshold",
            ..
        })
    ));
}

#[test]
fn warm_started_dual_finds_the_same_temperature() {
    let mut r = rng(5);
    let mut scratch = vec![0.0; 20];
    for _ in 0..30 {
        let s: Vec<f64> = (0..20).map(|_| normal(&mut r).abs() * 10.0).collect();
        let cold = dual_temperature(&s, 1.5, 1e-9, 1e16, &mut scratch);
        for guess in [1e-6, 0.3, 7.0, 1e5] {
            let warm = dual_temperature_from(&s, 1.5, 1e-9, 1e16, Some(guess), &mut scratch);
            assert!(
                (warm.eta / cold.eta - 1.0).abs() < 1e-6,
                "{} vs {}",
                warm.eta,
                cold.eta
            );
        }
    }
}

#[test]
fn near_one_hot_weights_do_not_collapse_a_damped_covariance() {
    // A fixed temperature far below the spread of the costs (as PILQR's temperature from the
    // full costs can be for the residual ones): the weights are one-hot up to ~e^-1000. The
    // damped rule would multiply Σ by (tr(Σ⁻¹Σ_ml)/dU)^{1/d} ≈ 0; the recovery raises that
    // step's η to at least the dual's temperature for these costs instead.
    let policy = LinearGaussianPolicy::new(
        MatStack::zeros(1, 2, 1),
        VecStack::zeros(1, 2),
        MatStack::repeat(1, mat![[1.0, 0.0], [0.0, 1.0]].as_ref()),
    )
    .unwrap();
    let mut batch = bowl_batch(&policy, 11, 20);
    let mut trajs: Vec<Trajectory> = (0..batch.len())
        .map(|i| batch.trajectory_owned(i))
        .collect();
    for (i, tr) in trajs.iter_mut().enumerate() {
        tr.cost[0] = 1e3 * i as f64;
    }
    batch = SampleBatch::from_trajectories(batch.dims(), trajs).unwrap();
    for damping in [2.0, 10.0] {
        let config = Pi2Config {
            fixed_temperature: Some(1.0),
            covariance_damping: damping,
            ..Pi2Config::default()
        };
        let res = pi2_update(&policy, &batch, &config).unwrap();
        assert_eq!(res.recovered, vec![0]);
        assert!(res.eta[0] > 1.0);
        assert!(res.weight_kl[0] <= config.kl_threshold + 1e-6);
        let cov = res.policy.cov().at(0);
        // At the dual's temperature the weighted scatter is a sizeable fraction of Σ_old.
        assert!(
            cov[(0, 0)] > 0.1 && cov[(1, 1)] > 0.1,
            "damping {damping}: {cov:?}"
        );
    }
}
