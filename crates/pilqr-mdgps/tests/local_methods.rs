//! MDGPS with PILQR and PI2 as the local method on `point-mass` (4 training starts, 2 held
//! out, fixed seed): the runs complete, the training cost falls, and the network trained from
//! the training starts gets closer to the target from the held-out starts (with PILQR it
//! reaches it).

use pilqr_core::{RunSeed, Split, Task};
use pilqr_mdgps::{LocalMethod, Mdgps, MdgpsConfig, SStepConfig};
use pilqr_tasks::PointMass;
use pilqr_trajopt::Pi2Config;

/// Per iteration: mean training sample cost and the held-out final distances.
struct Curve {
    cost: Vec<f64>,
    held_out: Vec<Vec<f64>>,
    held_out_success: Vec<bool>,
}

fn run(local: LocalMethod, iterations: usize, config: MdgpsConfig) -> Curve {
    let mut task = PointMass::new();
    let split = |s: Split| -> Vec<usize> {
        (0..task.conditions().len())
            .filter(|&c| task.conditions()[c].split == s)
            .collect()
    };
    let (train, test) = (split(Split::Train), split(Split::Test));
    let config = MdgpsConfig { local, ..config };
    let mut mdgps = Mdgps::new(config, RunSeed::new(0), &mut task, &train).unwrap();
    let mut curve = Curve {
        cost: Vec::new(),
        held_out: Vec::new(),
        held_out_success: Vec::new(),
    };
    for it in 0..iterations {
        let m = mdgps.iterate(&mut task).unwrap();
        let outcomes: Vec<_> = test
            .iter()
            .map(|&c| mdgps.evaluate(&mut task, c).unwrap())
            .collect();
        let cost = m.mean_cost().iter().sum::<f64>() / m.conditions.len() as f64;
        println!(
            "{local} iteration {it}: train cost {cost:.3}, KL {:?}, eta {:?}, step {:.3}, held-out distance {:?}",
            m.kl_total()
                .iter()
                .map(|k| (k * 100.0).round() / 100.0)
                .collect::<Vec<_>>(),
            m.conditions
                .iter()
                .map(|c| (c.eta * 1e3).round() / 1e3)
                .collect::<Vec<_>>(),
            m.step_mult,
            outcomes.iter().map(|o| o.metric).collect::<Vec<_>>()
        );
        curve.cost.push(cost);
        curve
            .held_out
            .push(outcomes.iter().map(|o| o.metric).collect());
        curve
            .held_out_success
            .push(outcomes.iter().all(|o| o.success));
    }
    curve
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// 10 samples per condition; PI2's KL threshold well below `log 10`.
fn quick() -> MdgpsConfig {
    MdgpsConfig {
        samples: 10,
        pi2: Pi2Config {
            kl_threshold: 0.5,
            ..Pi2Config::default()
        },
        s_step: SStepConfig {
            iterations: 2000,
            ..SStepConfig::default()
        },
        ..MdgpsConfig::default()
    }
}

#[test]
fn mdgps_pilqr_improves_and_generalises_on_point_mass() {
    let c = run(LocalMethod::Pilqr, 6, quick());
    let last = c.cost.len() - 1;
    assert!(c.cost[last] < 0.5 * c.cost[0], "{:?}", c.cost);
    assert!(
        mean(&c.held_out[last]) < 0.5 * mean(&c.held_out[0]),
        "{:?}",
        c.held_out
    );
    assert!(c.held_out_success[last], "{:?}", c.held_out);
}

#[test]
fn mdgps_pi2_improves_on_point_mass() {
    let c = run(LocalMethod::Pi2, 6, quick());
    let last = c.cost.len() - 1;
    // Model-free and importance-weighted: slower and noisier than PILQR, but it must improve.
    assert!(mean(&c.cost[last - 1..]) < 0.9 * c.cost[0], "{:?}", c.cost);
    assert!(
        mean(&c.held_out[last]) < mean(&c.held_out[0]),
        "{:?}",
        c.held_out
    );
}

#[test]
fn on_policy_sampling_works_with_pilqr_and_pi2() {
    // From the second iteration the samples come from the network: PILQR re-simulates their
    // noise through the network's linearisation, PI2 weighs them by the network's density.
    let on_policy = || MdgpsConfig {
        sample_on_policy: true,
        ..quick()
    };
    let c = run(LocalMethod::Pilqr, 3, on_policy());
    assert!(c.cost[2] < 0.5 * c.cost[0], "{:?}", c.cost);
    assert!(c.held_out_success[2], "{:?}", c.held_out);
    let c = run(LocalMethod::Pi2, 3, on_policy());
    assert!(c.cost.iter().all(|v| v.is_finite()), "{:?}", c.cost);
    assert!(
        mean(&c.held_out[2]) < mean(&c.held_out[0]),
        "{:?}",
        c.held_out
    );
}
