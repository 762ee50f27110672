//! Fit time-varying linear dynamics alone, from sampled point-mass rollouts, and measure the fit.
//!
//! The point mass (`pilqr_tasks::point_mass`) is rolled out with a zero-mean, unit-variance
//! controller; `DynamicsFitter` (per-step regression with a Gaussian-mixture prior, as every
//! algorithm of the workspace uses it) fits `x_{t+1} ≈ Fm_t [x_t; u_t] + fv_t` from those
//! rollouts; the fit is then scored by its one-step prediction error on fresh rollouts, next to
//! the error of predicting "the state does not change".
//!
//! ```text
//! cargo run --release --example fit_dynamics        # 20 training rollouts
//! cargo run --release --example fit_dynamics -- 5   # 5
//! ```

use std::error::Error;

use pilqr::core::{RunSeed, SampleBatch, SampleRequest, sample_policy};
use pilqr::dynamics::{DynamicsConfig, DynamicsFitter, LinearDynamics};
use pilqr::trajopt::init::{PdInit, init_pd};

/// One-step prediction errors (root mean square over steps, rollouts and state entries).
#[derive(Debug, Clone, Copy)]
struct FitError {
    /// Of the fitted dynamics.
    fitted: f64,
    /// Of predicting `x_{t+1} = x_t`.
    unchanged: f64,
}

/// Root-mean-square one-step error of `dynamics` (and of "no change") on `batch`.
fn prediction_error(dynamics: &LinearDynamics, batch: &SampleBatch) -> FitError {
    let d = batch.dims();
    let (mut fitted, mut unchanged, mut n) = (0.0, 0.0, 0usize);
    for i in 0..batch.len() {
        for t in 0..d.horizon - 1 {
            let xu: Vec<f64> = [batch.x(i, t), batch.u(i, t)].concat();
            let (fm, fv) = (dynamics.fm.at(t), dynamics.fv.at(t));
            for r in 0..d.dx {
                let predicted = fv[r] + (0..xu.len()).map(|c| fm[(r, c)] * xu[c]).sum::<f64>();
                let next = batch.x(i, t + 1)[r];
                fitted += (predicted - next).powi(2);
                unchanged += (batch.x(i, t)[r] - next).powi(2);
                n += 1;
            }
        }
    }
    FitError {
        fitted: (fitted / n as f64).sqrt(),
        unchanged: (unchanged / n as f64).sqrt(),
    }
}

/// Fit the point mass's dynamics from `rollouts` rollouts of condition 0 and score the fit on
/// 10 others.
fn fit(rollouts: usize) -> Result<FitError, Box<dyn Error>> {
    let mut task = pilqr::tasks::task_by_name("point-mass")?;
    let d = task.dims();
    task.reset(0)?;
    let mut x0 = vec![0.0; d.dx];
    task.state(&mut x0);
    let policy = init_pd(d.horizon, d.du, &task.layout(), &x0, &PdInit::default())?;
    let seed = RunSeed::new(1);
    let request = |iteration, count| SampleRequest {
        seed,
        iteration,
        condition: 0,
        count,
    };
    let train = sample_policy(task.as_mut(), &policy, None, request(0, rollouts))?;
    let test = sample_policy(task.as_mut(), &policy, None, request(1, 10))?;
    let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), d.dx, d.du)?;
    let dynamics = fitter.update(&train, seed.derive("dynamics", &[0]))?;
    Ok(prediction_error(&dynamics, &test))
}

// Under `cargo test` the example is built as a test harness, which does not call `main`.
#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), Box<dyn Error>> {
    let rollouts = match std::env::args().nth(1) {
        Some(s) => s.parse()?,
        None => 20,
    };
    let e = fit(rollouts)?;
    println!(
        "one-step RMS error on 10 fresh rollouts, fitted from {rollouts}: {:.3e} (predicting no change: {:.3e})",
        e.fitted, e.unchanged
    );
    Ok(())
}

#[test]
fn the_fit_predicts_better_than_no_change() {
    let e = fit(5).unwrap();
    assert!(e.fitted.is_finite() && e.unchanged > 0.0, "{e:?}");
    assert!(e.fitted < e.unchanged, "{e:?}");
}
