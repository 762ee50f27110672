//! Render a rollout of each task with a simple hand-made controller, as a GIF and a PNG strip.
//!
//! ```text
//! cargo run -p pilqr-tasks --release --example render_tasks -- docs/media
//! ```
//!
//! The controllers read only the task's state vector (its documented layout):
//! - point mass: a PD law on the position;
//! - reacher: Jacobian-transpose control of the tip toward the target (written as
//!   `reacher-scripted`: `docs/media/reacher.gif` shows a trained controller instead);
//! - gripper pusher on a table (`gripper-pusher-table`): Jacobian-transpose control of the gripper centre, first to a point behind
//!   the block (seen from the goal), then through the block toward the goal, with the gripper
//!   turned along the push direction; it goes around the block on the side it comes from and
//!   keeps pushing once it is behind it. It solves the three easy conditions and brings the
//!   block of the hard one to the edge of the goal area (rendered as `gripper-pusher-table-hard`).

use std::path::PathBuf;

use pilqr_core::{Task, TrajectoryRef};
use pilqr_tasks::render::{RenderTask, render_gif, render_png_strip};
use pilqr_tasks::{GripperPusherTable, PointMass, Reacher};

/// Roll out `control(t, x) -> u` from `condition`; returns states and actions (step-major).
fn rollout(
    task: &mut dyn RenderTask,
    condition: usize,
    mut control: impl FnMut(usize, &[f64]) -> Vec<f64>,
) -> Result<(Vec<f64>, Vec<f64>), Box<dyn std::error::Error>> {
    let d = task.dims();
    task.reset(condition)?;
    let (mut xs, mut us) = (Vec::new(), Vec::new());
    let mut x = vec![0.0; d.dx];
    for t in 0..d.horizon {
        task.state(&mut x);
        let u = control(t, &x);
        xs.extend(&x);
        us.extend(&u);
        if t + 1 < d.horizon {
            task.step(&u)?;
        }
    }
    Ok((xs, us))
}

/// `Jᵀ f` for a planar chain with link lengths `lengths` (the last one to the controlled
/// point) at joint angles `q`, plus `τ_θ` on every joint (the chain's end orientation).
fn planar_jt(q: &[f64], lengths: &[f64], f: [f64; 2], tau_theta: f64) -> Vec<f64> {
    let mut theta = 0.0;
    let mut heads = Vec::new();
    for (qi, li) in q.iter().zip(lengths) {
        theta += qi;
        heads.push([li * theta.cos(), li * theta.sin()]);
    }
    (0..q.len())
        .map(|j| {
            // ∂p/∂q_j = Σ_{i ≥ j} L_i (−sin θ_i, cos θ_i).
            let (dx, dy) = heads[j..]
                .iter()
                .fold((0.0, 0.0), |(a, b), h| (a - h[1], b + h[0]));
            dx * f[0] + dy * f[1] + tau_theta
        })
        .collect()
}

fn save(
    task: &mut dyn RenderTask,
    condition: usize,
    states: &[f64],
    actions: &[f64],
    dir: &std::path::Path,
    stem: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let name = stem.to_string();
    let d = task.dims();
    let traj = TrajectoryRef::new(d.horizon, d.dx, d.du, states, actions)?;
    let outcome = task.success(condition, traj)?;
    let gif = dir.join(format!("{name}.gif"));
    let png = dir.join(format!("{name}-strip.png"));
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/media".into()),
    );
    std::fs::create_dir_all(&dir)?;

    let mut pm = PointMass::new();
    let (xs, us) = rollout(&mut pm, 0, |_, x| {
        vec![-2.0 * x[0] - 1.5 * x[2], -2.0 * x[1] - 1.5 * x[3]]
    })?;
    save(&mut pm, 0, &xs, &us, &dir, "point-mass")?;

    let mut reacher = Reacher::new()?;
    let target = reacher.target(0).ok_or("no target")?;
    let (xs, us) = rollout(&mut reacher, 0, |_, x| {
        let f = [
            2.0 * (target[0] - x[4]) - 0.3 * x[6],
            2.0 * (target[1] - x[5]) - 0.3 * x[7],
        ];
        planar_jt(&x[0..2], &[0.10, 0.11], f, 0.0)
    })?;
    save(&mut reacher, 0, &xs, &us, &dir, "reacher-scripted")?;

    let mut pusher = GripperPusherTable::new()?;
    for condition in 0..pusher.conditions().len() {
        let (xs, us) = push_rollout(&mut pusher, condition)?;
        let d = pusher.dims();
        let traj = TrajectoryRef::new(d.horizon, d.dx, d.du, &xs, &us)?;
        let out = pusher.success(condition, traj)?;
        println!(
            "gripper-pusher-table condition {condition}: scripted push success {} ({:.3} m)",
            out.success, out.metric
        );
    }
    for (condition, stem) in [
        (0, "gripper-pusher-table"),
        (3, "gripper-pusher-table-hard"),
    ] {
        let (xs, us) = push_rollout(&mut pusher, condition)?;
        save(&mut pusher, condition, &xs, &us, &dir, stem)?;
    }
    Ok(())
}

/// The scripted pusher of the module docs, from `condition`.
fn push_rollout(
    pusher: &mut GripperPusherTable,
    condition: usize,
) -> Result<(Vec<f64>, Vec<f64>), Box<dyn std::error::Error>> {
    let goal = pusher.goal(condition).ok_or("no goal")?;
    let mut pushing = false;
    rollout(pusher, condition, move |_, x| {
        let (block, grip) = ([x[14], x[15]], [x[6], x[7]]);
        let push = [goal[0] - block[0], goal[1] - block[1]];
        let n = push[0].hypot(push[1]).max(1e-6);
        let dir = [push[0] / n, push[1] / n];
        let perp = [-dir[1], dir[0]];
        let rel = [grip[0] - block[0], grip[1] - block[1]];
        let (along, side) = (
            rel[0] * dir[0] + rel[1] * dir[1],
            rel[0] * perp[0] + rel[1] * perp[1],
        );
        let at = |a: f64, s: f64| {
            [
                block[0] + a * dir[0] + s * perp[0],
                block[1] + a * dir[1] + s * perp[1],
            ]
        };
        // Go around the block on the side the gripper is on, slide in behind it, then drive
        // through it toward the goal.
        pushing |= along < -0.09 && side.abs() < 0.03;
        let aim = if pushing {
            goal
        } else if along > -0.10 {
            at(-0.16, if side < 0.0 { -0.16 } else { 0.16 })
        } else {
            at(-0.12, 0.0)
        };
        let kp = if pushing { 10.0 } else { 25.0 };
        let f = [
            kp * (aim[0] - grip[0]) - 4.0 * x[10],
            kp * (aim[1] - grip[1]) - 4.0 * x[11],
        ];
        let heading = x[0] + x[1] + x[2];
        let want = dir[1].atan2(dir[0]);
        let err = (want - heading + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU)
            - std::f64::consts::PI;
        let spin = x[3] + x[4] + x[5];
        planar_jt(&x[0..3], &[0.40, 0.35, 0.20], f, 1.0 * err - 0.2 * spin)
    })
}
