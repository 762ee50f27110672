//! The Rust side of the step-overhead benchmark (`benches/step_rate.py` is the Python side):
//! `STEPS` steps of the reacher with uniform random actions, resetting every horizon, through
//! the bare `Task` (physics only: reset, step, state and observation reads) and through
//! `StepEnv` (plus the per-step cost and the recording). Prints the median µs per step of
//! five runs of each. Then a 16-copy `VecStepEnv` on 1 and 2 worker threads (median µs per
//! copy-step of five runs, and the 2-thread speed-up).
//!
//! ```text
//! cargo run --release -p pilqr-py --example step_rate [STEPS] [TASK]
//! ```

use std::time::Instant;

use pilqr_core::TaskSeed;
use pilqr_py::{Command, StepEnv, VecStepEnv};
use rand::{Rng, SeedableRng, rngs::StdRng};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn actions(steps: usize, limits: &[f64]) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(0);
    (0..steps)
        .flat_map(|_| {
            limits
                .iter()
                .map(|&l| rng.random_range(-l..=l))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let steps: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let name = args.next().unwrap_or_else(|| "reacher".to_string());

    let mut task = pilqr_tasks::task_by_name(&name)?;
    let d = task.dims();
    let limits = task.action_limits().unwrap_or_else(|| vec![1.0; d.du]);
    let us = actions(steps, &limits);
    let (mut x, mut o) = (vec![0.0; d.dx], vec![0.0; d.dobs]);
    let mut bare = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        for (k, u) in us.chunks(d.du).enumerate() {
            if k % d.horizon == 0 {
                task.reset(0)?;
            }
            task.step(u)?;
            task.state(&mut x);
            task.observation(&mut o);
        }
        bare.push(start.elapsed().as_secs_f64() * 1e6 / steps as f64);
    }

    let mut env = StepEnv::by_name(&name)?;
    let mut wrapped = Vec::new();
    let mut total = 0.0;
    for _ in 0..5 {
        let start = Instant::now();
        for (k, u) in us.chunks(d.du).enumerate() {
            if k % d.horizon == 0 {
                env.reset(0, TaskSeed::new(0))?;
            }
            total += env.step(u)?.reward;
        }
        wrapped.push(start.elapsed().as_secs_f64() * 1e6 / steps as f64);
    }
    println!(
        "{name}: {steps} steps, median of 5: Task {:.2} µs/step, StepEnv {:.2} µs/step (reward sum {total:.3})",
        median(bare),
        median(wrapped)
    );

    let copies = 16;
    let calls = (steps / copies).max(1);
    let vec_actions = actions(calls * copies, &limits);
    let mut per_threads = Vec::new();
    for threads in [1, 2] {
        let mut env = VecStepEnv::by_name(&name, copies, threads)?;
        let resets = vec![
            Command::Reset {
                condition: 0,
                seed: TaskSeed::new(0)
            };
            copies
        ];
        let mut runs = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            for (k, u) in vec_actions.chunks(copies * d.du).enumerate() {
                if k % (d.horizon + 1) == 0 {
                    env.run(&resets, u)?;
                } else {
                    env.run(&vec![Command::Step; copies], u)?;
                }
            }
            runs.push(start.elapsed().as_secs_f64() * 1e6 / (calls * copies) as f64);
        }
        per_threads.push(median(runs));
    }
    println!(
        "{name}: VecStepEnv of {copies} copies, {calls} calls, median of 5: 1 thread {:.2} µs/copy-step, 2 threads {:.2} µs/copy-step, speed-up {:.2}x",
        per_threads[0],
        per_threads[1],
        per_threads[0] / per_threads[1]
    );
    Ok(())
}
