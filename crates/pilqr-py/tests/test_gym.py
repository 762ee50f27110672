"""The gymnasium environments of pilqr.gym against gymnasium's checker and the Rust cost."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import pilqr
import pilqr.gym
from pilqr import _native

TASKS = _native.task_names()


def rollout(env, seed, actions_seed, steps=None):
    """Reset with ``seed`` and step with uniform random actions; returns the observations,
    rewards and infos as lists."""
    rng = np.random.default_rng(actions_seed)
    obs, info = env.reset(seed=seed)
    low, high = env.action_space.low, env.action_space.high
    observations, rewards, infos = [obs], [], [info]
    for _ in range(steps or env.unwrapped.horizon):
        obs, reward, terminated, truncated, info = env.step(rng.uniform(low, high))
        observations.append(obs)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            break
    return observations, rewards, infos


def test_every_task_is_registered():
    assert set(pilqr.gym.ENV_IDS) == set(TASKS)
    for task, env_id in pilqr.gym.ENV_IDS.items():
        assert env_id in gymnasium.registry
        assert gymnasium.spec(env_id).kwargs == {"task": task}
    assert pilqr.gym.ENV_IDS["gripper-pusher"] == "pilqr/GripperPusher-v0"
    for env_id in [
        "pilqr/Reacher-v0",
        "pilqr/GripperPusher-v0",
        "pilqr/DoorOpening-v0",
        "pilqr/Hockey-v0",
        "pilqr/PowerPlug-v0",
        "pilqr/PointMass-v0",
    ]:
        assert env_id in gymnasium.registry


# The checker's advice that the spaces knowingly do not follow: observations are unbounded
# (velocities have no bound), and actions are in the task's torque units, not normalised.
ADVICE = ("observation space minimum value is -infinity", "observation space maximum value is infinity")
NOT_NORMALISED = "we recommend using a symmetric and normalized space"


@pytest.mark.parametrize("task", TASKS)
def test_check_env_passes(task):
    env = gymnasium.make(pilqr.gym.ENV_IDS[task])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    normalised = np.all(env.action_space.high == 1.0)
    for w in caught:
        message = str(w.message)
        allowed = any(a in message for a in ADVICE) or (
            NOT_NORMALISED in message and not normalised
        )
        assert allowed, message
    env.close()


@pytest.mark.parametrize("task", TASKS)
def test_spaces_come_from_the_task(task):
    env = gymnasium.make(pilqr.gym.ENV_IDS[task]).unwrapped
    dx, du, dobs, horizon, _ = _native.TaskEnv(task).dims
    limits = np.asarray(_native.TaskEnv(task).action_limits)
    assert env.action_space.shape == (du,)
    assert np.array_equal(env.action_space.high, limits)
    assert np.array_equal(env.action_space.low, -limits)
    assert env.observation_space.shape == (dobs,)
    assert env.horizon == horizon and env.state_dim == dx


def test_reset_with_a_seed_is_deterministic_bit_for_bit():
    a = gymnasium.make("pilqr/Reacher-v0")
    b = gymnasium.make("pilqr/Reacher-v0")
    obs_a, rew_a, info_a = rollout(a, seed=7, actions_seed=1)
    obs_b, rew_b, info_b = rollout(b, seed=7, actions_seed=1)
    assert [o.tobytes() for o in obs_a] == [o.tobytes() for o in obs_b]
    assert np.array(rew_a).tobytes() == np.array(rew_b).tobytes()
    assert info_a[0]["condition"] == info_b[0]["condition"]
    # Reseeding the same env repeats the episode too, and unseeded resets continue the same
    # stream of conditions on both envs.
    obs_c, rew_c, _ = rollout(a, seed=7, actions_seed=1)
    assert np.array(rew_c).tobytes() == np.array(rew_a).tobytes()
    draws_a = [a.reset()[1]["condition"] for _ in range(8)]
    b.reset(seed=7)
    draws_b = [b.reset()[1]["condition"] for _ in range(8)]
    assert draws_a == draws_b
    train = a.unwrapped.train_conditions
    assert set(draws_a) <= set(train) and len(set(draws_a)) > 1


@pytest.mark.parametrize("task", ["reacher", "point-mass", "door-opening"])
def test_rewards_are_minus_the_rust_cost_of_the_trajectory(task):
    env = gymnasium.make(pilqr.gym.ENV_IDS[task], condition=1)
    _, rewards, infos = rollout(env, seed=3, actions_seed=4)
    x, u, condition = env.unwrapped.trajectory()
    assert condition == 1 == infos[0]["condition"]
    costs = pilqr.trajectory_cost(task, condition, x, u)
    assert costs.shape == (env.unwrapped.horizon,)
    assert np.array(rewards).tobytes() == (-costs).tobytes()
    assert [i["cost"] for i in infos[1:]] == list(costs)
    # The states of info are the recorded ones.
    assert np.array_equal(infos[0]["state"], x[0])
    assert all(np.array_equal(infos[t]["state"], x[t]) for t in range(1, len(x)))


def test_episodes_are_truncated_at_the_horizon_with_the_success_test():
    env = gymnasium.make("pilqr/PointMass-v0", condition="start-0")
    horizon = env.unwrapped.horizon
    _, rewards, infos = rollout(env, seed=0, actions_seed=0, steps=horizon + 5)
    assert len(rewards) == horizon
    for info in infos[1:-1]:
        assert "success" not in info
    last = infos[-1]
    assert isinstance(last["success"], bool)
    # point-mass's metric: the final distance of the recorded trajectory to its target.
    assert last["metric"] >= 0.0
    with pytest.raises(pilqr.EpisodeError, match="after the horizon"):
        env.step(env.action_space.sample())
    env.reset(seed=1)
    env.step(env.action_space.sample())


def test_step_truncated_flag_only_on_the_last_step():
    env = gymnasium.make("pilqr/Reacher-v0")
    env.reset(seed=2)
    flags = []
    for _ in range(env.unwrapped.horizon):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        assert terminated is False
        flags.append(truncated)
    assert flags == [False] * (len(flags) - 1) + [True]


@pytest.mark.parametrize(
    "action", [np.zeros(3), np.zeros((1, 2)), np.float64(0.0), [0.0], [[0.0, 0.0]], "ab"]
)
def test_a_bad_action_raises_a_python_exception(action):
    env = gymnasium.make("pilqr/Reacher-v0")
    env.reset(seed=0)
    with pytest.raises(pilqr.ActionError):
        env.step(action)
    # The episode goes on.
    env.step(np.zeros(2))


def test_a_non_finite_action_raises_with_the_rust_message():
    env = gymnasium.make("pilqr/PointMass-v0")
    env.reset(seed=0)
    with pytest.raises(pilqr.ActionError, match=r"step 0: action entry 1 is not finite \(NaN\)"):
        env.step(np.array([0.0, np.nan]))


def test_step_before_reset_and_unknown_names_raise():
    env = pilqr.gym.PilqrEnv("point-mass")
    with pytest.raises(pilqr.EpisodeError, match="call reset first"):
        env.step(np.zeros(2))
    with pytest.raises(pilqr.PilqrError, match="unknown task"):
        pilqr.gym.PilqrEnv("juggler")
    with pytest.raises(pilqr.PilqrError, match="no condition 'nowhere'"):
        pilqr.gym.PilqrEnv("point-mass", condition="nowhere")
    with pytest.raises(pilqr.PilqrError, match="condition 17 does not exist"):
        pilqr.gym.PilqrEnv("point-mass", condition=17)


def test_trajectory_cost_rejects_bad_shapes():
    dx, du, _, horizon, _ = _native.TaskEnv("reacher").dims
    with pytest.raises(pilqr.ActionError, match=r"states x has shape \[3, 8\]"):
        pilqr.trajectory_cost("reacher", 0, np.zeros((3, dx)), np.zeros((horizon, du)))
