//! Tasks with randomness of their own: the sampler hands every rollout a task seed named by
//! (run seed, iteration, condition, sample), the episodes it gives do not depend on the thread
//! count, and a task that ignores the seed rolls out exactly as the sampler did before seeds.

use std::sync::Arc;

use pilqr_core::{
    ActionCost, Condition, CoreError, Cost, LinearGaussianPolicy, Outcome, Policy, RunSeed,
    SampleBatch, SampleRequest, Split, StateCost, StateLayout, Task, TaskDims, TaskError, TaskSeed,
    TrajectoryRef, WeightedSum, sample_policy, validate_action, validate_condition,
};
use pilqr_linalg::{MatStack, VecStack};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const HORIZON: usize = 12;
const DT: f64 = 0.1;

/// A unit mass on a line pushed by a force: state `(p, v)`, condition `c` starts at `p = c`.
/// Seeded episodes start at `p = c + 0.2 ε` and get a random push `0.05 ε_t` on the velocity
/// at every step.
#[derive(Clone)]
struct NoisyMass {
    conditions: Vec<Condition>,
    x: [f64; 2],
    process_noise: Option<ChaCha8Rng>,
}

impl NoisyMass {
    fn new() -> Self {
        let conditions = (0..2)
            .map(|c| Condition {
                name: format!("start-{c}"),
                split: Split::Train,
            })
            .collect();
        NoisyMass {
            conditions,
            x: [0.0; 2],
            process_noise: None,
        }
    }
}

impl Task for NoisyMass {
    fn name(&self) -> &str {
        "noisy-mass"
    }

    fn dims(&self) -> TaskDims {
        TaskDims {
            dx: 2,
            du: 1,
            dobs: 2,
            horizon: HORIZON,
            dt: DT,
        }
    }

    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    fn layout(&self) -> StateLayout {
        StateLayout {
            joint_pos: 0..1,
            joint_vel: 1..2,
        }
    }

    fn reset(&mut self, condition: usize) -> Result<(), TaskError> {
        validate_condition(condition, self.conditions.len())?;
        self.x = [condition as f64, 0.0];
        self.process_noise = None;
        Ok(())
    }

    fn reset_seeded(&mut self, condition: usize, seed: TaskSeed) -> Result<(), TaskError> {
        self.reset(condition)?;
        let offset: f64 = StandardNormal.sample(&mut seed.rng("initial-state"));
        self.x[0] += 0.2 * offset;
        self.process_noise = Some(seed.rng("process-noise"));
        Ok(())
    }

    fn step(&mut self, u: &[f64]) -> Result<(), TaskError> {
        validate_action(u, 1)?;
        let push = match &mut self.process_noise {
            Some(rng) => {
                let e: f64 = StandardNormal.sample(rng);
                0.05 * e
            }
            None => 0.0,
        };
        self.x[1] += DT * u[0] + push;
        self.x[0] += DT * self.x[1];
        Ok(())
    }

    fn state(&self, x: &mut [f64]) {
        x.copy_from_slice(&self.x);
    }

    fn observation(&self, obs: &mut [f64]) {
        obs.copy_from_slice(&self.x);
    }

    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        validate_condition(condition, self.conditions.len())?;
        Ok(Arc::new(
            WeightedSum::new()
                .with(1.0, Arc::new(StateCost::new(vec![0], vec![0.0])))
                .with(1e-2, Arc::new(ActionCost { weights: vec![1.0] })),
        ))
    }

    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        validate_condition(condition, self.conditions.len())?;
        let metric = traj.x(HORIZON - 1)[0].abs();
        Ok(Outcome {
            success: metric < 0.1,
            metric,
        })
    }

    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }
}

/// The same mass without randomness: it implements `reset` only, so the sampler's
/// `reset_seeded` falls back to it.
#[derive(Clone)]
struct PlainMass(NoisyMass);

impl Task for PlainMass {
    fn name(&self) -> &str {
        "plain-mass"
    }

    fn dims(&self) -> TaskDims {
        self.0.dims()
    }

    fn conditions(&self) -> &[Condition] {
        self.0.conditions()
    }

    fn layout(&self) -> StateLayout {
        self.0.layout()
    }

    fn reset(&mut self, condition: usize) -> Result<(), TaskError> {
        self.0.reset(condition)
    }

    fn step(&mut self, u: &[f64]) -> Result<(), TaskError> {
        self.0.step(u)
    }

    fn state(&self, x: &mut [f64]) {
        self.0.state(x)
    }

    fn observation(&self, obs: &mut [f64]) {
        self.0.observation(obs)
    }

    fn cost(&self, condition: usize) -> Result<Arc<dyn Cost>, TaskError> {
        self.0.cost(condition)
    }

    fn success(&self, condition: usize, traj: TrajectoryRef<'_>) -> Result<Outcome, TaskError> {
        self.0.success(condition, traj)
    }

    fn fork(&self) -> Option<Box<dyn Task>> {
        Some(Box::new(self.clone()))
    }
}

/// A policy that pushes nothing and ignores its noise, so that the only randomness of a
/// rollout is the task's.
struct Idle;

impl Policy for Idle {
    fn action_dim(&self) -> usize {
        1
    }

    fn act(
        &self,
        _t: usize,
        _x: &[f64],
        _obs: &[f64],
        _noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError> {
        u[0] = 0.0;
        Ok(())
    }
}

/// A noisy feedback controller `u = -p - v + ε`.
fn controller() -> LinearGaussianPolicy {
    let gains = MatStack::from_fn(HORIZON, 1, 2, |_, mut k| {
        k[(0, 0)] = -1.0;
        k[(0, 1)] = -1.0;
    });
    let cov = MatStack::from_fn(HORIZON, 1, 1, |_, mut m| m[(0, 0)] = 0.5);
    // Valid by construction: positive variance, consistent sizes.
    LinearGaussianPolicy::new(gains, VecStack::zeros(HORIZON, 1), cov).unwrap()
}

fn request(seed: u64, iteration: usize, condition: usize, count: usize) -> SampleRequest {
    SampleRequest {
        seed: RunSeed::new(seed),
        iteration,
        condition,
        count,
    }
}

fn sample(task: &mut dyn Task, policy: &dyn Policy, req: SampleRequest) -> SampleBatch {
    sample_policy(task, policy, None, req).unwrap()
}

fn same_bits(a: &SampleBatch, b: &SampleBatch) -> bool {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    bits(a.x_all()) == bits(b.x_all())
        && bits(a.u_all()) == bits(b.u_all())
        && bits(a.obs_all()) == bits(b.obs_all())
        && bits(a.noise_all()) == bits(b.noise_all())
        && bits(a.cost_all()) == bits(b.cost_all())
}

#[test]
fn the_same_seed_gives_the_same_samples_and_another_seed_others() {
    let mut task = NoisyMass::new();
    let a = sample(&mut task, &controller(), request(3, 2, 1, 6));
    let b = sample(&mut task, &controller(), request(3, 2, 1, 6));
    assert!(same_bits(&a, &b));
    for other in [request(4, 2, 1, 6), request(3, 5, 1, 6)] {
        let c = sample(&mut task, &controller(), other);
        assert_ne!(a.x(0, 0), c.x(0, 0), "{other:?}");
    }
}

#[test]
fn each_sample_gets_the_task_stream_named_by_its_indices() {
    let (seed, iteration, condition) = (RunSeed::new(8), 4, 1);
    let mut task = NoisyMass::new();
    let req = SampleRequest {
        seed,
        iteration,
        condition,
        count: 3,
    };
    let batch = sample(&mut task, &Idle, req);
    // Oracle: drive the task by hand through the episode each sample's indices name.
    let mut x = [0.0; 2];
    for i in 0..3 {
        task.reset_seeded(condition, seed.task_seed(iteration, condition, i))
            .unwrap();
        for t in 0..HORIZON {
            task.state(&mut x);
            assert_eq!(batch.x(i, t), x, "sample {i}, step {t}");
            task.step(&[0.0]).unwrap();
        }
    }
    // Different sample indices: different initial states and different process noise.
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        assert_ne!(batch.x(i, 0), batch.x(j, 0));
        let velocity_change = |s: usize| batch.x(s, 2)[1] - batch.x(s, 1)[1];
        assert_ne!(velocity_change(i), velocity_change(j));
    }
    // The nominal episode of `reset` has neither.
    task.reset(condition).unwrap();
    task.step(&[0.0]).unwrap();
    task.state(&mut x);
    assert_eq!(x, [condition as f64, 0.0]);
}

#[test]
fn samples_do_not_depend_on_the_thread_count() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut task = NoisyMass::new();
            sample(&mut task, &controller(), request(5, 1, 0, 7))
        })
    };
    let one = run(1);
    let two = run(2);
    assert!(same_bits(&one, &two));
    // The rollouts really are random, so equality above is not trivial.
    assert_ne!(one.x(0, 0), one.x(1, 0));
}

#[test]
fn a_task_that_ignores_the_seed_rolls_out_as_without_seeds() {
    let (seed, iteration, condition, count) = (RunSeed::new(2), 3, 1, 4);
    let req = SampleRequest {
        seed,
        iteration,
        condition,
        count,
    };
    let policy = controller();
    let mut plain = PlainMass(NoisyMass::new());
    let batch = sample(&mut plain, &policy, req);
    // Oracle: the rollout of the sampler before tasks were seeded — plain `reset`, the action
    // noise of `sample_rng`, the policy, one step per action but the last.
    let cost = plain.cost(condition).unwrap();
    let mut x = [0.0; 2];
    let mut u = [0.0];
    for i in 0..count {
        let mut rng = seed.sample_rng(iteration, condition, i);
        let noise: Vec<f64> = (0..HORIZON)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        plain.reset(condition).unwrap();
        let (mut xs, mut us) = (Vec::new(), Vec::new());
        for t in 0..HORIZON {
            plain.state(&mut x);
            policy.act(t, &x, &x, &noise[t..t + 1], &mut u).unwrap();
            xs.extend_from_slice(&x);
            us.extend_from_slice(&u);
            if t + 1 < HORIZON {
                plain.step(&u).unwrap();
            }
        }
        let expected_cost = cost
            .values(TrajectoryRef::new(HORIZON, 2, 1, &xs, &us).unwrap())
            .unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let got_x: Vec<f64> = (0..HORIZON).flat_map(|t| batch.x(i, t).to_vec()).collect();
        let got_u: Vec<f64> = (0..HORIZON).flat_map(|t| batch.u(i, t).to_vec()).collect();
        let got_noise: Vec<f64> = (0..HORIZON)
            .flat_map(|t| batch.noise(i, t).to_vec())
            .collect();
        assert_eq!(bits(&got_x), bits(&xs), "sample {i}");
        assert_eq!(bits(&got_u), bits(&us), "sample {i}");
        assert_eq!(bits(&got_noise), bits(&noise), "sample {i}");
        assert_eq!(bits(batch.costs(i)), bits(&expected_cost), "sample {i}");
    }
    // The task's own draws do not shift the action noise: the noisy task sees the same.
    let noisy = sample(&mut NoisyMass::new(), &policy, req);
    assert_eq!(noisy.noise_all(), batch.noise_all());
    assert_ne!(noisy.x_all(), batch.x_all());
}

#[test]
fn a_task_seed_made_by_hand_replays_its_episode() {
    let seed = TaskSeed::new(RunSeed::new(1).task_seed(0, 0, 0).value());
    let mut a = NoisyMass::new();
    let mut b = a.clone();
    a.reset_seeded(0, seed).unwrap();
    b.reset_seeded(0, seed).unwrap();
    let (mut xa, mut xb) = ([0.0; 2], [0.0; 2]);
    for _ in 0..HORIZON {
        a.step(&[0.3]).unwrap();
        b.step(&[0.3]).unwrap();
    }
    a.state(&mut xa);
    b.state(&mut xb);
    assert_eq!(xa, xb);
    let mut c = NoisyMass::new();
    c.reset_seeded(0, TaskSeed::new(seed.value() ^ 1)).unwrap();
    let mut xc = [0.0; 2];
    c.state(&mut xc);
    let mut x0 = [0.0; 2];
    a.reset_seeded(0, seed).unwrap();
    a.state(&mut x0);
    assert_ne!(x0, xc);
}
