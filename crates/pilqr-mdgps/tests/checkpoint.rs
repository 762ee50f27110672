//! The policy inside pilqr's checkpoints: a serde round trip (bincode, the checkpoint payload
//! format, and JSON with serde_json's exact float parsing) reproduces
//! the network's outputs bit-for-bit, in plain Rust and in libtorch, and resuming training
//! from the restored policy gives the same policy as training the original.

mod common;

use common::{Problem, conditions, controller, rollouts};
use pilqr_core::{Policy, RunSeed};
use pilqr_mdgps::{
    GlobalPolicy, MlpConfig, NnPolicy, SStepCondition, SStepConfig, TorchMlp, s_step,
};

fn trained() -> (NnPolicy, Vec<f64>, Problem) {
    let p = Problem {
        horizon: 25,
        dx: 6,
        du: 2,
        samples: 6,
    };
    let seed = RunSeed::new(42);
    let local = controller(p, 0.2, seed);
    let batches: Vec<_> = (0..2).map(|m| rollouts(p, &local, seed, m)).collect();
    let data = conditions(&batches, &local);
    let mut pol = NnPolicy::new(&MlpConfig::default(), p.dx, p.du, 1.0, seed).unwrap();
    s_step(
        &mut pol,
        &data,
        &SStepConfig {
            iterations: 150,
            ..SStepConfig::default()
        },
        seed,
        0,
    )
    .unwrap();
    (pol, batches[1].obs_all().to_vec(), p)
}

fn outputs(pol: &NnPolicy, obs: &[f64]) -> Vec<f64> {
    pol.mean_actions(obs).unwrap()
}

fn torch_outputs(pol: &NnPolicy, obs: &[f64], dx: usize) -> Vec<f64> {
    let rows = obs.len() / dx;
    let mut normalised = vec![0.0; obs.len()];
    for (src, dst) in obs.chunks_exact(dx).zip(normalised.chunks_exact_mut(dx)) {
        pol.normalize_into(src, dst);
    }
    TorchMlp::from_weights(pol.weights())
        .unwrap()
        .forward_rows(&normalised, rows)
        .unwrap()
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn json_and_bincode_round_trips_are_bit_for_bit() {
    let (pol, obs, p) = trained();
    let json = serde_json::to_string(&pol).unwrap();
    let from_json: NnPolicy = serde_json::from_str(&json).unwrap();
    let bytes = bincode::serde::encode_to_vec(&pol, bincode::config::standard()).unwrap();
    let (from_bin, _): (NnPolicy, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    for restored in [&from_json, &from_bin] {
        assert!(restored == &pol, "restored parameters differ");
        assert_eq!(bits(&outputs(restored, &obs)), bits(&outputs(&pol, &obs)));
        assert_eq!(
            bits(&torch_outputs(restored, &obs, p.dx)),
            bits(&torch_outputs(&pol, &obs, p.dx))
        );
        let (mut u1, mut u2) = ([0.0; 2], [0.0; 2]);
        pol.act(3, &[], &obs[..p.dx], &[0.7, -0.2], &mut u1)
            .unwrap();
        restored
            .act(3, &[], &obs[..p.dx], &[0.7, -0.2], &mut u2)
            .unwrap();
        assert_eq!(bits(&u1), bits(&u2));
    }
}

#[test]
fn plain_rust_rollout_forward_matches_libtorch() {
    let (pol, obs, p) = trained();
    let a = outputs(&pol, &obs);
    let b = torch_outputs(&pol, &obs, p.dx);
    let err = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-6, "max |plain − torch| = {err:e}");
}

#[test]
fn resuming_from_a_checkpoint_trains_identically() {
    let (pol, _, p) = trained();
    let restored: NnPolicy = serde_json::from_str(&serde_json::to_string(&pol).unwrap()).unwrap();
    let seed = RunSeed::new(43);
    let local = controller(p, 0.1, seed);
    let batch = rollouts(p, &local, seed, 3);
    let data = [SStepCondition {
        samples: &batch,
        local: &local,
        weights: None,
    }];
    let config = SStepConfig {
        iterations: 60,
        ..SStepConfig::default()
    };
    let (mut a, mut b) = (pol, restored);
    s_step(&mut a, &data, &config, seed, 1).unwrap();
    s_step(&mut b, &data, &config, seed, 1).unwrap();
    assert!(a == b, "resumed training differs");
}
