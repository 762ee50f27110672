//! One warm `DynamicsFitter::update` at a given size, for instruction-count profiling
//! (`valgrind --tool=callgrind`): the fitter sees one batch, is then timed (or profiled) on
//! `reps` warm updates with the next batch, each from a clone of the state after the first.
//!
//! Run: `cargo run --release -p pilqr-dynamics --example profile_warm_update -- 20 3 [reps]`.

#[path = "../tests/common/mod.rs"]
mod common;

use pilqr_dynamics::{DynamicsConfig, DynamicsFitter};

/// The profiled unit (callgrind: `--collect-atstart=no --toggle-collect=*timed_refit`).
#[inline(never)]
fn timed_refit(
    fitter: &DynamicsFitter,
    batch: &pilqr_dynamics::SampleBatch,
) -> (DynamicsFitter, pilqr_dynamics::LinearDynamics) {
    let mut f = fitter.clone();
    let d = f.update(batch, 2).unwrap();
    (f, d)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("arguments are numbers: dx du [reps]"))
        .collect();
    let (dx, du) = (
        args.first().copied().unwrap_or(20),
        args.get(1).copied().unwrap_or(3),
    );
    let reps = args.get(2).copied().unwrap_or(1);
    let (a, b) = common::iterative_batches(dx, du, 100, 20);
    let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
    fitter.update(&a, 1).unwrap();
    let start = std::time::Instant::now();
    let mut last = None;
    for _ in 0..reps {
        last = Some(timed_refit(&fitter, &b));
    }
    let el = start.elapsed();
    let (f, d) = last.expect("reps >= 1");
    let r = f.last_em_report().unwrap();
    println!(
        "dx{dx}_du{du}: {:.3} ms per warm update; initialised {}, EM iterations {} ({:?}), K={}, points={}, fm[0][0,0]={:e}",
        el.as_secs_f64() * 1e3 / reps as f64,
        r.initialised,
        r.iterations,
        r.stop,
        r.components,
        r.points,
        d.fm.at(0)[(0, 0)]
    );
}
