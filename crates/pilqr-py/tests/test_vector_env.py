"""PilqrVectorEnv against gymnasium's SyncVectorEnv over PilqrEnv copies: the same outputs,
bit for bit, on any number of worker threads."""

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import pilqr
import pilqr.gym
from pilqr.vector_env import PilqrVectorEnv


def same_infos(a, b):
    assert set(a) == set(b)
    for key in a:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        assert x.dtype == y.dtype and x.shape == y.shape, key
        if x.dtype == object:
            assert list(x) == list(y), key
        else:
            assert x.tobytes() == y.tobytes(), key


def run(env, seed, steps, action_seed=0):
    """Reset with ``seed`` then ``steps`` random steps; the outputs of every call."""
    rng = np.random.default_rng(action_seed)
    low, high = env.single_action_space.low, env.single_action_space.high
    obs, info = env.reset(seed=seed)
    calls = [(obs.tobytes(), info)]
    for _ in range(steps):
        actions = rng.uniform(low, high, size=(env.num_envs, low.size))
        obs, reward, terminated, truncated, info = env.step(actions)
        calls.append((obs.tobytes(), reward.tobytes(), terminated.tobytes(),
                      truncated.tobytes(), info))
    return calls


def same_runs(a, b):
    assert len(a) == len(b)
    for k, (x, y) in enumerate(zip(a, b)):
        assert x[:-1] == y[:-1], f"call {k}"
        same_infos(x[-1], y[-1])


@pytest.mark.parametrize("task,condition", [("reacher", None), ("point-mass", 1)])
def test_sixteen_copies_equal_sync_vector_env_on_1_2_and_4_threads(task, condition):
    env_id = pilqr.gym.ENV_IDS[task]
    sync = SyncVectorEnv([lambda: gymnasium.make(env_id, condition=condition)] * 16)
    horizon = sync.envs[0].unwrapped.horizon
    # Past the horizon: every copy is truncated (with its success test) and autoreset.
    steps = horizon + 3
    expected = run(sync, seed=11, steps=steps)
    assert any(info.get("_success", np.zeros(1)).any() for *_, info in expected)
    assert any("condition" in info for *_, info in expected[1:])
    for threads in [1, 2, 4]:
        env = PilqrVectorEnv(task, num_envs=16, threads=threads, condition=condition)
        assert env.threads == threads
        same_runs(run(env, seed=11, steps=steps), expected)


def test_copy_i_is_the_single_env_reset_with_seed_plus_i():
    env = pilqr.gym.make_vec("pilqr/Reacher-v0", num_envs=4, threads=2)
    single = gymnasium.make("pilqr/Reacher-v0")
    obs, info = env.reset(seed=20)
    obs3, info3 = single.reset(seed=23)
    assert obs[3].tobytes() == obs3.tobytes() and info["condition"][3] == info3["condition"]
    rng = np.random.default_rng(5)
    for _ in range(10):
        actions = rng.uniform(-1, 1, size=(4, 2))
        obs, reward, *_ = env.step(actions)
        obs3, reward3, *_ = single.step(actions[3])
        assert obs[3].tobytes() == obs3.tobytes() and reward[3] == reward3


def test_make_vec_gives_the_rust_vector_env_with_next_step_autoreset():
    env = gymnasium.make_vec("pilqr/PointMass-v0", num_envs=3, threads=1)
    assert isinstance(env, PilqrVectorEnv)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert env.observation_space.shape == (3, env.single_observation_space.shape[0])
    assert env.action_space.shape == (3, env.single_action_space.shape[0])
    env.reset(seed=0)
    env.step(env.action_space.sample())


def test_reset_mask_resets_only_the_masked_copies():
    sync = SyncVectorEnv([lambda: gymnasium.make("pilqr/Reacher-v0")] * 3)
    env = PilqrVectorEnv("reacher", num_envs=3, threads=2)
    outputs = []
    for venv in (sync, env):
        venv.reset(seed=2)
        venv.step(np.full((3, 2), 0.3))
        mask = np.array([False, True, False])
        obs, info = venv.reset(seed=[None, 9, None], options={"reset_mask": mask})
        step = venv.step(np.full((3, 2), -0.2))
        outputs.append((obs.tobytes(), info, step))
    (obs_a, info_a, step_a), (obs_b, info_b, step_b) = outputs
    assert obs_a == obs_b
    same_infos(info_a, info_b)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(step_a[:4], step_b[:4]))
    same_infos(step_a[4], step_b[4])


def test_a_failing_copy_raises_its_error_with_its_index():
    env = PilqrVectorEnv("point-mass", num_envs=4, threads=2)
    env.reset(seed=0)
    actions = np.zeros((4, 2))
    actions[2, 1] = np.nan
    with pytest.raises(pilqr.ActionError, match=r"^copy 2: step 0: action entry 1 is not finite"):
        env.step(actions)
    with pytest.raises(pilqr.ActionError, match=r"actions have shape \[4, 3\]"):
        env.step(np.zeros((4, 3)))
    with pytest.raises(pilqr.ActionError):
        env.step("ab")
    with pytest.raises(pilqr.PilqrError, match="must be at least 1"):
        PilqrVectorEnv("point-mass", num_envs=2, threads=0)


def test_vector_render_gives_each_copy_s_image():
    env = PilqrVectorEnv("reacher", num_envs=3, threads=2, render_mode="rgb_array")
    single = gymnasium.make("pilqr/Reacher-v0", render_mode="rgb_array")
    env.reset(seed=30)
    single.reset(seed=31)
    actions = np.full((3, 2), 0.7)
    for _ in range(4):
        env.step(actions)
        single.step(actions[1])
    images = env.render()
    assert len(images) == 3
    assert np.array_equal(images[1], single.render())
    assert PilqrVectorEnv("reacher", num_envs=2).render() is None
