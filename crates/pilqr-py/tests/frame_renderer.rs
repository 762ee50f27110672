//! `FrameRenderer` against the suite's renderer: the image of a state is the one
//! `pilqr_tasks::render::render_frames` draws for it.

use pilqr_core::TaskSeed;
use pilqr_py::{EnvError, FrameRenderer, StepEnv};
use pilqr_tasks::render::render_frames;

#[test]
fn every_task_renders_its_state_as_the_suite_renderer_does() {
    for &name in pilqr_tasks::TASK_NAMES {
        let mut env = StepEnv::by_name(name).unwrap();
        let mut renderer = FrameRenderer::by_name(name).unwrap();
        let condition = env.conditions().len() - 1;
        env.reset(condition, TaskSeed::new(0)).unwrap();
        let du = env.dims().du;
        let limits = env.action_limits().unwrap_or_else(|| vec![1.0; du]);
        let u: Vec<f64> = limits.iter().map(|l| 0.8 * l).collect();
        let mut frames = Vec::new();
        for _ in 0..5 {
            env.step(&u).unwrap();
            let state = env.state().to_vec();
            let frame = renderer.render(condition, &state).unwrap();
            let mut oracle = pilqr_tasks::render_task_by_name(name).unwrap();
            let canvas = render_frames(oracle.as_mut(), condition, &state, &[0], None)
                .unwrap()
                .remove(0);
            assert_eq!(renderer.size(), (frame.height, frame.width), "{name}");
            assert_eq!(
                (frame.height, frame.width),
                (canvas.height as usize, canvas.width as usize)
            );
            assert_eq!(frame.rgb.len(), frame.height * frame.width * 3);
            assert!(
                frame.rgb == canvas.rgb,
                "{name}: image differs from render_frames"
            );
            frames.push(frame);
        }
        // The image follows the state: the moving task looks different after 5 steps.
        assert!(frames[0] != frames[4], "{name}: the image did not change");
    }
}

#[test]
fn bad_states_and_conditions_are_errors() {
    let mut renderer = FrameRenderer::by_name("reacher").unwrap();
    let err = renderer.render(0, &[0.0; 3]).unwrap_err();
    assert!(matches!(err, EnvError::Render { .. }), "{err}");
    assert!(err.to_string().contains("3 state values"), "{err}");
    let err = renderer.render(99, &[0.0; 8]).unwrap_err();
    assert!(matches!(err, EnvError::Condition(_)), "{err}");
    assert!(matches!(
        FrameRenderer::by_name("juggler"),
        Err(EnvError::Build { .. })
    ));
}
