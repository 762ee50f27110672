//! Rendering rollouts without a GPU: an orthographic projection of the bodies (capsules, boxes,
//! balls, cylinders) with the goal or target marked, painted far-to-near, written as a PNG strip
//! of frames or an animated GIF.
//!
//! A task that can be drawn implements [`RenderTask`]: given a condition and a state `x` it
//! poses its world and lists the shapes ([`Scene`]). Rendering therefore works on any recorded
//! trajectory (a sample batch, a saved run), not only on a live simulation.
//!
//! ```
//! use pilqr_core::Task;
//! use pilqr_tasks::{PointMass, render::{render_frames, png_strip_bytes}};
//!
//! let mut task = PointMass::new();
//! let states = [0.5, 0.5, 0.0, 0.0, 0.2, 0.1, 0.0, 0.0];
//! let frames = render_frames(&mut task, 0, &states, &[0, 1], None).unwrap();
//! let png = png_strip_bytes(&frames).unwrap();
//! assert_eq!(&png[1..4], b"PNG");
//! ```

mod camera;
mod raster;
mod scenes;

pub use camera::Camera;
pub use raster::{Canvas, Shape2, convex_hull};

use std::path::Path;

use pilqr_core::{Task, TaskError};
use thiserror::Error;

use crate::world::{Layer, PlacedShape, ShapeKind, Vector};

/// What can go wrong while rendering.
#[derive(Debug, Error)]
pub enum RenderError {
    /// The task could not be posed at a state.
    #[error("posing the task at step {step}: {source}")]
    Task {
        /// Time step.
        step: usize,
        /// The task's error.
        #[source]
        source: TaskError,
    },
    /// The states do not fit the task.
    #[error("{got} state values are not a whole number of states of dimension {dx}")]
    StateLength {
        /// State dimension.
        dx: usize,
        /// Values given.
        got: usize,
    },
    /// A requested step is beyond the trajectory.
    #[error("step {step} is beyond the {steps} states given")]
    Step {
        /// Step asked for.
        step: usize,
        /// States available.
        steps: usize,
    },
    /// Nothing to draw.
    #[error("no frames to render")]
    NoFrames,
    /// The image is too large for the format.
    #[error("image of {width}x{height} pixels is too large for {format}")]
    TooLarge {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
        /// Format.
        format: &'static str,
    },
    /// Writing the file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// PNG encoding failed.
    #[error(transparent)]
    Png(#[from] png::EncodingError),
    /// GIF encoding failed.
    #[error(transparent)]
    Gif(#[from] gif::EncodingError),
}

/// What to draw for one state: shapes in world frame (markers included).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scene {
    /// The shapes.
    pub shapes: Vec<PlacedShape>,
}

/// A task whose states can be drawn.
pub trait RenderTask: Task {
    /// Pose the world of `condition` at state `x` (joint angles, object poses…) and list what
    /// to draw, goal/target markers included. This resets the task: call it between episodes.
    fn scene(&mut self, condition: usize, x: &[f64]) -> Result<Scene, TaskError>;

    /// The default camera.
    fn camera(&self) -> Camera;
}

/// Project and paint `scene` through `camera`.
pub fn draw_scene(scene: &Scene, camera: &Camera) -> Canvas {
    let mut items: Vec<(Layer, f32, Shape2, [u8; 3])> = scene
        .shapes
        .iter()
        .map(|s| {
            let (depth, shape) = project(s, camera);
            // Floor shapes keep their listed order (depth 0 for all), painted first.
            let depth = if s.layer == Layer::Floor { 0.0 } else { depth };
            (s.layer, depth, shape, s.color)
        })
        .collect();
    // Painter's algorithm: the floor layer, then far (small depth) to near; stable for ties.
    items.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut canvas = Canvas::new(camera.width, camera.height, camera.background);
    for (_, _, shape, color) in &items {
        canvas.fill(shape, *color);
    }
    canvas
}

/// Project one shape: its depth (of its centre) and 2-D outline in pixels.
fn project(s: &PlacedShape, cam: &Camera) -> (f32, Shape2) {
    let px = |p: Vector| cam.to_pixel(cam.to_camera(p));
    let scale = cam.pixels_per_meter;
    match s.kind {
        ShapeKind::Ball { radius } => {
            let c = cam.to_camera(s.pose.translation);
            (c.z, Shape2::Circle(cam.to_pixel(c), radius * scale))
        }
        ShapeKind::Capsule { a, b, radius } => {
            let (wa, wb) = (s.pose * a, s.pose * b);
            let depth = cam.to_camera((wa + wb) * 0.5).z + radius;
            (depth, Shape2::Stadium(px(wa), px(wb), radius * scale))
        }
        ShapeKind::Cuboid { half_extents: h } => {
            let mut pts = Vec::with_capacity(8);
            for sx in [-1.0, 1.0] {
                for sy in [-1.0, 1.0] {
                    for sz in [-1.0, 1.0] {
                        pts.push(px(s.pose * Vector::new(sx * h.x, sy * h.y, sz * h.z)));
                    }
                }
            }
            let top = cam.to_camera(s.pose.translation).z + h.min_element();
            (top, Shape2::Polygon(convex_hull(&pts)))
        }
        ShapeKind::Cylinder {
            half_height,
            radius,
        } => {
            let mut pts = Vec::with_capacity(48);
            for k in 0..24 {
                let a = k as f32 / 24.0 * std::f32::consts::TAU;
                for z in [-half_height, half_height] {
                    pts.push(px(
                        s.pose * Vector::new(radius * a.cos(), radius * a.sin(), z)
                    ));
                }
            }
            let depth = cam.to_camera(s.pose.translation).z + half_height.min(radius);
            (depth, Shape2::Polygon(convex_hull(&pts)))
        }
    }
}

/// Draw the states at `steps` of a trajectory (`states`: `T·dX` values, step-major) from
/// `condition`, through `camera` (default: the task's).
pub fn render_frames(
    task: &mut dyn RenderTask,
    condition: usize,
    states: &[f64],
    steps: &[usize],
    camera: Option<Camera>,
) -> Result<Vec<Canvas>, RenderError> {
    let dx = task.dims().dx;
    if dx == 0 || !states.len().is_multiple_of(dx) {
        return Err(RenderError::StateLength {
            dx,
            got: states.len(),
        });
    }
    let n = states.len() / dx;
    let cam = camera.unwrap_or_else(|| task.camera());
    steps
        .iter()
        .map(|&t| {
            if t >= n {
                return Err(RenderError::Step { step: t, steps: n });
            }
            let scene = task
                .scene(condition, &states[t * dx..(t + 1) * dx])
                .map_err(|source| RenderError::Task { step: t, source })?;
            Ok(draw_scene(&scene, &cam))
        })
        .collect()
}

/// `count` evenly spaced steps of a `n`-step trajectory, first and last included.
pub fn evenly_spaced(n: usize, count: usize) -> Vec<usize> {
    match (n, count) {
        (0, _) | (_, 0) => Vec::new(),
        (_, 1) => vec![n - 1],
        _ => (0..count).map(|i| i * (n - 1) / (count - 1)).collect(),
    }
}

/// Frames side by side (separated by 2 grey pixels) as PNG bytes.
pub fn png_strip_bytes(frames: &[Canvas]) -> Result<Vec<u8>, RenderError> {
    let first = frames.first().ok_or(RenderError::NoFrames)?;
    let (w, h) = (first.width, first.height);
    let gap = 2u32;
    let total_w = frames.len() as u32 * (w + gap) - gap;
    let mut data = vec![160u8; (total_w * h * 3) as usize];
    for (k, f) in frames.iter().enumerate() {
        let x0 = k as u32 * (w + gap);
        for y in 0..h.min(f.height) {
            let src =
                &f.rgb[(y * f.width * 3) as usize..((y * f.width + w.min(f.width)) * 3) as usize];
            let dst = ((y * total_w + x0) * 3) as usize;
            data[dst..dst + src.len()].copy_from_slice(src);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, total_w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(&data)?;
    }
    Ok(out)
}

/// Frames as an animated GIF (looping), `delay_cs` hundredths of a second per frame.
pub fn gif_bytes(frames: &[Canvas], delay_cs: u16) -> Result<Vec<u8>, RenderError> {
    let first = frames.first().ok_or(RenderError::NoFrames)?;
    let too_large = || RenderError::TooLarge {
        width: first.width,
        height: first.height,
        format: "GIF",
    };
    let w = u16::try_from(first.width).map_err(|_| too_large())?;
    let h = u16::try_from(first.height).map_err(|_| too_large())?;
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, w, h, &[])?;
        enc.set_repeat(gif::Repeat::Infinite)?;
        for f in frames {
            if f.width != first.width || f.height != first.height {
                return Err(too_large());
            }
            let mut frame = gif::Frame::from_rgb_speed(w, h, &f.rgb, 10);
            frame.delay = delay_cs;
            enc.write_frame(&frame)?;
        }
    }
    Ok(out)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), RenderError> {
    std::fs::write(path, bytes).map_err(|source| RenderError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Write a PNG strip of `frames` evenly spaced states of a trajectory from `condition`.
pub fn render_png_strip(
    task: &mut dyn RenderTask,
    condition: usize,
    states: &[f64],
    frames: usize,
    path: &Path,
) -> Result<(), RenderError> {
    let dx = task.dims().dx.max(1);
    let steps = evenly_spaced(states.len() / dx, frames);
    let canvases = render_frames(task, condition, states, &steps, None)?;
    write_file(path, &png_strip_bytes(&canvases)?)
}

/// Write an animated GIF of a trajectory from `condition`, drawing every `stride`-th state and
/// playing in real time (the task's control period × stride per frame).
pub fn render_gif(
    task: &mut dyn RenderTask,
    condition: usize,
    states: &[f64],
    stride: usize,
    path: &Path,
) -> Result<(), RenderError> {
    let dx = task.dims().dx.max(1);
    let stride = stride.max(1);
    let steps: Vec<usize> = (0..states.len() / dx).step_by(stride).collect();
    let canvases = render_frames(task, condition, states, &steps, None)?;
    let delay = (task.dims().dt * stride as f64 * 100.0)
        .round()
        .clamp(1.0, 65535.0) as u16;
    write_file(path, &gif_bytes(&canvases, delay)?)
}
