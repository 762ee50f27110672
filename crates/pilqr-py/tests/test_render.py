"""render_mode="rgb_array": images of the current state through the task suite's renderer."""

import gymnasium
import numpy as np
import pytest

import pilqr
import pilqr.gym
from pilqr import _native

TASKS = _native.task_names()


@pytest.mark.parametrize("task", TASKS)
def test_render_returns_the_image_of_the_current_state(task):
    env = gymnasium.make(pilqr.gym.ENV_IDS[task], render_mode="rgb_array", condition=0)
    env.reset(seed=0)
    renderer = _native.Renderer(task)
    high = env.action_space.high
    images = []
    for _ in range(5):
        env.step(0.8 * high)
        image = env.render()
        h, w = renderer.size
        assert image.shape == (h, w, 3) and image.dtype == np.uint8
        # The same drawing as a separate renderer given the env's state.
        assert np.array_equal(image, renderer.render(0, env.unwrapped._env.state()))
        images.append(image)
    assert not np.array_equal(images[0], images[-1]), "the image did not follow the state"


def test_rendering_does_not_disturb_the_episode():
    def rollout(render):
        env = gymnasium.make("pilqr/Reacher-v0", render_mode="rgb_array")
        obs, _ = env.reset(seed=4)
        rng = np.random.default_rng(0)
        out = [obs]
        for _ in range(20):
            if render:
                env.render()
            obs, reward, *_ = env.step(rng.uniform(-1, 1, 2))
            out += [obs, np.array([reward])]
        return np.concatenate(out).tobytes()

    assert rollout(True) == rollout(False)


def test_render_modes_and_order():
    with pytest.raises(ValueError, match="render_mode 'human' is not supported"):
        pilqr.gym.PilqrEnv("point-mass", render_mode="human")
    env = pilqr.gym.PilqrEnv("point-mass", render_mode="rgb_array")
    with pytest.raises(pilqr.EpisodeError, match="before reset"):
        env.render()
    assert pilqr.gym.PilqrEnv("point-mass").render() is None
    assert env.metadata["render_modes"] == ["rgb_array"] and env.metadata["render_fps"] > 0


def test_the_renderer_rejects_bad_states():
    renderer = _native.Renderer("reacher")
    with pytest.raises(pilqr.TaskError, match="3 state values"):
        renderer.render(0, np.zeros(3))
    with pytest.raises(pilqr.PilqrError, match="condition"):
        renderer.render(99, np.zeros(8))
    with pytest.raises(pilqr.PilqrError, match="unknown task"):
        _native.Renderer("juggler")
