//! Bad input: typed errors or documented regularised results, never a panic or NaN.
#![allow(clippy::needless_range_loop)]

mod common;

use common::{Rollout, System};
use faer::Mat;
use pilqr_core::{CoreError, SampleBatch, SampleDims, Trajectory};
use pilqr_dynamics::*;

fn rollout(n: usize, t: usize) -> Rollout {
    Rollout {
        horizon: t,
        n,
        offset: 0.5,
        gain: 0.0,
        action_std: 1.0,
        x0_std: 1.0,
        process_std: 1e-3,
    }
}

fn all_finite(d: &LinearDynamics) -> bool {
    d.fm.as_slice()
        .iter()
        .chain(d.fv.as_slice())
        .chain(d.dyn_covar.as_slice())
        .chain(&d.x0mu)
        .chain(d.x0sigma.as_slice())
        .all(|v| v.is_finite())
}

#[test]
fn non_finite_samples_are_rejected_with_field_and_step() {
    let sys = System::random(3, 1, 0.0, 1);
    let b = rollout(4, 5).run(&sys, 1);
    for (field, bad) in [("states x", f64::NAN), ("actions u", f64::INFINITY)] {
        let mut tr = b.trajectory_owned(2);
        if field == "states x" {
            tr.x[7] = bad;
        } else {
            tr.u[3] = bad;
        }
        let err =
            SampleBatch::from_trajectories(b.dims(), vec![b.trajectory_owned(0), tr]).unwrap_err();
        assert!(
            matches!(err, CoreError::NonFinite { field: f, sample: Some(1), .. } if f == field),
            "{err}"
        );
    }
    // The generic entry points check their own inputs.
    let mut pts = Mat::<f64>::zeros(3, 10);
    pts[(1, 4)] = f64::NAN;
    let err = Gmm::new(GmmConfig::default())
        .fit(pts.as_ref(), 2, 0)
        .unwrap_err();
    assert_eq!(
        err,
        DynamicsError::NonFinite {
            field: "mixture points",
            index: 13
        }
    );
    let err = fit_conditional_gaussian(pts.as_ref(), 2, None, 1e-6).unwrap_err();
    assert!(matches!(err, DynamicsError::NonFinite { .. }));
}

#[test]
fn mismatched_shapes_are_errors() {
    let sys = System::random(3, 1, 0.0, 1);
    let b = rollout(4, 5).run(&sys, 1);
    let mut f = DynamicsFitter::new(DynamicsConfig::default(), 4, 1).unwrap();
    let err = f.update(&b, 0).unwrap_err();
    assert!(
        matches!(
            err,
            DynamicsError::DimensionMismatch {
                field: "batch state dimension dX",
                expected: 4,
                got: 3
            }
        ),
        "{err}"
    );
    let mut f = DynamicsFitter::new(DynamicsConfig::default(), 3, 2).unwrap();
    assert!(matches!(
        f.update(&b, 0),
        Err(DynamicsError::DimensionMismatch { .. })
    ));
    // Horizon change against the buffer: error, state unchanged.
    let mut f = DynamicsFitter::new(DynamicsConfig::default(), 3, 1).unwrap();
    f.update(&b, 0).unwrap();
    let before = f.clone();
    let longer = rollout(4, 6).run(&sys, 2);
    let err = f.update(&longer, 1).unwrap_err();
    assert!(err.to_string().contains("horizon"), "{err}");
    assert!(f == before);
    // Prior of the wrong dimension.
    let prior = NiwPrior::new(vec![0.0; 2], Mat::identity(2, 2), 1.0, 1.0).unwrap();
    let pts = Mat::<f64>::zeros(3, 4);
    assert!(matches!(
        fit_conditional_gaussian(pts.as_ref(), 1, Some(&prior), 0.0),
        Err(DynamicsError::DimensionMismatch { .. })
    ));
    assert!(fit_conditional_gaussian(pts.as_ref(), 4, None, 0.0).is_err());
    // NiwPrior validation.
    assert!(NiwPrior::new(vec![0.0; 2], Mat::identity(3, 3), 1.0, 1.0).is_err());
    assert!(NiwPrior::new(vec![0.0; 2], Mat::identity(2, 2), -1.0, 1.0).is_err());
}

#[test]
fn horizon_below_two_is_a_typed_error() {
    let dims = SampleDims {
        horizon: 1,
        dx: 2,
        du: 1,
        dobs: 0,
    };
    let tr = Trajectory {
        x: vec![1.0, 2.0],
        u: vec![0.5],
        obs: vec![],
        noise: vec![0.0],
        cost: vec![0.0],
    };
    let b = SampleBatch::from_trajectories(dims, vec![tr.clone(), tr]).unwrap();
    for config in [DynamicsConfig::default(), DynamicsConfig::without_prior()] {
        let mut f = DynamicsFitter::new(config, 2, 1).unwrap();
        assert_eq!(
            f.update(&b, 0).unwrap_err(),
            DynamicsError::HorizonTooShort { horizon: 1 }
        );
    }
    assert!(matches!(
        fit_linear_dynamics(&b, 1e-6, 1e-6),
        Err(DynamicsError::HorizonTooShort { horizon: 1 })
    ));
}

#[test]
fn no_data_is_a_typed_error() {
    let empty = Mat::<f64>::zeros(4, 0);
    assert_eq!(
        Gmm::new(GmmConfig::default())
            .fit(empty.as_ref(), 2, 0)
            .unwrap_err(),
        DynamicsError::NoData {
            what: "mixture points"
        }
    );
    assert!(matches!(
        fit_conditional_gaussian(empty.as_ref(), 2, None, 1e-6),
        Err(DynamicsError::NoData { .. })
    ));
    let gmm = Gmm::new(GmmConfig::default());
    assert_eq!(
        gmm.inference(Mat::<f64>::zeros(4, 3).as_ref()).unwrap_err(),
        DynamicsError::NotFitted
    );
    // A SampleBatch can never be empty.
    let dims = SampleDims {
        horizon: 3,
        dx: 2,
        du: 1,
        dobs: 0,
    };
    assert!(SampleBatch::from_trajectories(dims, vec![]).is_err());
}

#[test]
fn constant_dimension_gives_finite_regularised_fits() {
    let sys = System::random(4, 2, 0.0, 2);
    let b = rollout(12, 10).run(&sys, 3);
    // Freeze state entry 2 and action entry 1 to constants.
    let trajs: Vec<Trajectory> = (0..b.len())
        .map(|i| {
            let mut t = b.trajectory_owned(i);
            for s in 0..10 {
                t.x[s * 4 + 2] = 0.7;
                t.u[s * 2 + 1] = -1.0;
            }
            t
        })
        .collect();
    let b = SampleBatch::from_trajectories(b.dims(), trajs).unwrap();
    let plain = fit_linear_dynamics(&b, 1e-6, 1e-6).unwrap();
    assert!(all_finite(&plain));
    // Even with no ridge at all: the jitter fallback keeps it finite.
    let plain0 = fit_linear_dynamics(&b, 0.0, 0.0).unwrap();
    assert!(all_finite(&plain0));
    // x0sigma floors the zero variance.
    assert_eq!(plain.x0sigma.at(0)[(2, 2)], 1e-6);
    let mut f = DynamicsFitter::new(DynamicsConfig::default(), 4, 2).unwrap();
    for it in 0..3 {
        let d = f.update(&b, it).unwrap();
        assert!(all_finite(&d));
    }
}

#[test]
fn fewer_samples_than_dimensions_and_single_sample_stay_finite() {
    let sys = System::random(6, 2, 0.0, 2);
    for n in [1usize, 2, 5] {
        let b = rollout(n, 8).run(&sys, n as u64);
        let plain = fit_linear_dynamics(&b, 1e-6, 1e-6).unwrap();
        assert!(all_finite(&plain), "n = {n}");
        let mut f = DynamicsFitter::new(DynamicsConfig::default(), 6, 2).unwrap();
        let d = f.update(&b, 0).unwrap();
        assert!(all_finite(&d), "n = {n}");
    }
}

#[test]
fn identical_points_do_not_break_the_gmm() {
    let pts = Mat::from_fn(3, 50, |i, _| i as f64);
    let mut gmm = Gmm::new(GmmConfig::default());
    let r = gmm.fit(pts.as_ref(), 4, 0).unwrap();
    assert!(r.log_likelihood().is_finite());
    let p = gmm.inference(pts.as_ref()).unwrap();
    assert!(p.phi.as_ref().norm_max().is_finite());
    // One single point, two components.
    let one = Mat::from_fn(2, 1, |i, _| i as f64);
    let mut gmm = Gmm::new(GmmConfig::default());
    assert!(
        gmm.fit(one.as_ref(), 2, 0)
            .unwrap()
            .log_likelihood()
            .is_finite()
    );
}

#[test]
fn invalid_configs_name_the_field() {
    let c = DynamicsConfig {
        regularization: -1.0,
        ..DynamicsConfig::default()
    };
    assert!(matches!(
        DynamicsFitter::new(c, 2, 1),
        Err(DynamicsError::InvalidConfig {
            field: "regularization",
            ..
        })
    ));
    let c = DynamicsConfig {
        prior: Some(GmmPriorConfig {
            max_samples: 0,
            ..GmmPriorConfig::default()
        }),
        ..DynamicsConfig::default()
    };
    let err = DynamicsFitter::new(c, 2, 1).unwrap_err();
    assert!(err.to_string().contains("prior.max_samples"), "{err}");
    let c = DynamicsConfig {
        prior: Some(GmmPriorConfig {
            covariance_floor: 0.0,
            ..GmmPriorConfig::default()
        }),
        ..DynamicsConfig::default()
    };
    assert!(DynamicsFitter::new(c, 2, 1).is_err());
    assert!(toml::from_str::<DynamicsConfig>("[prior]\nmax_clusterz = 3").is_err());
    let parsed: DynamicsConfig = toml::from_str("").unwrap();
    assert_eq!(parsed, DynamicsConfig::default());
    let parsed: DynamicsConfig = toml::from_str("prior = {}\ninitial_state_var = 0.01").unwrap();
    assert_eq!(parsed.prior, Some(GmmPriorConfig::default()));
    assert_eq!(GmmPriorConfig::default().cluster_count(1980), 20);
    assert_eq!(GmmPriorConfig::default().cluster_count(79), 2);
    assert_eq!(GmmPriorConfig::default().cluster_count(400), 10);
}

#[test]
fn warm_start_on_far_away_data_falls_back_to_a_fresh_fit() {
    let near = Mat::from_fn(2, 200, |i, j| {
        (j % 2) as f64 * 3.0 + 0.01 * ((i + j) % 5) as f64
    });
    let far = Mat::from_fn(2, 200, |i, j| {
        1e160 * (1.0 + (j % 2) as f64) + 1e157 * ((i + j) % 5) as f64
    });
    let mut gmm = Gmm::new(GmmConfig::default());
    gmm.fit(near.as_ref(), 2, 0).unwrap();
    match gmm.update(far.as_ref(), 2, 1) {
        Ok(r) => assert!(r.log_likelihood().is_finite()),
        Err(e) => assert!(
            matches!(
                e,
                DynamicsError::NonFinite { .. } | DynamicsError::NotPositiveDefinite { .. }
            ),
            "{e}"
        ),
    }
    // Moderately far data: the warm start is replaced by a fresh initialisation if needed and
    // the fit is finite either way.
    let shifted = Mat::from_fn(2, 200, |i, j| near[(i, j)] + 1e6);
    let r = gmm.update(shifted.as_ref(), 2, 1).unwrap();
    assert!(r.log_likelihood().is_finite());
    assert!((gmm.mean(0)[0] - 1e6).abs() < 10.0);
}
