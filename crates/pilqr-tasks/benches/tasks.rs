//! Speed of the task suite: episodes per second on one thread (reset + T−1 control steps with
//! state reads, as the sampler does), reset time, and `sample_policy` on 1 vs 2 threads.
//!
//! ```text
//! cargo bench -p pilqr-tasks --bench tasks
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use pilqr_core::{LinearGaussianPolicy, RunSeed, SampleRequest, Task, sample_policy};
use pilqr_linalg::{MatStack, VecStack};
use pilqr_tasks::{TASK_NAMES, task_by_name};

/// One episode with a fixed, torque-varying action sequence; returns the last state's sum.
fn episode(task: &mut dyn Task, actions: &[f64], x: &mut [f64]) -> f64 {
    let d = task.dims();
    task.reset(0).expect("condition 0 exists");
    for t in 0..d.horizon {
        task.state(x);
        if t + 1 < d.horizon {
            task.step(&actions[t * d.du..(t + 1) * d.du])
                .expect("valid action");
        }
    }
    x.iter().sum()
}

fn benches(c: &mut Criterion) {
    for name in TASK_NAMES {
        let mut task = task_by_name(name).expect("registered task");
        let d = task.dims();
        let actions: Vec<f64> = (0..d.horizon * d.du)
            .map(|k| 0.5 * ((k as f64) * 0.37).sin())
            .collect();
        let mut x = vec![0.0; d.dx];
        let mut g = c.benchmark_group(*name);
        g.sample_size(20).measurement_time(Duration::from_secs(4));
        g.bench_function("episode", |b| {
            b.iter(|| black_box(episode(task.as_mut(), &actions, &mut x)))
        });
        g.bench_function("reset", |b| {
            b.iter(|| task.reset(black_box(0)).expect("condition 0 exists"))
        });
        let cov = MatStack::from_fn(d.horizon, d.du, d.du, |_, mut m| {
            for i in 0..d.du {
                m[(i, i)] = 0.1;
            }
        });
        let policy = LinearGaussianPolicy::new(
            MatStack::zeros(d.horizon, d.du, d.dx),
            VecStack::zeros(d.horizon, d.du),
            cov,
        )
        .expect("valid covariance");
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool");
            let req = SampleRequest {
                seed: RunSeed::new(0),
                iteration: 0,
                condition: 0,
                count: 8,
            };
            g.bench_function(format!("sample_8_episodes_{threads}_threads"), |b| {
                b.iter(|| {
                    pool.install(|| {
                        black_box(
                            sample_policy(task.as_mut(), &policy, None, req).expect("sampling"),
                        )
                    })
                })
            });
        }
        g.finish();
    }
}

criterion_group!(suite, benches);
criterion_main!(suite);
