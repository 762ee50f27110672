//! MDGPS on the reacher: train one network from the training targets and report its final tip
//! distance on the held-out targets after every iteration.
//!
//! ```text
//! scripts/with-libtorch cargo run --release -p pilqr-mdgps --example reacher_mdgps -- 10 pilqr
//! ```
//! The arguments are the number of iterations (default 10) and the local method (`lqr-flm`,
//! the default, `pilqr` or `pi2`). The `pilqr` command runs the full experiment with plots:
//! `experiments/reacher_mdgps.toml`.

use pilqr_core::{RunSeed, Split, Task};
use pilqr_mdgps::{LocalMethod, Mdgps, MdgpsConfig};
use pilqr_tasks::Reacher;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let iterations: usize = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => 10,
    };
    let local = match std::env::args().nth(2).as_deref() {
        None | Some("lqr-flm") => LocalMethod::LqrFlm,
        Some("pilqr") => LocalMethod::Pilqr,
        Some("pi2") => LocalMethod::Pi2,
        Some(other) => return Err(format!("unknown local method {other:?}").into()),
    };
    let mut task = Reacher::new()?;
    let of = |task: &Reacher, split: Split| -> Vec<usize> {
        let c = task.conditions();
        (0..c.len()).filter(|&i| c[i].split == split).collect()
    };
    let (train, test) = (of(&task, Split::Train), of(&task, Split::Test));
    let config = MdgpsConfig {
        local,
        ..MdgpsConfig::default()
    };
    let mut mdgps = Mdgps::new(config, RunSeed::new(0), &mut task, &train)?;
    for _ in 0..iterations {
        let m = mdgps.iterate(&mut task)?;
        let mut distances = Vec::with_capacity(test.len());
        for &c in &test {
            distances.push(mdgps.evaluate(&mut task, c)?.metric);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        println!(
            "iteration {:2}: train cost {:8.3}  step {:.2}  S-step {:.1} s  held-out final distance mean {:.4} (each {:?})",
            m.iteration,
            mean(&m.mean_cost()),
            m.step_mult,
            m.s_step.seconds,
            mean(&distances),
            distances
                .iter()
                .map(|d| (d * 1e4).round() / 1e4)
                .collect::<Vec<_>>()
        );
    }
    Ok(())
}
