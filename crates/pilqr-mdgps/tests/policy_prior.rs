//! The policy linearisation: a linear global policy is recovered exactly enough, a trained
//! network is linearised back to the controller it was trained on, the buffer modes, errors,
//! and the checkpoint round trip.

mod common;

use common::{Problem, conditions, controller, rollouts};
use pilqr_core::{CoreError, LinearGaussianPolicy, Policy, RunSeed};
use pilqr_dynamics::{DynamicsError, GmmPriorConfig};
use pilqr_mdgps::{
    GlobalPolicy, MdgpsError, MlpConfig, NnPolicy, PolicyPriorConfig, PolicyPriorGmm,
    PolicySampleMode, SStepConfig, s_step,
};

/// `μ(o) = K o + k`, `Σ_π = diag(variance)`: the linear global policy of docs/design.md §4.6.
struct LinearGlobal {
    gain: Vec<f64>,
    offset: Vec<f64>,
    variance: Vec<f64>,
}

impl LinearGlobal {
    fn from_controller(c: &LinearGaussianPolicy, variance: f64) -> Self {
        let (du, dx) = (c.action_dim(), c.state_dim());
        let k = c.gain().at(0);
        LinearGlobal {
            gain: (0..du * dx).map(|r| k[(r / dx, r % dx)]).collect(),
            offset: c.offset().at(0).to_vec(),
            variance: vec![variance; du],
        }
    }
}

impl Policy for LinearGlobal {
    fn action_dim(&self) -> usize {
        self.offset.len()
    }
    fn act(
        &self,
        _: usize,
        _: &[f64],
        obs: &[f64],
        noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError> {
        self.mean_action(obs, u)
            .map_err(|e| CoreError::InvalidParameter {
                field: "obs",
                reason: e.to_string(),
            })?;
        for ((ui, v), e) in u.iter_mut().zip(&self.variance).zip(noise) {
            *ui += v.sqrt() * e;
        }
        Ok(())
    }
}

impl GlobalPolicy for LinearGlobal {
    fn obs_dim(&self) -> usize {
        self.gain.len() / self.offset.len()
    }
    fn mean_action(&self, obs: &[f64], u: &mut [f64]) -> Result<(), MdgpsError> {
        let d = obs.len();
        for (r, ui) in u.iter_mut().enumerate() {
            *ui = self.offset[r] + (0..d).map(|j| self.gain[r * d + j] * obs[j]).sum::<f64>();
        }
        Ok(())
    }
    fn variance(&self) -> &[f64] {
        &self.variance
    }
}

/// Largest `|pol_K − K|`, `|pol_k − k|` over all steps and entries.
fn max_errors(lin: &LinearGaussianPolicy, c: &LinearGaussianPolicy) -> (f64, f64) {
    let (mut ek, mut eo) = (0.0f64, 0.0f64);
    for t in 0..lin.horizon() {
        let (a, b) = (lin.gain().at(t), c.gain().at(t));
        for i in 0..c.action_dim() {
            for j in 0..c.state_dim() {
                ek = ek.max((a[(i, j)] - b[(i, j)]).abs());
            }
            eo = eo.max((lin.offset().at(t)[i] - c.offset().at(t)[i]).abs());
        }
    }
    (ek, eo)
}

const P: Problem = Problem {
    horizon: 30,
    dx: 4,
    du: 2,
    samples: 10,
};

#[test]
fn a_linear_global_policy_is_linearised_to_itself_plus_its_variance() {
    let seed = RunSeed::new(31);
    let local = controller(P, 0.2, seed);
    let global = LinearGlobal::from_controller(&local, 0.05);
    let batch = rollouts(P, &local, seed, 0);
    let mut prior = PolicyPriorGmm::new(PolicyPriorConfig::default(), P.dx, P.dx).unwrap();
    prior.update(&batch, &global, 7).unwrap();
    let lin = prior.linearize(&batch, &global).unwrap();
    let (ek, eo) = max_errors(&lin, &local);
    // μ is exactly linear in x, in the data and in the mixture: only the ridge and jitter of
    // the regression can move the fit.
    assert!(
        ek < 1e-4 && eo < 1e-4,
        "gain error {ek:e}, offset error {eo:e}"
    );
    for t in 0..P.horizon {
        let s = lin.cov().at(t);
        for j in 0..P.du {
            assert!((s[(j, j)] - 0.05).abs() < 1e-4, "pol_S[{t}] = {s:?}");
        }
    }
}

#[test]
fn a_trained_network_is_linearised_back_to_its_teacher() {
    // The data of the S-step recovery test (tests/s_step.rs), where the network itself meets
    // the criterion.
    const P: Problem = Problem {
        horizon: 50,
        dx: 4,
        du: 2,
        samples: 20,
    };
    let seed = RunSeed::new(32);
    let local = controller(P, 0.1, seed);
    let batches: Vec<_> = (0..4).map(|m| rollouts(P, &local, seed, m)).collect();
    let data = conditions(&batches, &local);
    let mut nn = NnPolicy::new(&MlpConfig::default(), P.dx, P.du, 1.0, seed).unwrap();
    s_step(&mut nn, &data, &SStepConfig::default(), seed, 0).unwrap();
    let mut prior = PolicyPriorGmm::new(PolicyPriorConfig::default(), P.dx, P.dx).unwrap();
    prior.update(&batches[2], &nn, 9).unwrap();
    let lin = prior.linearize(&batches[2], &nn).unwrap();
    // On the batch's states, the linearisation's mean actions are as close to the teacher's as
    // the S-step's criterion asks of the network itself (mean error < 1e-2).
    let b = &batches[2];
    let (mut sum, mut count) = (0.0, 0);
    for i in 0..b.len() {
        for t in 0..P.horizon {
            let (mut a, mut c) = ([0.0; 2], [0.0; 2]);
            lin.mean_action(t, b.x(i, t), &mut a).unwrap();
            local.mean_action(t, b.x(i, t), &mut c).unwrap();
            sum += ((a[0] - c[0]).powi(2) + (a[1] - c[1]).powi(2)).sqrt();
            count += 1;
        }
    }
    let err = sum / count as f64;
    println!("trained network linearised: mean action error {err:.5}");
    assert!(err < 1e-2, "mean action error of the linearisation {err}");
    // pol_S = conditional covariance (≥ 0) + Σ_π, and Σ_π is the teacher's 0.1².
    for t in 0..P.horizon {
        for j in 0..P.du {
            assert!(lin.cov().at(t)[(j, j)] >= nn.variance()[j]);
        }
    }
}

#[test]
fn buffer_modes_add_and_replace() {
    let seed = RunSeed::new(33);
    let local = controller(P, 0.2, seed);
    let global = LinearGlobal::from_controller(&local, 0.05);
    let gmm = GmmPriorConfig {
        max_samples: 15,
        ..GmmPriorConfig::default()
    };
    let mut add = PolicyPriorGmm::new(
        PolicyPriorConfig {
            gmm: gmm.clone(),
            mode: PolicySampleMode::Add,
        },
        P.dx,
        P.dx,
    )
    .unwrap();
    let mut replace = PolicyPriorGmm::new(
        PolicyPriorConfig {
            gmm,
            mode: PolicySampleMode::Replace,
        },
        P.dx,
        P.dx,
    )
    .unwrap();
    for it in 0..3 {
        let batch = rollouts(P, &local, RunSeed::new(100 + it), 0);
        add.update(&batch, &global, it).unwrap();
        replace.update(&batch, &global, it).unwrap();
    }
    assert_eq!(add.buffer_len(), 15); // exactly max_samples of the 30 seen
    assert_eq!(replace.buffer_len(), 10); // the current batch only
}

#[test]
fn errors_are_typed_and_leave_the_prior_unchanged() {
    let seed = RunSeed::new(34);
    let local = controller(P, 0.2, seed);
    let global = LinearGlobal::from_controller(&local, 0.05);
    let batch = rollouts(P, &local, seed, 0);
    let mut prior = PolicyPriorGmm::new(PolicyPriorConfig::default(), P.dx, P.dx).unwrap();
    assert!(matches!(
        prior.linearize(&batch, &global),
        Err(MdgpsError::Dynamics(DynamicsError::NotFitted))
    ));
    prior.update(&batch, &global, 1).unwrap();
    let before = prior.clone();
    let short = rollouts(
        Problem { horizon: 20, ..P },
        &controller(Problem { horizon: 20, ..P }, 0.2, seed),
        seed,
        0,
    );
    assert!(matches!(
        prior.update(&short, &global, 2),
        Err(MdgpsError::Dimension { .. })
    ));
    assert!(prior == before);
    let one = rollouts(Problem { samples: 1, ..P }, &local, seed, 0);
    assert!(matches!(
        prior.linearize(&one, &global),
        Err(MdgpsError::NoData { .. })
    ));
}

#[test]
fn checkpoint_round_trip_linearises_identically() {
    let seed = RunSeed::new(35);
    let local = controller(P, 0.2, seed);
    let global = LinearGlobal::from_controller(&local, 0.05);
    let batch = rollouts(P, &local, seed, 0);
    let mut prior = PolicyPriorGmm::new(PolicyPriorConfig::default(), P.dx, P.dx).unwrap();
    prior.update(&batch, &global, 5).unwrap();
    let bytes = bincode::serde::encode_to_vec(&prior, bincode::config::standard()).unwrap();
    let (restored, _): (PolicyPriorGmm, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert!(restored == prior);
    let next = rollouts(P, &local, seed, 1);
    let (mut a, mut b) = (prior, restored);
    a.update(&next, &global, 6).unwrap();
    b.update(&next, &global, 6).unwrap();
    assert!(a.linearize(&next, &global).unwrap() == b.linearize(&next, &global).unwrap());
}
