//! The renderer draws what the state says, and its files decode.

use pilqr_core::Task;
use pilqr_tasks::render::{RenderError, gif_bytes, png_strip_bytes, render_frames};
use pilqr_tasks::world::Vector;
use pilqr_tasks::{GripperPusherTable, TASK_NAMES, render_task_by_name};

fn initial_state(task: &mut dyn Task, c: usize) -> Vec<f64> {
    task.reset(c).unwrap();
    let mut x = vec![0.0; task.dims().dx];
    task.state(&mut x);
    x
}

#[test]
fn every_task_draws_something_on_the_background() {
    for name in TASK_NAMES {
        let mut task = render_task_by_name(name).unwrap();
        let x = initial_state(task.as_mut(), 0);
        let cam = task.camera();
        let frames = render_frames(task.as_mut(), 0, &x, &[0], None).unwrap();
        let bg = cam.background;
        let drawn = frames[0].rgb.chunks(3).filter(|p| *p != bg).count();
        assert!(drawn > 100, "{name}: {drawn} pixels drawn");
    }
}

#[test]
fn the_block_is_drawn_where_the_state_puts_it() {
    let mut task = GripperPusherTable::new().unwrap();
    let mut x = initial_state(&mut task, 1);
    // Move the block somewhere else in the state only.
    x[14] = -0.2;
    x[15] = 0.8;
    let cam = pilqr_tasks::render::RenderTask::camera(&task);
    let frames = render_frames(&mut task, 1, &x, &[0], None).unwrap();
    let pixel = |p: Vector| {
        let [px, py] = cam.to_pixel(cam.to_camera(p));
        let i = ((py as u32 * cam.width + px as u32) * 3) as usize;
        [frames[0].rgb[i], frames[0].rgb[i + 1], frames[0].rgb[i + 2]]
    };
    assert_eq!(pixel(Vector::new(-0.2, 0.8, 0.04)), [220, 120, 40]);
    // The initial block position of condition 1 is now empty table.
    let [bx, by] = task.block_start(1).unwrap();
    assert_ne!(
        pixel(Vector::new(bx as f32, by as f32, 0.04)),
        [220, 120, 40]
    );
}

#[test]
fn png_strip_and_gif_decode_with_the_right_sizes() {
    let mut task = render_task_by_name("reacher").unwrap();
    let x0 = initial_state(task.as_mut(), 0);
    let mut states = x0.clone();
    task.step(&[0.05, -0.05]).unwrap();
    let mut x1 = vec![0.0; x0.len()];
    task.state(&mut x1);
    states.extend(&x1);
    let frames = render_frames(task.as_mut(), 0, &states, &[0, 1, 1], None).unwrap();
    assert_ne!(frames[0], frames[1]);
    let (w, h) = (frames[0].width, frames[0].height);

    let png = png_strip_bytes(&frames).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let reader = decoder.read_info().unwrap();
    assert_eq!(reader.info().width, 3 * (w + 2) - 2);
    assert_eq!(reader.info().height, h);

    let gif = gif_bytes(&frames, 5).unwrap();
    let mut decoder = gif::DecodeOptions::new()
        .read_info(std::io::Cursor::new(gif))
        .unwrap();
    let mut count = 0;
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        assert_eq!((u32::from(frame.width), u32::from(frame.height)), (w, h));
        assert_eq!(frame.delay, 5);
        count += 1;
    }
    assert_eq!(count, 3);
}

#[test]
fn bad_states_are_errors() {
    let mut task = render_task_by_name("point-mass").unwrap();
    assert!(matches!(
        render_frames(task.as_mut(), 0, &[0.0; 5], &[0], None),
        Err(RenderError::StateLength { dx: 4, got: 5 })
    ));
    assert!(matches!(
        render_frames(task.as_mut(), 0, &[0.0; 8], &[2], None),
        Err(RenderError::Step { step: 2, steps: 2 })
    ));
    assert!(matches!(
        render_frames(task.as_mut(), 9, &[0.0; 4], &[0], None),
        Err(RenderError::Task { step: 0, .. })
    ));
}

#[test]
fn the_floor_is_painted_under_what_stands_on_it() {
    // The hockey floor is far larger than anything on it: sorted by the depth of its centre it
    // would be painted over the goal and the puck. It lies on the floor layer instead.
    let mut task = render_task_by_name("hockey").unwrap();
    for c in 0..task.conditions().len() {
        let x = initial_state(task.as_mut(), c);
        let cam = task.camera();
        let frames = render_frames(task.as_mut(), c, &x, &[0], None).unwrap();
        let count = |color: [u8; 3]| frames[0].rgb.chunks(3).filter(|p| *p == color).count();
        // Goal walls (red), the goal marker (green) and the puck (black) are all visible.
        for (what, color) in [
            ("goal walls", [200, 60, 60]),
            ("goal marker", [90, 200, 110]),
            ("puck", [20, 20, 20]),
        ] {
            assert!(count(color) > 10, "condition {c}: {what} hidden");
        }
        // The puck is drawn where it is.
        let [px, py] = cam.to_pixel(cam.to_camera(Vector::new(x[26] as f32, x[27] as f32, 0.0125)));
        let i = ((py as u32 * cam.width + px as u32) * 3) as usize;
        assert_eq!(&frames[0].rgb[i..i + 3], &[20, 20, 20], "condition {c}");
    }
}
