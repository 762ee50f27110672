//! Render a rollout of each 7-DoF task (door opening, hockey, power plug) under its scripted
//! controller (`pilqr_tasks::scripted`), as a GIF and a PNG strip.
//!
//! ```text
//! cargo run -p pilqr-tasks --release --example render_arm_tasks -- docs/media
//! ```
//!
//! The controllers are Jacobian-transpose PD laws on two points of the hand or tool
//! (`τ = Σ Jᵀ (Kp (p* − p) + Kd (ṗ* − ṗ)) − Kq q̇`; the arm is gravity-compensated), following
//! a few scripted targets:
//! - door opening (held-out `centre` door): hook beside the handle, slide the nub behind the
//!   bar, then pull along the door's arc;
//! - hockey (held-out `centre` goal): stick to the pre-hit pose, wind up above the puck, then a
//!   pendulum strike about the wrist that sends the puck into the goal;
//! - power plug (`nominal` socket): pin aligned in front of the hole, then pushed to the bottom.

use std::path::{Path, PathBuf};

use pilqr_tasks::render::{RenderTask, render_gif, render_png_strip};
use pilqr_tasks::scripted::{self, Rollout};
use pilqr_tasks::{DoorOpening, Hockey, PowerPlug};

type Error = Box<dyn std::error::Error>;

fn save(
    task: &mut dyn RenderTask,
    condition: usize,
    run: &Rollout,
    dir: &Path,
) -> Result<(), Error> {
    let name = task.name().to_string();
    let outcome = task.success(condition, run.trajectory(task.dims())?)?;
    let gif = dir.join(format!("{name}.gif"));
    let png = dir.join(format!("{name}-strip.png"));
    render_gif(task, condition, &run.states, 2, &gif)?;
    render_png_strip(task, condition, &run.states, 6, &png)?;
    println!(
        "{name} condition {condition}: success {} (metric {:.3}); wrote {} ({} KB) and {}",
        outcome.success,
        outcome.metric,
        gif.display(),
        std::fs::metadata(&gif)?.len() / 1024,
        png.display()
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/media".into()),
    );
    std::fs::create_dir_all(&dir)?;

    let mut door = DoorOpening::new()?;
    let c = 3;
    let run = scripted::rollout(&mut door, c, |task, t, x| {
        scripted::door_opening(task, c, t, x)
    })?;
    save(&mut door, c, &run, &dir)?;

    let mut hockey = Hockey::new()?;
    let c = 2;
    let run = scripted::rollout(&mut hockey, c, |task, t, x| scripted::hockey(task, c, t, x))?;
    save(&mut hockey, c, &run, &dir)?;

    let mut plug = PowerPlug::new()?;
    let c = 0;
    let run = scripted::rollout(&mut plug, c, |task, t, x| {
        scripted::power_plug(task, c, t, x)
    })?;
    save(&mut plug, c, &run, &dir)?;
    Ok(())
}
