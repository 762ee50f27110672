//! Render a rollout of each 7-DoF task (door opening, hockey, power plug) with a scripted
//! Cartesian controller, as a GIF and a PNG strip.
//!
//! ```text
//! cargo run -p pilqr-tasks --release --example render_arm_tasks -- docs/media
//! ```
//!
//! The controllers are Jacobian-transpose PD laws on two points of the hand or tool
//! (`τ = Σ Jᵀ (Kp (p* − p) − Kd ṗ) − Kq q̇`; the arm is gravity-compensated), following a few
//! scripted targets:
//! - door opening: hook beside the handle, slide the nub behind the bar, then pull along the
//!   door's arc;
//! - hockey: stick to the pre-hit pose, then a fast swing through the puck toward the goal;
//! - power plug: pin aligned in front of the hole, then pushed to the bottom.

use std::path::{Path, PathBuf};

use pilqr_core::TrajectoryRef;
use pilqr_tasks::render::{RenderTask, render_gif, render_png_strip};
use pilqr_tasks::seven_dof::{DOF, HAND, jacobian_transpose};
use pilqr_tasks::world::{SimWorld, Vector};
use pilqr_tasks::{DoorOpening, Hockey, PowerPlug};

type Error = Box<dyn std::error::Error>;

/// A point of the hand (hand frame), its target (world) and PD gains.
struct PointGoal {
    local: Vector,
    target: Vector,
    kp: f64,
    kd: f64,
}

/// `Σ Jᵀ (Kp (p* − p) − Kd ṗ) − kq q̇`.
fn servo(world: &SimWorld, arm: usize, goals: &[PointGoal], kq: f64) -> Vec<f64> {
    let mut u = vec![0.0; DOF];
    for g in goals {
        let p = world.link_point(arm, HAND, g.local);
        let v = world.link_point_velocity(arm, HAND, g.local);
        let e = g.target - p;
        let f = [
            g.kp * f64::from(e.x) - g.kd * f64::from(v.x),
            g.kp * f64::from(e.y) - g.kd * f64::from(v.y),
            g.kp * f64::from(e.z) - g.kd * f64::from(v.z),
        ];
        for (ui, t) in u
            .iter_mut()
            .zip(jacobian_transpose(world, arm, HAND, g.local, f))
        {
            *ui += t;
        }
    }
    let mut qd = [0.0; DOF];
    world.joint_velocities(arm, &mut qd);
    for (ui, w) in u.iter_mut().zip(qd) {
        *ui -= kq * w;
    }
    u
}

/// Roll out `control(task, t, x) -> u` from `condition`; returns states and actions.
fn rollout<T: RenderTask>(
    task: &mut T,
    condition: usize,
    mut control: impl FnMut(&T, usize, &[f64]) -> Vec<f64>,
) -> Result<(Vec<f64>, Vec<f64>), Error> {
    let d = task.dims();
    task.reset(condition)?;
    let (mut xs, mut us) = (Vec::new(), Vec::new());
    let mut x = vec![0.0; d.dx];
    for t in 0..d.horizon {
        task.state(&mut x);
        let u = control(task, t, &x);
        xs.extend(&x);
        us.extend(&u);
        if t + 1 < d.horizon {
            task.step(&u)?;
        }
    }
    Ok((xs, us))
}

fn save(
    task: &mut dyn RenderTask,
    condition: usize,
    states: &[f64],
    actions: &[f64],
    dir: &Path,
) -> Result<(), Error> {
    let name = task.name().replace('-', "_");
    let d = task.dims();
    let traj = TrajectoryRef::new(d.horizon, d.dx, d.du, states, actions)?;
    let outcome = task.success(condition, traj)?;
    let gif = dir.join(format!("{name}.gif"));
    let png = dir.join(format!("{name}_strip.png"));
    render_gif(task, condition, states, 2, &gif)?;
    render_png_strip(task, condition, states, 6, &png)?;
    println!(
        "{} condition {condition}: success {} (metric {:.3}); wrote {} ({} KB) and {}",
        task.name(),
        outcome.success,
        outcome.metric,
        gif.display(),
        std::fs::metadata(&gif)?.len() / 1024,
        png.display()
    );
    Ok(())
}

fn v3(p: [f64; 3]) -> Vector {
    Vector::new(p[0] as f32, p[1] as f32, p[2] as f32)
}

fn door(dir: &Path) -> Result<(), Error> {
    let mut task = DoorOpening::new()?;
    let c = 3;
    let grasp = DoorOpening::grasp_point();
    let (arm, _) = task.arm_and_door();
    let (xs, us) = rollout(&mut task, c, |task, t, x| {
        let angle = x[26];
        // Beside the bar (nub clear of it), then slide so the bar sits in the hook's corner,
        // then pull along the arc a little ahead of the door.
        let (lead, side) = match t {
            0..25 => (0.0, -0.065),
            25..40 => (0.0, 0.0),
            _ => ((angle - 0.25).max(-1.2) - angle, 0.0),
        };
        let (handle, into) = task
            .handle_at(c, angle + lead)
            .unwrap_or((Vector::ZERO, Vector::X));
        let across = Vector::new(-into.y, into.x, 0.0);
        let g = handle + across * side;
        // The wrist sits behind the grasp point along the hand (x) and across it (y).
        let wrist = g - into * grasp.x - across * grasp.y;
        servo(
            task.world(),
            arm,
            &[
                PointGoal {
                    local: grasp,
                    target: g,
                    kp: 60.0,
                    kd: 5.0,
                },
                PointGoal {
                    local: Vector::ZERO,
                    target: wrist,
                    kp: 60.0,
                    kd: 5.0,
                },
            ],
            0.3,
        )
    })?;
    save(&mut task, c, &xs, &us, dir)
}

fn hockey(dir: &Path) -> Result<(), Error> {
    let mut task = Hockey::new()?;
    let c = 2;
    let [blade, wrist] = Hockey::stick_points();
    let [pb, pw] = task.pre_hit(c).ok_or("no condition")?;
    let goal = task.goal(c).ok_or("no condition")?;
    let (arm, _) = task.arm_and_puck();
    let (xs, us) = rollout(&mut task, c, |task, t, x| {
        let (b, w, kp) = if t < 30 {
            (v3(pb), v3(pw), 60.0)
        } else {
            // Swing through the puck toward the goal.
            let d =
                Vector::new((goal[0] - x[26]) as f32, (goal[1] - x[27]) as f32, 0.0).normalize();
            (v3(pb) + d * 0.5, v3(pw) + d * 0.5, 200.0)
        };
        servo(
            task.world(),
            arm,
            &[
                PointGoal {
                    local: blade,
                    target: b,
                    kp,
                    kd: 6.0,
                },
                PointGoal {
                    local: wrist,
                    target: w,
                    kp,
                    kd: 6.0,
                },
            ],
            0.3,
        )
    })?;
    save(&mut task, c, &xs, &us, dir)
}

fn plug(dir: &Path) -> Result<(), Error> {
    let mut task = PowerPlug::new()?;
    let c = 0;
    let [tip, base] = PowerPlug::pin_points();
    let e = task.entry(c).ok_or("no condition")?;
    let arm = task.arm();
    let (xs, us) = rollout(&mut task, c, |task, t, _| {
        // In front of the hole, then 2 cm past its bottom (pushing the pin onto it).
        let depth = if t < 40 { -0.03 } else { 0.07 };
        let tt = v3([e[0] + depth, e[1], e[2]]);
        let tb = tt - Vector::X * (tip.x - base.x);
        servo(
            task.world(),
            arm,
            &[
                PointGoal {
                    local: tip,
                    target: tt,
                    kp: 60.0,
                    kd: 5.0,
                },
                PointGoal {
                    local: base,
                    target: tb,
                    kp: 60.0,
                    kd: 5.0,
                },
            ],
            0.5,
        )
    })?;
    save(&mut task, c, &xs, &us, dir)
}

fn main() -> Result<(), Error> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/media".into()),
    );
    std::fs::create_dir_all(&dir)?;
    door(&dir)?;
    hockey(&dir)?;
    plug(&dir)?;
    Ok(())
}
