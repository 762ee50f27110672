//! Physics sanity of every task through the public interface: torques accelerate their own
//! joints, random torques at the clamp keep every state finite and physically bounded, joint
//! limits hold, and the task-specific contacts behave — a hooked handle pulled by the arm opens
//! the door, a struck puck slides, decelerates by friction and stops, the plug cannot pass
//! through the socket. (The blocks pushed by the two grippers and their slide and friction laws are unit tests in
//! `src/gripper_pusher.rs` and `src/gripper_pusher_table.rs`.)

use pilqr_core::{CoreError, Policy, RunSeed, SampleRequest, Task, TaskError, sample_policy};
use pilqr_tasks::door_opening::{HINGE_LIMITS, TARGET_ANGLE};
use pilqr_tasks::hockey::FLOOR_HALF;
use pilqr_tasks::power_plug::{HOLE_DEPTH, HOLE_HALF, PIN_RADIUS};
use pilqr_tasks::scripted::{self, PointGoal, Rollout, Script};
use pilqr_tasks::seven_dof::{DOF, FOREARM, JOINT_LIMITS, UPPER_ARM};
use pilqr_tasks::world::Vector;
use pilqr_tasks::{DoorOpening, Hockey, PowerPlug, TASK_NAMES, task_by_name};

/// Random bang-bang torques far beyond every actuator's range (the task must clamp them): the
/// sign of each entry is the sign of the sample's fresh Gaussian noise at every step.
struct BangBang {
    du: usize,
}

impl Policy for BangBang {
    fn action_dim(&self) -> usize {
        self.du
    }
    fn act(
        &self,
        _t: usize,
        _x: &[f64],
        _o: &[f64],
        noise: &[f64],
        u: &mut [f64],
    ) -> Result<(), CoreError> {
        for (ui, n) in u.iter_mut().zip(noise) {
            *ui = 1e3 * n.signum();
        }
        Ok(())
    }
}

fn state_of(task: &dyn Task) -> Vec<f64> {
    let mut x = vec![0.0; task.dims().dx];
    task.state(&mut x);
    x
}

fn norm3(v: &[f64]) -> f64 {
    v[..3].iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// Rollouts per task in the random-torque test. 100 for every task, the 3-D ones included: the
/// test takes 11–15 s in the test profile on the shared 2-core machine (≈ 25 ms per 3-D
/// rollout, two at a time), the whole suite about 20 s.
const RANDOM_ROLLOUTS: usize = 100;

/// Largest joint speed (rad/s) and point speed (m/s) accepted: at the clamp the joints reach
/// ≈ 19 rad/s and the tool points ≈ 9 m/s; an unstable integration would blow far past these.
const MAX_JOINT_SPEED: f64 = 40.0;
const MAX_POINT_SPEED: f64 = 20.0;
/// Joint-limit overshoot accepted (rad): rapier's limits are stiff but not exact (≈ 0.02 rad
/// at the clamp).
const LIMIT_SLACK: f64 = 0.05;

/// Why the state `x` of task `name` is not physically plausible, if it is not.
fn implausible(name: &str, x: &[f64]) -> Option<String> {
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Some(format!("entry {i} is {}", x[i]));
    }
    let fail = |what: &str| Some(format!("{what}: {x:?}"));
    match name {
        "point-mass" => (x.iter().any(|v| v.abs() > 5.0)).then(|| format!("{x:?}")),
        "reacher" => {
            // Tip within the 0.21 m reach of the base; joints below the terminal speed of the
            // model, gear 200 N·m over damping 1 N·m·s/rad (with slack); elbow within ±3 rad.
            if x[2..4].iter().any(|v| v.abs() > 1.05 * 200.0) {
                return fail("joint speed");
            }
            if x[4].hypot(x[5]) > 0.211 {
                return fail("tip beyond reach");
            }
            // At 200 N·m the limit gives more than at the 3-D arms' torques: up to 0.072 rad
            // measured in this test, hence 0.1.
            if x[1].abs() > 3.1 {
                return fail("elbow beyond its limits");
            }
            None
        }
        "gripper-pusher" => {
            use pilqr_tasks::gripper_pusher::{HINGE_LIMIT, WRIST_LIMIT};
            for (j, limit) in [(1, HINGE_LIMIT), (2, HINGE_LIMIT), (3, WRIST_LIMIT)] {
                if x[j].abs() > f64::from(limit) + LIMIT_SLACK {
                    return fail(&format!("joint {j} beyond its limit"));
                }
            }
            if x[6..10].iter().any(|v| v.abs() > MAX_JOINT_SPEED) {
                return fail("joint speed");
            }
            // Fingertips within 3 × 0.4 + 0.1 m along and 0.2 m across of the base (+3.5 cm: measured
            // up to 1.2 cm beyond the rigid-chain bound at the clamp, not yet explained).
            let reach = 1.3f64.hypot(0.2) + 0.035;
            if norm3(&x[12..15]) > reach || norm3(&x[15..18]) > reach {
                return fail("fingertip beyond reach");
            }
            if x[24..30].iter().any(|v| v.abs() > MAX_POINT_SPEED) {
                return fail("fingertip speed");
            }
            // The block stays in the plane, moves only when pushed, never faster than a tip.
            if x[20].abs() > 1e-6
                || norm3(&x[30..33]) > MAX_POINT_SPEED
                || x[18].hypot(x[19]) > 10.0
            {
                return fail("block out of the plane, too fast or too far");
            }
            None
        }
        "gripper-pusher-table" => {
            if x[3..6].iter().any(|v| v.abs() > MAX_JOINT_SPEED) {
                return fail("joint speed");
            }
            // Gripper points within the arm's 0.95 m reach, the block on the 4 × 4 m table.
            if x[6].hypot(x[7]) > 0.96 || x[8].hypot(x[9]) > 1.01 {
                return fail("gripper beyond reach");
            }
            if x[10..14].iter().any(|v| v.abs() > MAX_POINT_SPEED) {
                return fail("gripper speed");
            }
            if x[14].abs() > 2.0 || x[15].abs() > 2.0 || x[17].hypot(x[18]) > MAX_POINT_SPEED {
                return fail("block off the table or too fast");
            }
            None
        }
        "door-opening" | "hockey" | "power-plug" => {
            for (j, [lo, hi]) in JOINT_LIMITS.iter().enumerate() {
                let q = x[j];
                if q < f64::from(*lo) - LIMIT_SLACK || q > f64::from(*hi) + LIMIT_SLACK {
                    return fail(&format!("joint {j} at {q} beyond its limits"));
                }
            }
            if x[DOF..2 * DOF].iter().any(|v| v.abs() > MAX_JOINT_SPEED) {
                return fail("joint speed");
            }
            // Hand points within shoulder offset + upper arm + forearm + tool (≤ 0.6 m) of
            // the arm's base (as the task modules document it); their speeds bounded.
            let base = match name {
                "door-opening" => [-0.10, 0.0, 0.55],
                "hockey" => [-0.35, 0.0, 0.75],
                _ => [-0.28, 0.0, 0.55],
            };
            let reach = f64::from(0.10 + UPPER_ARM + FOREARM) + 0.6;
            for k in 0..2 {
                let p = &x[14 + 3 * k..17 + 3 * k];
                let from_base: Vec<f64> = p.iter().zip(base).map(|(a, b)| a - b).collect();
                if norm3(&from_base) > reach || norm3(&x[20 + 3 * k..]) > MAX_POINT_SPEED {
                    return fail("hand point beyond reach or too fast");
                }
            }
            match name {
                "door-opening" => {
                    let [open, closed] = HINGE_LIMITS.map(f64::from);
                    if x[26] < open - LIMIT_SLACK || x[26] > closed + LIMIT_SLACK {
                        return fail("door beyond its hinge limits");
                    }
                    None
                }
                "hockey" => {
                    let floor = f64::from(FLOOR_HALF);
                    if x[26].abs() > floor || x[27].abs() > floor {
                        return fail("puck off the floor");
                    }
                    (x[28].hypot(x[29]) > MAX_POINT_SPEED).then(|| format!("puck speed: {x:?}"))
                }
                _ => None,
            }
        }
        other => Some(format!("no bounds known for task {other}")),
    }
}

#[test]
fn a_positive_torque_increases_the_joint_velocity() {
    for name in TASK_NAMES {
        let mut task = task_by_name(name).unwrap();
        let d = task.dims();
        let layout = task.layout();
        for j in 0..d.du {
            for sign in [1.0, -1.0] {
                task.reset(0).unwrap();
                let before = state_of(task.as_ref())[layout.joint_vel.start + j];
                let mut u = vec![0.0; d.du];
                u[j] = 0.5 * sign;
                task.step(&u).unwrap();
                let after = state_of(task.as_ref())[layout.joint_vel.start + j];
                assert!(
                    sign * (after - before) > 1e-3,
                    "{name} joint {j} sign {sign}: {before} -> {after}"
                );
            }
        }
    }
}

#[test]
fn random_torques_at_the_clamp_keep_every_state_finite_and_bounded() {
    for name in TASK_NAMES {
        let mut task = task_by_name(name).unwrap();
        let d = task.dims();
        let conditions = task.conditions().len();
        let policy = BangBang { du: d.du };
        let mut rollouts = 0;
        for c in 0..conditions {
            // Spread the rollouts over the conditions (the first ones take the remainder).
            let count =
                RANDOM_ROLLOUTS / conditions + usize::from(c < RANDOM_ROLLOUTS % conditions);
            let req = SampleRequest {
                seed: RunSeed::new(5),
                iteration: 0,
                condition: c,
                count,
            };
            let batch = sample_policy(task.as_mut(), &policy, None, req).unwrap();
            for s in 0..count {
                for t in 0..d.horizon {
                    if let Some(why) = implausible(name, batch.x(s, t)) {
                        panic!("{name} condition {c} sample {s} step {t}: {why}");
                    }
                }
                // The torques really were at the clamp: the arm moved.
                assert_ne!(batch.x(s, 0), batch.x(s, d.horizon - 1), "{name}");
            }
            rollouts += count;
        }
        assert_eq!(rollouts, RANDOM_ROLLOUTS, "{name}");
    }
}

#[test]
fn held_torques_at_the_clamp_stop_at_the_joint_limits() {
    for name in ["door-opening", "hockey", "power-plug"] {
        let mut task = task_by_name(name).unwrap();
        for sign in [1.0, -1.0] {
            task.reset(0).unwrap();
            for _ in 1..task.dims().horizon {
                task.step(&[sign * 1e3; DOF]).unwrap();
                let x = state_of(task.as_ref());
                if let Some(why) = implausible(name, &x) {
                    panic!("{name} sign {sign}: {why}");
                }
            }
            // Held torques drive most joints onto a limit (some are stopped by contacts or by
            // the coupling with others); none is beyond it.
            let x = state_of(task.as_ref());
            let at_limit = (0..DOF)
                .filter(|&j| {
                    let limit = JOINT_LIMITS[j][usize::from(sign > 0.0)];
                    (x[j] - f64::from(limit)).abs() < LIMIT_SLACK
                })
                .count();
            assert!(
                at_limit >= 3,
                "{name} sign {sign}: {at_limit} joints at a limit: {x:?}"
            );
        }
    }
}

fn scripted_rollout<T: Task>(task: &mut T, c: usize, script: Script<T>) -> Rollout {
    scripted::rollout(task, c, |task, t, x| script(task, c, t, x)).unwrap()
}

#[test]
fn a_hooked_handle_pulled_by_the_arm_opens_the_door() {
    let mut task = DoorOpening::new().unwrap();
    let d = task.dims();
    for c in 0..task.conditions().len() {
        let run = scripted_rollout(&mut task, c, scripted::door_opening);
        let angle = |t: usize| run.state(t, d.dx)[26];
        // Closed while the hook approaches and slides behind the bar...
        for t in 0..40 {
            assert!(
                angle(t).abs() < 0.02,
                "condition {c} step {t}: {}",
                angle(t)
            );
        }
        // ...then the pull swings it open past the target, through the hook alone (the
        // actions are joint torques of the arm; nothing else acts on the door).
        let end = angle(d.horizon - 1);
        assert!(end <= TARGET_ANGLE, "condition {c}: door at {end} rad");
        let out = task.success(c, run.trajectory(d).unwrap()).unwrap();
        assert!(out.success, "condition {c}: {out:?}");
    }
}

#[test]
fn a_struck_puck_slides_decelerates_by_friction_and_stops_in_the_goal() {
    let mut task = Hockey::new().unwrap();
    let d = task.dims();
    let mu_g = 0.1 * 9.81;
    for c in 0..task.conditions().len() {
        let run = scripted_rollout(&mut task, c, scripted::hockey);
        let speed = |t: usize| {
            let x = run.state(t, d.dx);
            x[28].hypot(x[29])
        };
        let start = run.state(0, d.dx)[26..28].to_vec();
        // At rest until the strike.
        let hit = (0..d.horizon).find(|&t| speed(t) > 1e-3).unwrap();
        assert!(hit > 45, "condition {c}: the puck moved at step {hit}");
        let settled = &run.state(hit - 1, d.dx)[26..28];
        assert!(
            (settled[0] - start[0]).hypot(settled[1] - start[1]) < 1e-4,
            "condition {c}: the puck crept from {start:?} to {settled:?}"
        );
        // Struck hard enough to reach the goal: v0² > 2 μ g · 1.4 m.
        let (peak_t, peak) = (hit..d.horizon)
            .map(|t| (t, speed(t)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert!(
            peak > (2.0 * mu_g * 1.4f64).sqrt(),
            "condition {c}: peak speed {peak}"
        );
        // Free sliding after the blade lets go: Coulomb deceleration μ g (±25 %), measured
        // over 0.4 s well before the puck reaches the goal.
        let (t1, t2) = (peak_t + 2, peak_t + 10);
        let decel = (speed(t1) - speed(t2)) / ((t2 - t1) as f64 * d.dt);
        assert!(
            (decel - mu_g).abs() < 0.25 * mu_g,
            "condition {c}: deceleration {decel} m/s², μg = {mu_g}"
        );
        // It comes to rest, inside the goal.
        assert!(speed(d.horizon - 1) < 1e-3, "condition {c}: still moving");
        let out = task.success(c, run.trajectory(d).unwrap()).unwrap();
        assert!(out.success, "condition {c}: {out:?}");
    }
}

/// Until step `switch` run `lead(task, t, x)`; then push the pin (tip and base, so that it
/// stays along +x) hard toward `push` (tip target, stiffness 300 N/m: 10–20 N at the
/// distances used, several times what the scripts apply).
fn push_plug(
    task: &mut PowerPlug,
    switch: usize,
    lead: impl Fn(&PowerPlug, usize, &[f64]) -> Result<[f64; DOF], TaskError>,
    push: [f64; 3],
) -> Rollout {
    let [tip, base] = PowerPlug::pin_points();
    let push = Vector::new(push[0] as f32, push[1] as f32, push[2] as f32);
    scripted::rollout(task, 0, |task, t, x| {
        if t < switch {
            return lead(task, t, x);
        }
        let goal = |local: Vector, target: Vector| PointGoal {
            local,
            target,
            velocity: Vector::ZERO,
            kp: 300.0,
            kd: 2.5,
        };
        Ok(scripted::cartesian_servo(
            task.world(),
            task.arm(),
            &[
                goal(tip, push),
                goal(base, push - Vector::X * (tip.x - base.x)),
            ],
            &[],
            0.2,
        ))
    })
    .unwrap()
}

#[test]
fn the_plug_cannot_pass_through_the_socket() {
    let mut task = PowerPlug::new().unwrap();
    let d = task.dims();
    let e = task.entry(0).unwrap();
    let tip = |run: &Rollout, t: usize| run.state(t, d.dx)[14..17].to_vec();
    // Contacts are soft: a few millimetres of penetration under a hard push (measured: none on
    // the face, ≈ 3 mm beyond the clearance against the hole's walls, part of it the pin's
    // tilt in the hole).
    let soft = 0.005;
    let script = |task: &PowerPlug, t: usize, x: &[f64]| scripted::power_plug(task, 0, t, x);

    // 1. Beside the hole (the script's approach, shifted 4.5 cm sideways), then hard into the
    // socket's face, aiming 5 cm deep.
    let beside = [e[0] - 0.03, e[1] + 0.045, e[2]];
    let approach = |task: &PowerPlug, _t: usize, _x: &[f64]| {
        let [tip, base] = PowerPlug::pin_points();
        let at = Vector::new(beside[0] as f32, beside[1] as f32, beside[2] as f32);
        let goal = |local: Vector, target: Vector| PointGoal {
            local,
            target,
            velocity: Vector::ZERO,
            kp: 60.0,
            kd: 2.5,
        };
        Ok(scripted::cartesian_servo(
            task.world(),
            task.arm(),
            &[goal(tip, at), goal(base, at - Vector::X * (tip.x - base.x))],
            &[],
            0.2,
        ))
    };
    let run = push_plug(&mut task, 40, approach, [e[0] + 0.05, beside[1], beside[2]]);
    let deepest = (0..d.horizon)
        .map(|t| tip(&run, t)[0])
        .fold(f64::MIN, f64::max);
    assert!(
        deepest < e[0] + soft,
        "tip reached x = {deepest}, face at {}",
        e[0]
    );
    assert!(!task.success(0, run.trajectory(d).unwrap()).unwrap().success);

    // 2. Inserted by the script, then hard toward a point 2 cm past the bottom.
    let bottom = e[0] + f64::from(HOLE_DEPTH);
    let run = push_plug(&mut task, 60, script, [bottom + 0.02, e[1], e[2]]);
    let deepest = (0..d.horizon)
        .map(|t| tip(&run, t)[0])
        .fold(f64::MIN, f64::max);
    assert!(deepest > bottom - soft, "not inserted: tip at {deepest}");
    assert!(
        deepest < bottom + soft,
        "through the bottom: tip at {deepest}, bottom {bottom}"
    );

    // 3. About half inserted by the script, then pushed hard 3 cm sideways (and on toward the
    // bottom, so that it is not levered out) into each of the hole's walls: the tip stays within
    // the 2 mm clearance of the hole's axis (plus the contact softness).
    let clearance = f64::from(HOLE_HALF - PIN_RADIUS);
    for (axis, sign) in [(1, 1.0), (1, -1.0), (2, 1.0), (2, -1.0)] {
        let mut side = [bottom, e[1], e[2]];
        side[axis] += sign * 0.03;
        let run = push_plug(&mut task, 56, script, side);
        for t in 56..d.horizon {
            let p = tip(&run, t);
            assert!(
                p[0] > e[0] + 0.015,
                "axis {axis} sign {sign} step {t}: out: {p:?}"
            );
            let off = (p[axis] - e[axis]).abs();
            assert!(
                off < clearance + soft,
                "axis {axis} sign {sign} step {t}: tip {off} m off the hole's axis, clearance \
                 {clearance}"
            );
        }
    }
}
