//! MDGPS with LQR-FLM on `point-mass`: trained from the 4 training starts, the network reaches
//! the target from the held-out starts within 10 iterations (fixed seed).

use pilqr_core::{RunSeed, Split, Task};
use pilqr_mdgps::{Mdgps, MdgpsConfig, SStepConfig};
use pilqr_tasks::PointMass;

#[test]
fn mdgps_lqr_flm_generalises_to_held_out_point_mass_starts() {
    let mut task = PointMass::new();
    let split = |s: Split| -> Vec<usize> {
        (0..task.conditions().len())
            .filter(|&c| task.conditions()[c].split == s)
            .collect()
    };
    let (train, test) = (split(Split::Train), split(Split::Test));
    assert_eq!(train.len(), 4);
    let mut mdgps = Mdgps::new(MdgpsConfig::default(), RunSeed::new(0), &mut task, &train).unwrap();
    let mut solved_at = None;
    for it in 0..10 {
        let m = mdgps.iterate(&mut task).unwrap();
        let outcomes: Vec<_> = test
            .iter()
            .map(|&c| mdgps.evaluate(&mut task, c).unwrap())
            .collect();
        println!(
            "iteration {it}: train cost {:?}, KL {:?}, step {:.3}, S-step loss {:.4} ({:.1} s), held-out final distance {:?}",
            m.mean_cost()
                .iter()
                .map(|c| (c * 100.0).round() / 100.0)
                .collect::<Vec<_>>(),
            m.kl_total()
                .iter()
                .map(|c| (c * 100.0).round() / 100.0)
                .collect::<Vec<_>>(),
            m.step_mult,
            m.s_step.final_loss,
            m.s_step.seconds,
            outcomes.iter().map(|o| o.metric).collect::<Vec<_>>()
        );
        if solved_at.is_none() && outcomes.iter().all(|o| o.success) {
            solved_at = Some(it);
        }
    }
    assert!(
        solved_at.is_some(),
        "the network never reached the target from every held-out start"
    );
}

#[test]
fn resuming_from_a_checkpoint_is_bit_identical_to_not_stopping() {
    let mut task = PointMass::new();
    let config = MdgpsConfig {
        samples: 3,
        s_step: SStepConfig {
            iterations: 300,
            ..SStepConfig::default()
        },
        ..MdgpsConfig::default()
    };
    let mut a = Mdgps::new(config, RunSeed::new(4), &mut task, &[0, 1]).unwrap();
    a.iterate(&mut task).unwrap();
    let bytes = bincode::serde::encode_to_vec(&a, bincode::config::standard()).unwrap();
    let (mut b, _): (Mdgps, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    let ma = a.iterate(&mut task).unwrap();
    let mb = b.iterate(&mut task).unwrap();
    assert!(
        a.policy() == b.policy(),
        "the network differs after resuming"
    );
    assert_eq!(ma.mean_cost(), mb.mean_cost());
    assert_eq!(ma.kl_total(), mb.kl_total());
    for (ca, cb) in a.conditions().iter().zip(b.conditions()) {
        assert!(ca.local == cb.local && ca.prior == cb.prior);
    }
}

#[test]
fn sampling_on_policy_runs_the_network_and_improves() {
    let mut task = PointMass::new();
    let config = MdgpsConfig {
        sample_on_policy: true,
        s_step: SStepConfig {
            iterations: 1000,
            ..SStepConfig::default()
        },
        ..MdgpsConfig::default()
    };
    let mut mdgps = Mdgps::new(config, RunSeed::new(2), &mut task, &[0, 1, 2, 3]).unwrap();
    let costs: Vec<f64> = (0..3)
        .map(|_| {
            let m = mdgps.iterate(&mut task).unwrap();
            m.mean_cost().iter().sum::<f64>() / m.conditions.len() as f64
        })
        .collect();
    println!("on-policy mean sample cost per iteration: {costs:?}");
    // Iterations 1 and 2 sample the network: its cost must fall below the initial controllers'.
    assert!(costs[2] < costs[0], "{costs:?}");
}

/// Two iterations on four conditions in a one-thread and a two-thread pool: the conditions'
/// policy priors and linearisations run in parallel, and nothing may depend on how many
/// threads share them.
#[test]
fn results_are_independent_of_the_thread_count() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut task = PointMass::new();
            let config = MdgpsConfig {
                samples: 4,
                s_step: SStepConfig {
                    iterations: 200,
                    ..SStepConfig::default()
                },
                ..MdgpsConfig::default()
            };
            let mut m = Mdgps::new(config, RunSeed::new(6), &mut task, &[0, 1, 2, 3]).unwrap();
            let metrics: Vec<_> = (0..2).map(|_| m.iterate(&mut task).unwrap()).collect();
            (m, metrics)
        })
    };
    let (one, m1) = run(1);
    let (two, m2) = run(2);
    assert!(one.policy() == two.policy(), "the network differs");
    for (a, b) in m1.iter().zip(&m2) {
        assert_eq!(a.mean_cost(), b.mean_cost());
        assert_eq!(a.kl_total(), b.kl_total());
        assert_eq!(a.step_mult.to_bits(), b.step_mult.to_bits());
    }
    for (a, b) in one.conditions().iter().zip(two.conditions()) {
        assert!(a.local == b.local && a.prior == b.prior && a.eta == b.eta);
    }
}
