//! Scripted controllers for the 7-DoF tasks: a Cartesian PD law through the arm's Jacobian
//! transpose, and one script per task that solves it from its state.
//!
//! They are demonstrations, not learners: the physics tests use them to show that the worlds
//! behave (a hooked handle opens the door, a swung stick sends the puck into the goal, an
//! aligned pin goes into the socket), and `examples/render_arm_tasks.rs` renders them for the
//! GIFs in `docs/media/`. Each script is a function of `(task, condition, t, x)` returning the
//! joint torques; [`rollout`] runs any such function for one episode.
//!
//! The servo law ([`cartesian_servo`]) is `τ = Σ_k J_kᵀ (K_p (p*_k − p_k) + K_d (ṗ*_k − ṗ_k))
//! − k_q q̇` over a few points `p_k` of the hand, optionally plus rotational terms that turn
//! axes of the hand toward given directions ([`AxisGoal`]); the arm is gravity-compensated, so
//! there is no gravity term, and the task clamps `τ`. The torque is held for a whole control
//! period (0.05 s), so the gains are kept low enough for the light wrist joints not to chatter
//! (`K_d r² Δt / I` and `k_q Δt / I` around 1 or less).
//!
//! ```
//! use pilqr_core::Task;
//! use pilqr_tasks::{PowerPlug, scripted};
//!
//! let mut task = PowerPlug::new().unwrap();
//! let run = scripted::rollout(&mut task, 0, |task, t, x| scripted::power_plug(task, 0, t, x))
//!     .unwrap();
//! let outcome = task.success(0, run.trajectory(task.dims()).unwrap()).unwrap();
//! assert!(outcome.success, "final tip distance {}", outcome.metric);
//! ```

use pilqr_core::{Task, TaskDims, TaskError, TrajectoryRef, validate_condition};

use crate::error::SuiteError;
use crate::seven_dof::{DOF, HAND, jacobian_transpose};
use crate::world::{SimWorld, Vector};
use crate::{DoorOpening, Hockey, PowerPlug};

/// A scripted controller: `(task, condition, t, x) -> joint torques` (unclamped).
pub type Script<T> = fn(&T, usize, usize, &[f64]) -> Result<[f64; DOF], TaskError>;

/// A point of the hand (in the hand's frame), its world target and its PD gains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointGoal {
    /// The point in the hand's frame.
    pub local: Vector,
    /// Where it should go (world frame, m).
    pub target: Vector,
    /// The target's velocity (m/s; zero for a fixed target): the damping acts on `ṗ* − ṗ`.
    pub velocity: Vector,
    /// Stiffness (N/m).
    pub kp: f64,
    /// Damping (N·s/m).
    pub kd: f64,
}

/// An axis of the hand (in the hand's frame) and the world direction it should point along,
/// with rotational PD gains: the torque `k_r (a × a*) − d_r ω` about the hand, mapped through
/// the rotational Jacobian (joint `j` gets its axis' component).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AxisGoal {
    /// Unit axis in the hand's frame.
    pub local: Vector,
    /// Unit world direction it should take.
    pub target: Vector,
    /// Stiffness (N·m/rad).
    pub kp: f64,
    /// Damping (N·m·s/rad).
    pub kd: f64,
}

/// `Σ Jᵀ (K_p (p* − p) + K_d (ṗ* − ṗ)) + Σ J_ωᵀ (k_r (a × a*) − d_r ω) − k_q q̇` for the 7-DoF
/// arm `arm` of `world` (unclamped torques; points and axes on its last link, the hand).
pub fn cartesian_servo(
    world: &SimWorld,
    arm: usize,
    goals: &[PointGoal],
    axes: &[AxisGoal],
    kq: f64,
) -> [f64; DOF] {
    let mut u = [0.0; DOF];
    let mut qd = [0.0; DOF];
    world.joint_velocities(arm, &mut qd);
    if !axes.is_empty() {
        // Joint axes in world frame (zero beyond the arm's joints); the hand's angular velocity
        // is Σ a_j q̇_j.
        let local_axes = world.arm(arm).joint_axes();
        let joint_axes: [Vector; DOF] = std::array::from_fn(|j| {
            local_axes
                .get(j)
                .map_or(Vector::ZERO, |a| world.link_pose(arm, j).rotation * *a)
        });
        let omega = joint_axes
            .iter()
            .zip(qd)
            .fold(Vector::ZERO, |w, (a, v)| w + *a * v as f32);
        let hand = world.link_pose(arm, HAND).rotation;
        for g in axes {
            let err = (hand * g.local).cross(g.target);
            let torque = err * g.kp as f32 - omega * g.kd as f32;
            for (ui, a) in u.iter_mut().zip(&joint_axes) {
                *ui += f64::from(a.dot(torque));
            }
        }
    }
    for g in goals {
        let p = world.link_point(arm, HAND, g.local);
        let v = world.link_point_velocity(arm, HAND, g.local);
        let e = g.target - p;
        let ev = g.velocity - v;
        let f = [
            g.kp * f64::from(e.x) + g.kd * f64::from(ev.x),
            g.kp * f64::from(e.y) + g.kd * f64::from(ev.y),
            g.kp * f64::from(e.z) + g.kd * f64::from(ev.z),
        ];
        for (ui, t) in u
            .iter_mut()
            .zip(jacobian_transpose(world, arm, HAND, g.local, f))
        {
            *ui += t;
        }
    }
    for (ui, w) in u.iter_mut().zip(qd) {
        *ui -= kq * w;
    }
    u
}

/// States and actions of one episode, step-major (`T·dX` and `T·dU` values; the last action
/// is the one computed at the last state, never applied).
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// States.
    pub states: Vec<f64>,
    /// Actions.
    pub actions: Vec<f64>,
}

impl Rollout {
    /// The rollout as a trajectory of a task with dimensions `dims`.
    pub fn trajectory(&self, dims: TaskDims) -> Result<TrajectoryRef<'_>, TaskError> {
        TrajectoryRef::new(dims.horizon, dims.dx, dims.du, &self.states, &self.actions)
            .map_err(|e| TaskError::Other(Box::new(e)))
    }

    /// State `t` (`dx` values).
    ///
    /// # Panics
    /// If step `t` is beyond the rollout (as slice indexing does).
    pub fn state(&self, t: usize, dx: usize) -> &[f64] {
        &self.states[t * dx..(t + 1) * dx]
    }
}

/// Roll out `control(task, t, x) -> u` from `condition` for the task's horizon.
pub fn rollout<T, U>(
    task: &mut T,
    condition: usize,
    mut control: impl FnMut(&T, usize, &[f64]) -> Result<U, TaskError>,
) -> Result<Rollout, TaskError>
where
    T: Task + ?Sized,
    U: AsRef<[f64]>,
{
    let d = task.dims();
    task.reset(condition)?;
    let mut run = Rollout {
        states: Vec::with_capacity(d.horizon * d.dx),
        actions: Vec::with_capacity(d.horizon * d.du),
    };
    let mut x = vec![0.0; d.dx];
    for t in 0..d.horizon {
        task.state(&mut x);
        let u = control(task, t, &x)?;
        let u = u.as_ref();
        run.states.extend_from_slice(&x);
        run.actions.extend_from_slice(u);
        if t + 1 < d.horizon {
            task.step(u)?;
        }
    }
    Ok(run)
}

fn check_state(task: &dyn Task, condition: usize, x: &[f64]) -> Result<(), TaskError> {
    validate_condition(condition, task.conditions().len())?;
    let dx = task.dims().dx;
    if x.len() != dx {
        return Err(SuiteError::StateDim {
            task: "scripted controller",
            what: "state",
            expected: dx,
            got: x.len(),
        }
        .into());
    }
    Ok(())
}

fn v3(p: [f64; 3]) -> Vector {
    Vector::new(p[0] as f32, p[1] as f32, p[2] as f32)
}

/// `door-opening`: the hook beside the handle bar (nub clear of it) for steps 0..25, then slid
/// so the bar sits in the hook's corner (25..40), then pulled along the door's arc a quarter
/// radian ahead of the door, up to −1.2 rad (past the −1 rad target). Gains 60 N/m, 5 N·s/m on
/// the grasp point and the wrist, `k_q = 0.3`. It opens the door in all four conditions.
pub fn door_opening(
    task: &DoorOpening,
    condition: usize,
    t: usize,
    x: &[f64],
) -> Result<[f64; DOF], TaskError> {
    check_state(task, condition, x)?;
    let angle = x[26];
    let (lead, side) = match t {
        0..25 => (0.0, -0.065),
        25..40 => (0.0, 0.0),
        _ => ((angle - 0.25).max(-1.2) - angle, 0.0),
    };
    let (handle, into) =
        task.handle_at(condition, angle + lead)
            .ok_or(TaskError::UnknownCondition {
                index: condition,
                count: task.conditions().len(),
            })?;
    let across = Vector::new(-into.y, into.x, 0.0);
    let grasp = DoorOpening::grasp_point();
    let g = handle + across * side;
    // The wrist sits behind the grasp point along the hand (x) and across it (y).
    let wrist = g - into * grasp.x - across * grasp.y;
    let (arm, _) = task.arm_and_door();
    Ok(cartesian_servo(
        task.world(),
        arm,
        &[
            PointGoal {
                local: grasp,
                target: g,
                kp: 60.0,
                kd: 5.0,
                velocity: Vector::ZERO,
            },
            PointGoal {
                local: Vector::ZERO,
                target: wrist,
                kp: 60.0,
                kd: 5.0,
                velocity: Vector::ZERO,
            },
        ],
        &[],
        0.3,
    ))
}

/// Timing and shape of the hockey script (s, rad, rad/s, rad/s², m).
mod shot {
    /// End of the pre-hit phase.
    pub const WIND_UP: f32 = 1.5;
    /// End of the wind-up, start of the strike.
    pub const STRIKE: f32 = 2.25;
    /// Stick angle from vertical at the top of the wind-up (blade behind the wrist).
    pub const BACK: f32 = 0.7;
    /// Follow-through angle (blade ahead of the wrist) where the strike stops.
    pub const FOLLOW: f32 = 0.6;
    /// Angular acceleration of the strike.
    pub const ALPHA: f32 = 40.0;
    /// Top angular rate of the strike (≈ 2.6 m/s at the blade).
    pub const OMEGA: f32 = 4.5;
    /// How far past the puck's back the bottom of the blade's arc lies.
    pub const AHEAD: f32 = 0.03;
}

/// Blade and wrist targets of the hockey script at time `tau` (s): the pre-hit pose; then the
/// wrist moves above the puck while the stick swings back; then the stick swings about the
/// fixed wrist, accelerating, through the vertical just past the puck.
fn hockey_targets(tau: f32, pre_hit_wrist: Vector, d: Vector) -> (Vector, Vector) {
    let [blade, _] = Hockey::stick_points();
    let stick = blade.x;
    let puck = Hockey::puck_start();
    let puck = Vector::new(
        puck[0] as f32,
        puck[1] as f32,
        crate::hockey::PUCK_HALF_HEIGHT,
    );
    // The stick at angle `theta` from vertical in the vertical plane of the shot line.
    let at =
        |wrist: Vector, theta: f32| wrist + (d * theta.sin() - Vector::Z * theta.cos()) * stick;
    // Wrist above the strike point: the arc's lowest point (blade centre at the puck's
    // centre height) just past the puck's back.
    let back_of_puck = crate::hockey::PUCK_RADIUS + crate::hockey::BLADE_HALF_THICKNESS;
    let strike_wrist = puck - d * (back_of_puck - shot::AHEAD) + Vector::Z * stick;
    let lean = crate::hockey::PRE_HIT_LEAN as f32;
    if tau < shot::WIND_UP {
        return (at(pre_hit_wrist, lean), pre_hit_wrist);
    }
    if tau < shot::STRIKE {
        let phase = (tau - shot::WIND_UP) / (shot::STRIKE - shot::WIND_UP);
        let s = 0.5 - 0.5 * (std::f32::consts::PI * phase).cos();
        let wrist = pre_hit_wrist + (strike_wrist - pre_hit_wrist) * s;
        return (at(wrist, lean + (-shot::BACK - lean) * s), wrist);
    }
    let u = tau - shot::STRIKE;
    let t_top = shot::OMEGA / shot::ALPHA;
    let theta = if u < t_top {
        -shot::BACK + 0.5 * shot::ALPHA * u * u
    } else {
        -shot::BACK + 0.5 * shot::ALPHA * t_top * t_top + shot::OMEGA * (u - t_top)
    };
    (at(strike_wrist, theta.min(shot::FOLLOW)), strike_wrist)
}

/// `hockey`: the stick to the pre-hit pose of the cost for steps 0..30; a wind-up for 30..45
/// (the wrist moves above the puck while the blade swings back behind it); then a pendulum
/// strike: the blade's target swings about the wrist, accelerating to 4.5 rad/s, through the
/// puck along the line to the goal, to a follow-through angle. Servo gains: blade 60 N/m,
/// 2.5 N·s/m, wrist 150 N/m, 5 N·s/m (targets' velocities fed forward), the blade face turned
/// toward the goal by an axis goal on the hand's y axis (2 N·m/rad, 0.05 N·m·s/rad),
/// `k_q = 0.3`. It scores in all three conditions (puck leaves at ≈ 2 m/s).
pub fn hockey(
    task: &Hockey,
    condition: usize,
    t: usize,
    x: &[f64],
) -> Result<[f64; DOF], TaskError> {
    check_state(task, condition, x)?;
    let unknown = || TaskError::UnknownCondition {
        index: condition,
        count: task.conditions().len(),
    };
    let [blade, wrist] = Hockey::stick_points();
    let [_, pre_hit_wrist] = task.pre_hit(condition).ok_or_else(unknown)?;
    let goal = task.goal(condition).ok_or_else(unknown)?;
    let puck = Hockey::puck_start();
    let d = Vector::new((goal[0] - puck[0]) as f32, (goal[1] - puck[1]) as f32, 0.0).normalize();
    // Target velocities by a forward difference of the (continuous-time) script.
    let tau = t as f32 * task.dims().dt as f32;
    let h = 1e-3f32;
    let (b0, w0) = hockey_targets(tau, v3(pre_hit_wrist), d);
    let (b1, w1) = hockey_targets(tau + h, v3(pre_hit_wrist), d);
    let (arm, _) = task.arm_and_puck();
    Ok(cartesian_servo(
        task.world(),
        arm,
        &[
            PointGoal {
                local: blade,
                target: b0,
                velocity: (b1 - b0) / h,
                kp: 60.0,
                kd: 2.5,
            },
            PointGoal {
                local: wrist,
                target: w0,
                velocity: (w1 - w0) / h,
                kp: 150.0,
                kd: 5.0,
            },
        ],
        // The blade's face (normal: the hand's z) toward the goal: the hand's y horizontal,
        // across the shot line.
        &[AxisGoal {
            local: Vector::Y,
            target: Vector::Z.cross(d),
            kp: 2.0,
            kd: 0.05,
        }],
        0.3,
    ))
}

/// `power-plug`: the pin aligned 3 cm in front of the hole for steps 0..40, then its targets
/// move in along the hole's axis at 0.1 m/s up to 2 cm past the bottom (so the pin presses on
/// it). Gains 60 N/m, 2.5 N·s/m on the pin's tip and base (the targets' velocity fed forward),
/// `k_q = 0.2`. It inserts the pin in both conditions.
pub fn power_plug(
    task: &PowerPlug,
    condition: usize,
    t: usize,
    x: &[f64],
) -> Result<[f64; DOF], TaskError> {
    check_state(task, condition, x)?;
    let e = task.entry(condition).ok_or(TaskError::UnknownCondition {
        index: condition,
        count: task.conditions().len(),
    })?;
    let [tip, base] = PowerPlug::pin_points();
    let (speed, kp, kd) = (0.1, 60.0, 2.5);
    // Aligned in front of the hole, then in along the hole's axis at `speed`, up to 2 cm past
    // the bottom (so that the pin presses on it).
    let (depth, rate) = if t < 40 {
        (-0.03, 0.0)
    } else {
        let depth = -0.03 + speed * (t - 40) as f64 * task.dims().dt;
        let end = f64::from(crate::power_plug::HOLE_DEPTH) + 0.02;
        if depth < end {
            (depth, speed)
        } else {
            (end, 0.0)
        }
    };
    let tt = v3([e[0] + depth, e[1], e[2]]);
    let tb = tt - Vector::X * (tip.x - base.x);
    let velocity = Vector::X * rate as f32;
    Ok(cartesian_servo(
        task.world(),
        task.arm(),
        &[
            PointGoal {
                local: tip,
                target: tt,
                kp,
                kd,
                velocity,
            },
            PointGoal {
                local: base,
                target: tb,
                kp,
                kd,
                velocity,
            },
        ],
        &[],
        0.2,
    ))
}
