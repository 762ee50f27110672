//! `VecStepEnv` against lone `StepEnv`s: the outputs of every copy are bit for bit those of a
//! `StepEnv` given the same commands, whatever the number of worker threads.

use pilqr_core::TaskSeed;
use pilqr_py::{Command, EnvError, StepEnv, VecEnvError, VecStepEnv};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Everything a run reports, as bits, per call.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    obs: Vec<u64>,
    state: Vec<u64>,
    reward: Vec<u64>,
    truncated: Vec<bool>,
    success: Vec<Option<(bool, u64)>>,
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The commands of a gymnasium-style run with autoreset on the next call: all copies reset
/// first (copy `i` from condition `i % conditions` with seed `100 + i`), then each call steps
/// the copies, resetting a copy on the call after its episode was truncated (with a fresh
/// condition and seed from `rng`). Returns `calls` rounds of (commands, actions).
fn script(
    copies: usize,
    conditions: usize,
    du: usize,
    horizon: usize,
    calls: usize,
) -> Vec<(Vec<Command>, Vec<f64>)> {
    let mut rng = StdRng::seed_from_u64(9);
    let mut steps = vec![0usize; copies];
    let mut rounds = vec![(
        (0..copies)
            .map(|i| Command::Reset {
                condition: i % conditions,
                seed: TaskSeed::new(100 + i as u64),
            })
            .collect(),
        vec![0.0; copies * du],
    )];
    for _ in 0..calls {
        let commands = steps
            .iter_mut()
            .map(|t| {
                if *t == horizon {
                    *t = 0;
                    Command::Reset {
                        condition: rng.random_range(0..conditions),
                        seed: TaskSeed::new(rng.random()),
                    }
                } else {
                    *t += 1;
                    Command::Step
                }
            })
            .collect();
        let actions = (0..copies * du)
            .map(|_| rng.random_range(-1.0..=1.0))
            .collect();
        rounds.push((commands, actions));
    }
    rounds
}

fn run_vec(name: &str, threads: usize, rounds: &[(Vec<Command>, Vec<f64>)]) -> Vec<Record> {
    let copies = rounds[0].0.len();
    let mut env = VecStepEnv::by_name(name, copies, threads).unwrap();
    assert_eq!((env.copies(), env.threads()), (copies, threads));
    rounds
        .iter()
        .map(|(commands, actions)| {
            let out = env.run(commands, actions).unwrap();
            Record {
                obs: bits(&out.obs),
                state: bits(&out.state),
                reward: bits(&out.reward),
                truncated: out.truncated.clone(),
                success: out
                    .success
                    .iter()
                    .map(|s| s.map(|o| (o.success, o.metric.to_bits())))
                    .collect(),
            }
        })
        .collect()
}

/// The same rounds through `copies` separate `StepEnv`s, one after the other.
fn run_alone(name: &str, rounds: &[(Vec<Command>, Vec<f64>)]) -> Vec<Record> {
    let copies = rounds[0].0.len();
    let mut envs: Vec<StepEnv> = (0..copies)
        .map(|_| StepEnv::by_name(name).unwrap())
        .collect();
    let du = envs[0].dims().du;
    rounds
        .iter()
        .map(|(commands, actions)| {
            let mut r = Record {
                obs: Vec::new(),
                state: Vec::new(),
                reward: Vec::new(),
                truncated: Vec::new(),
                success: Vec::new(),
            };
            for (i, env) in envs.iter_mut().enumerate() {
                let (reward, truncated, success) = match commands[i] {
                    Command::Step => {
                        let o = env.step(&actions[i * du..(i + 1) * du]).unwrap();
                        (o.reward, o.truncated, o.success)
                    }
                    Command::Reset { condition, seed } => {
                        env.reset(condition, seed).unwrap();
                        (0.0, false, None)
                    }
                    Command::Keep => (0.0, false, None),
                };
                r.obs.extend(bits(env.observation()));
                r.state.extend(bits(env.state()));
                r.reward.push(reward.to_bits());
                r.truncated.push(truncated);
                r.success
                    .push(success.map(|o| (o.success, o.metric.to_bits())));
            }
            r
        })
        .collect()
}

#[test]
fn sixteen_copies_match_lone_envs_on_1_2_and_4_threads() {
    for name in ["reacher", "point-mass"] {
        let env = StepEnv::by_name(name).unwrap();
        let d = env.dims();
        // Past one horizon, so that every copy is reset on the way and reports its success.
        let rounds = script(16, env.conditions().len(), d.du, d.horizon, d.horizon + 7);
        let alone = run_alone(name, &rounds);
        assert!(alone.iter().any(|r| r.success.iter().any(Option::is_some)));
        assert!(alone.iter().any(|r| r.truncated.iter().any(|&t| t)));
        for threads in [1, 2, 4] {
            assert!(
                run_vec(name, threads, &rounds) == alone,
                "{name}, {threads} threads"
            );
        }
    }
}

#[test]
fn a_failing_copy_is_named_and_the_others_still_run() {
    let mut env = VecStepEnv::by_name("point-mass", 4, 2).unwrap();
    let du = env.dims().du;
    let resets: Vec<Command> = (0..4)
        .map(|i| Command::Reset {
            condition: i % 2,
            seed: TaskSeed::new(i as u64),
        })
        .collect();
    env.run(&resets, &vec![0.0; 4 * du]).unwrap();
    let mut actions = vec![0.5; 4 * du];
    actions[2 * du + 1] = f64::NAN;
    actions[3 * du] = f64::INFINITY;
    let err = env.run(&[Command::Step; 4], &actions).unwrap_err();
    assert!(
        matches!(
            err,
            VecEnvError::Copy {
                copy: 2,
                source: EnvError::Action { step: 0, .. }
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("copy 2: step 0: action entry 1"),
        "{err}"
    );
    // Copies 0 and 1 stepped; the rejected actions left copies 2 and 3 at step 0.
    let steps: Vec<_> = env.envs().iter().map(StepEnv::steps).collect();
    assert_eq!(steps, [Some(1), Some(1), Some(0), Some(0)]);
    assert!(env.outputs().reward[0] < 0.0 && env.outputs().reward[2] == 0.0);
}

#[test]
fn bad_sizes_and_counts_are_errors() {
    assert!(matches!(
        VecStepEnv::by_name("point-mass", 0, 1),
        Err(VecEnvError::Zero(_))
    ));
    assert!(matches!(
        VecStepEnv::by_name("point-mass", 2, 0),
        Err(VecEnvError::Zero(_))
    ));
    let err = VecStepEnv::by_name("juggler", 2, 1).unwrap_err();
    assert!(matches!(
        err,
        VecEnvError::Copy {
            copy: 0,
            source: EnvError::Build { .. }
        }
    ));
    let mixed = vec![
        StepEnv::by_name("point-mass").unwrap(),
        StepEnv::by_name("reacher").unwrap(),
    ];
    assert!(matches!(
        VecStepEnv::new(mixed, 1),
        Err(VecEnvError::Copy { copy: 1, .. })
    ));
    let mut env = VecStepEnv::by_name("point-mass", 3, 1).unwrap();
    let du = env.dims().du;
    assert!(matches!(
        env.run(&[Command::Step; 2], &vec![0.0; 3 * du]),
        Err(VecEnvError::Size {
            field: "commands",
            got: 2,
            expected: 3
        })
    ));
    assert!(matches!(
        env.run(&[Command::Step; 3], &vec![0.0; 3 * du + 1]),
        Err(VecEnvError::Size {
            field: "actions",
            ..
        })
    ));
    // Stepping before a reset is the copy's episode error.
    let err = env
        .run(&[Command::Step; 3], &vec![0.0; 3 * du])
        .unwrap_err();
    assert!(matches!(
        err,
        VecEnvError::Copy {
            copy: 0,
            source: EnvError::Episode(_)
        }
    ));
}
