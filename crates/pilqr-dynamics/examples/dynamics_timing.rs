//! Times the dynamics fit at the benchmark sizes and prints EM iteration counts.
//! Run: `cargo run --release -p pilqr-dynamics --example dynamics_timing`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use pilqr_dynamics::{DynamicsConfig, DynamicsFitter, fit_linear_dynamics};

fn main() {
    for &(dx, du) in &[(20usize, 2usize), (36, 4), (44, 6)] {
        let (a, b) = common::iterative_batches(dx, du, 100, 20);
        let mut times = Vec::new();
        for _ in 0..20 {
            let s = Instant::now();
            let d = fit_linear_dynamics(&b, 1e-6, 1e-6).unwrap();
            times.push(s.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(d);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "dX={dx} dU={du}: plain regression median {:.3} ms",
            times[10]
        );
        let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
        let s = Instant::now();
        fitter.update(&a, 1).unwrap();
        let r = fitter.last_em_report().unwrap();
        println!(
            "  cold fit: {:.2} ms, {} EM iterations ({:?}), K={}, points={}",
            s.elapsed().as_secs_f64() * 1e3,
            r.iterations,
            r.stop,
            r.components,
            r.points
        );
        let mut times = Vec::new();
        let mut iters = Vec::new();
        for _ in 0..10 {
            let mut f = fitter.clone();
            let s = Instant::now();
            let d = f.update(&b, 2).unwrap();
            times.push(s.elapsed().as_secs_f64() * 1e3);
            iters.push(f.last_em_report().unwrap().iterations);
            std::hint::black_box(d);
        }
        times.sort_by(f64::total_cmp);
        let r = {
            let mut f = fitter.clone();
            f.update(&b, 2).unwrap();
            f.last_em_report().unwrap().clone()
        };
        println!(
            "  warm update + regression with prior: median {:.2} ms; EM iterations {:?} ({:?}); ll {:?}",
            times[5], iters[0], r.stop, r.log_likelihoods
        );
        // A chain of iterations (as in use).
        let mut f = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
        let sys = common::System::random(dx, du, 0.05, 11);
        let mut counts = Vec::new();
        for it in 0..8 {
            let ro = common::Rollout {
                horizon: 100,
                n: 20,
                offset: 1.0 + 0.05 * it as f64,
                gain: -0.1,
                action_std: 0.3 * 0.9f64.powi(it),
                x0_std: 0.05,
                process_std: 1e-3,
            };
            let batch = ro.run(&sys, 100 + it as u64);
            f.update(&batch, it as u64).unwrap();
            let r = f.last_em_report().unwrap();
            counts.push((r.iterations, r.initialised));
        }
        println!("  8-iteration chain: EM iterations (count, cold) {counts:?}");
    }
}
