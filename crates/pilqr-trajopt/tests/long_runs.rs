//! Learning does not get worse on long runs (issue 20).
//!
//! Criterion, per algorithm (LQR-FLM and PILQR): run `SEEDS` seeds for `iterations`; the curve
//! of a seed is its per-iteration mean sample cost averaged over the conditions, smoothed by
//! averaging over sliding windows of `WINDOW` consecutive iterations; the mean curve averages
//! the seeds' smoothed curves. With `best` the window where the mean curve is lowest and the
//! spread the standard deviation (over the seeds, `n − 1` denominator) of the seeds' smoothed
//! curves at `best`, the mean curve's last window must not exceed its best window by more than
//! the spread.
//!
//! Why windows: once converged, one iteration's mean over 20 samples fluctuates by about as
//! much as the seeds differ (≈0.015 on the point mass), so the minimum of an unsmoothed
//! 40-point curve sits some two standard deviations below its level and a flat curve would
//! fail a one-iteration comparison; averaging over windows removes most of that selection
//! bias while a real climb (1.5 and more on the point mass without the fix) still shows.
//!
//! Without a floor on the exploration the controller's covariance shrinks at every KL step
//! (`ω = 0`), the samples stop exploring, the fitted dynamics degrade and the cost climbs back
//! up: on the point mass LQR-FLM rose from ≈4.7 at iteration 8 to ≈6–7 at iteration 39.

use pilqr_core::RunSeed;
use pilqr_dynamics::{DynamicsConfig, DynamicsFitter};
use pilqr_trajopt::driver::{Algorithm, TrajOpt, TrajOptConfig};

/// Seeds per algorithm (the spread is a standard deviation over these).
const SEEDS: u64 = 4;

/// The pusher task's registry name, in one place (another branch renames it).
const PUSHER_TASK: &str = "gripper-pusher";

/// Per-iteration mean cost over the conditions, one curve per seed.
fn curves(
    task_name: &str,
    conditions: &[usize],
    algorithm: Algorithm,
    iterations: usize,
    dynamics: &DynamicsConfig,
) -> Vec<Vec<f64>> {
    (0..SEEDS)
        .map(|seed| {
            let mut task = pilqr_tasks::task_by_name(task_name).expect("a registered task");
            let dims = task.dims();
            let config = TrajOptConfig {
                algorithm,
                ..TrajOptConfig::default()
            };
            let mut opt = TrajOpt::new(
                config,
                RunSeed::new(seed),
                task.as_mut(),
                conditions,
                |_| {
                    DynamicsFitter::new(dynamics.clone(), dims.dx, dims.du).expect("a valid config")
                },
            )
            .expect("valid set-up");
            (0..iterations)
                .map(|_| {
                    let m = opt.iterate(task.as_mut()).expect("an iteration");
                    m.iter().map(|c| c.mean_cost).sum::<f64>() / m.len() as f64
                })
                .collect()
        })
        .collect()
}

/// Iterations per averaging window (see the module documentation).
const WINDOW: usize = 10;

/// Check the criterion of the module documentation; prints the windowed curve.
fn assert_no_late_degradation(label: &str, curves: &[Vec<f64>]) {
    let n = curves.len() as f64;
    // Each seed's curve averaged over sliding windows of `WINDOW` iterations.
    let windowed: Vec<Vec<f64>> = curves
        .iter()
        .map(|c| {
            c.windows(WINDOW)
                .map(|w| w.iter().sum::<f64>() / WINDOW as f64)
                .collect()
        })
        .collect();
    let windows = windowed[0].len();
    let mean: Vec<f64> = (0..windows)
        .map(|i| windowed.iter().map(|c| c[i]).sum::<f64>() / n)
        .collect();
    let (best, best_cost) = mean.iter().copied().enumerate().fold(
        (0, f64::INFINITY),
        |a, (i, c)| if c < a.1 { (i, c) } else { a },
    );
    let spread = (windowed
        .iter()
        .map(|c| (c[best] - best_cost).powi(2))
        .sum::<f64>()
        / (n - 1.0))
        .sqrt();
    let last = mean[windows - 1];
    println!(
        "{label}: best window starts at iteration {best}: {best_cost:.4}, spread {spread:.4}, \
         last window {last:.4}"
    );
    assert!(
        last - best_cost <= spread,
        "{label}: the mean cost of the last {WINDOW} iterations {last:.4} exceeds the best \
         {WINDOW}-iteration mean ({best_cost:.4}, from iteration {best}) by more than the \
         seed-to-seed spread {spread:.4}"
    );
}

#[test]
fn point_mass_does_not_degrade_over_40_iterations() {
    // The smoke configuration ships 3 iterations, which ends before any degradation could
    // show; 40 is where the issue measured it.
    for (label, algorithm) in [("lqr-flm", Algorithm::LqrFlm), ("pilqr", Algorithm::Pilqr)] {
        let c = curves(
            "point-mass",
            &[0, 1],
            algorithm,
            40,
            &DynamicsConfig::default(),
        );
        assert_no_late_degradation(&format!("point-mass {label}"), &c);
    }
}

#[test]
#[ignore = "slow: 60 iterations x 4 conditions x 4 seeds x 2 algorithms of the pusher (tens of minutes)"]
fn pusher_does_not_degrade_over_3x_the_shipped_iterations() {
    // experiments/gripper_pusher.toml: 20 iterations, 4 conditions, dynamics regularisation 1e-6.
    let dynamics = DynamicsConfig {
        regularization: 1e-6,
        ..DynamicsConfig::default()
    };
    for (label, algorithm) in [("lqr-flm", Algorithm::LqrFlm), ("pilqr", Algorithm::Pilqr)] {
        let c = curves(PUSHER_TASK, &[0, 1, 2, 3], algorithm, 60, &dynamics);
        assert_no_late_degradation(&format!("pusher {label}"), &c);
    }
}
