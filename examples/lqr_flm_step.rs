//! One LQR-FLM step on the point mass, by hand: sample, fit the dynamics, take the task's
//! cost's local quadratic model, and solve for the controller that improves most under the fitted
//! model while staying within a KL step of the current one.
//!
//! This is what one iteration of `pilqr train` with `methods = ["lqr-flm"]` does for one
//! condition (docs/design.md §4), without the step-size rule and the bookkeeping. It prints the
//! expected cost under the fitted model before and after the step, and the cost of 10 rollouts
//! of each controller in the task.
//!
//! ```text
//! cargo run --release --example lqr_flm_step
//! ```

use std::error::Error;

use pilqr::core::{
    CostModelBuilder, LinearGaussianPolicy, RunSeed, SampleBatch, SampleRequest, Task,
    sample_policy,
};
use pilqr::dynamics::{DynamicsConfig, DynamicsFitter};
use pilqr::trajopt::init::{PdInit, init_pd};
use pilqr::trajopt::{LqrFlm, LqrFlmConfig, estimate_cost};

/// Costs before and after the step.
#[derive(Debug, Clone, Copy)]
struct StepCosts {
    /// Expected cost of the old and the new controller under the fitted dynamics.
    expected: (f64, f64),
    /// Mean cost of 10 rollouts of the old and the new controller in the task.
    sampled: (f64, f64),
}

/// Mean total cost of the rollouts of `batch`.
fn mean_cost(batch: &SampleBatch) -> f64 {
    (0..batch.len()).map(|i| batch.total_cost(i)).sum::<f64>() / batch.len() as f64
}

/// `count` rollouts of `policy` from condition 0 (noise streams of `iteration`).
fn rollouts(
    task: &mut dyn Task,
    policy: &LinearGaussianPolicy,
    iteration: usize,
    count: usize,
) -> Result<SampleBatch, Box<dyn Error>> {
    let request = SampleRequest {
        seed: RunSeed::new(3),
        iteration,
        condition: 0,
        count,
    };
    Ok(sample_policy(task, policy, None, request)?)
}

/// One LQR-FLM step from the initial controller with `samples` samples and KL step `kl_step`
/// per time step.
fn step(samples: usize, kl_step: f64) -> Result<StepCosts, Box<dyn Error>> {
    let mut task = pilqr::tasks::task_by_name("point-mass")?;
    let d = task.dims();
    task.reset(0)?;
    let mut x0 = vec![0.0; d.dx];
    task.state(&mut x0);
    let old = init_pd(d.horizon, d.du, &task.layout(), &x0, &PdInit::default())?;

    // Samples of the current controller, the dynamics fitted to them, and the cost's local
    // quadratic model around them.
    let batch = rollouts(task.as_mut(), &old, 0, samples)?;
    let mut fitter = DynamicsFitter::new(DynamicsConfig::default(), d.dx, d.du)?;
    let dynamics = fitter.update(&batch, 11)?;
    let cost = task.cost(0)?;
    let model = CostModelBuilder::new(d.horizon, d.dx, d.du).build(cost.as_ref(), &batch)?;

    // The step: the dual variable η is searched so that the KL divergence to the old controller
    // meets the target.
    let mut solver = LqrFlm::new(d.horizon, d.dx, d.du);
    let targets = vec![kl_step; d.horizon];
    let result = solver.update(
        &dynamics,
        &model,
        &old,
        &targets,
        &[1.0],
        &LqrFlmConfig::default(),
    )?;
    let new = result.policy;

    let expected = (
        estimate_cost(&old, &dynamics, &model)?.0,
        estimate_cost(&new, &dynamics, &model)?.0,
    );
    let sampled = (
        mean_cost(&rollouts(task.as_mut(), &old, 1, 10)?),
        mean_cost(&rollouts(task.as_mut(), &new, 1, 10)?),
    );
    Ok(StepCosts { expected, sampled })
}

// Under `cargo test` the example is built as a test harness, which does not call `main`.
#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), Box<dyn Error>> {
    let c = step(10, 0.5)?;
    println!(
        "expected cost under the fitted dynamics: {:.4} -> {:.4}",
        c.expected.0, c.expected.1
    );
    println!(
        "mean cost of 10 rollouts in the task:    {:.4} -> {:.4}",
        c.sampled.0, c.sampled.1
    );
    Ok(())
}

#[test]
fn the_step_lowers_the_expected_and_the_sampled_cost() {
    let c = step(10, 0.5).unwrap();
    assert!(c.expected.1 < c.expected.0, "{c:?}");
    assert!(c.sampled.1 < c.sampled.0, "{c:?}");
}
