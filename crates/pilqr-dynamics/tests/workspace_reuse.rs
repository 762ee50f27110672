//! The fitter's reused storage never shows in its results, and its serialised form is the one
//! checkpoints have always had.

mod common;

use std::collections::VecDeque;

use pilqr_dynamics::{
    BufferedTrajectory, DynamicsConfig, DynamicsFitter, EmReport, Gmm, GmmPriorConfig,
    LinearDynamics, SampleBatch,
};
use serde::Serialize;

fn bits(d: &LinearDynamics) -> Vec<u64> {
    d.fm.as_slice()
        .iter()
        .chain(d.fv.as_slice())
        .chain(d.dyn_covar.as_slice())
        .chain(&d.x0mu)
        .chain(d.x0sigma.as_slice())
        .map(|v| v.to_bits())
        .collect()
}

/// Batches of one condition whose sizes make the buffer fill up (the component count grows),
/// then overflow it (a batch larger than `max_samples`), then stay full.
fn batch_sequence(dx: usize, du: usize, t: usize) -> Vec<SampleBatch> {
    let sys = common::System::random(dx, du, 0.05, 21);
    [5, 7, 10, 25, 20, 20, 3]
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            common::Rollout {
                horizon: t,
                n,
                offset: 1.0 + 0.05 * i as f64,
                gain: -0.1,
                action_std: 0.3,
                x0_std: 0.05,
                process_std: 1e-3,
            }
            .run(&sys, 100 + i as u64)
        })
        .collect()
}

fn restore(f: &DynamicsFitter) -> DynamicsFitter {
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(f, cfg).unwrap();
    bincode::serde::decode_from_slice(&bytes, cfg).unwrap().0
}

#[test]
fn a_long_lived_fitter_equals_fresh_fitters_replaying_the_batches() {
    let (dx, du, t) = (6, 2, 40);
    let config = DynamicsConfig {
        prior: Some(GmmPriorConfig {
            max_samples: 20,
            min_samples_per_cluster: 40,
            ..GmmPriorConfig::default()
        }),
        ..DynamicsConfig::default()
    };
    let batches = batch_sequence(dx, du, t);
    let mut long = DynamicsFitter::new(config.clone(), dx, du).unwrap();
    let mut out = LinearDynamics::zeros(1, 1, 1);
    let mut components = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        let seed = 7 + i as u64;
        // Reference 1: the state so far restored from a checkpoint (fresh storage).
        let mut restored = restore(&long);
        let expect = restored.update(b, seed).unwrap();
        // Reference 2: a fresh fitter replaying every batch so far with `update`.
        let mut fresh = DynamicsFitter::new(config.clone(), dx, du).unwrap();
        let mut replayed = None;
        for (j, bj) in batches[..=i].iter().enumerate() {
            replayed = Some(fresh.update(bj, 7 + j as u64).unwrap());
        }
        long.update_into(b, seed, &mut out).unwrap();
        assert_eq!(bits(&out), bits(&expect), "batch {i}: vs restored");
        assert_eq!(bits(&out), bits(&replayed.unwrap()), "batch {i}: vs replay");
        assert!(
            long == restored && long == fresh,
            "batch {i}: states differ"
        );
        components.push(long.prior().unwrap().gmm().num_components());
    }
    // The sequence did exercise changing shapes: the component count grew with the buffer.
    assert!(components.first() < components.last(), "{components:?}");
}

#[test]
fn a_failed_update_leaves_the_fitter_as_it_was() {
    let (dx, du, t) = (6, 2, 40);
    let batches = batch_sequence(dx, du, t);
    let mut f = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
    let mut out = LinearDynamics::zeros(t, dx, du);
    f.update_into(&batches[0], 1, &mut out).unwrap();
    f.update_into(&batches[1], 2, &mut out).unwrap();
    let before = f.clone();
    // Points so far away that every log-density overflows: the refit fails, also afresh.
    let b = &batches[2];
    let far = (0..b.len())
        .map(|i| {
            let mut tr = b.trajectory_owned(i);
            tr.x.iter_mut().for_each(|v| *v = 1e200 * (*v + 1.0));
            tr
        })
        .collect();
    let far = SampleBatch::from_trajectories(b.dims(), far).unwrap();
    assert!(f.update_into(&far, 3, &mut out).is_err());
    assert!(f == before);
    // The next update is the one the fitter would have made without the failed call.
    let mut g = before.clone();
    f.update_into(&batches[2], 4, &mut out).unwrap();
    assert_eq!(bits(&out), bits(&g.update(&batches[2], 4).unwrap()));
    assert!(f == g);
}

/// The serialised form of a fitter as checkpoints have always written it: the field
/// structure the fitter's serde conversion had before its storage was reused (a plain list of
/// buffered trajectories, oldest first).
#[derive(Serialize)]
struct CheckpointFitter {
    config: DynamicsConfig,
    dx: usize,
    du: usize,
    prior: Option<CheckpointPrior>,
    last_report: Option<EmReport>,
}

#[derive(Serialize)]
struct CheckpointPrior {
    config: GmmPriorConfig,
    dx: usize,
    du: usize,
    horizon: usize,
    buffer: VecDeque<BufferedTrajectory>,
    gmm: Gmm,
}

fn checkpoint_of(f: &DynamicsFitter) -> CheckpointFitter {
    CheckpointFitter {
        config: f.config().clone(),
        dx: f.dx(),
        du: f.du(),
        prior: f.prior().map(|p| CheckpointPrior {
            config: p.config().clone(),
            dx: f.dx(),
            du: f.du(),
            horizon: p.horizon(),
            buffer: p.buffer().cloned().collect(),
            gmm: p.gmm().clone(),
        }),
        last_report: f.last_em_report().cloned(),
    }
}

#[test]
fn checkpoints_in_the_established_format_load_and_continue_exactly() {
    let (dx, du, t) = (6, 2, 40);
    let batches = batch_sequence(dx, du, t);
    let mut f = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
    // Three updates of 5, 7 and 10 trajectories wrap the ring of slots, so the window no
    // longer starts at slot 0.
    for (i, b) in batches[..3].iter().enumerate() {
        f.update(b, i as u64).unwrap();
    }
    let f = {
        let mut g = f;
        g.update(&batches[4], 9).unwrap();
        g
    };
    let old = checkpoint_of(&f);
    let cfg = bincode::config::standard();
    let old_bytes = bincode::serde::encode_to_vec(&old, cfg).unwrap();
    // Today's fitter writes exactly those bytes…
    assert_eq!(bincode::serde::encode_to_vec(&f, cfg).unwrap(), old_bytes);
    let old_json = serde_json::to_string(&old).unwrap();
    assert_eq!(serde_json::to_string(&f).unwrap(), old_json);
    // …and reads them back into an equal fitter that continues bit for bit. (JSON here is
    // read without serde_json's exact float round-trip, so only its structure is checked.)
    let (mut from_bytes, _): (DynamicsFitter, usize) =
        bincode::serde::decode_from_slice(&old_bytes, cfg).unwrap();
    assert!(from_bytes == f);
    let from_json: DynamicsFitter = serde_json::from_str(&old_json).unwrap();
    assert_eq!(
        from_json.prior().unwrap().buffer_len(),
        f.prior().unwrap().buffer_len()
    );
    assert_eq!(
        from_json.prior().unwrap().gmm().num_components(),
        f.prior().unwrap().gmm().num_components()
    );
    let mut g = f.clone();
    let expect = g.update(&batches[5], 11).unwrap();
    assert_eq!(
        bits(&from_bytes.update(&batches[5], 11).unwrap()),
        bits(&expect)
    );
    assert!(from_bytes == g);
}
