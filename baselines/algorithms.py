"""The four baselines and their hyperparameters: rl-baselines3-zoo's generic MuJoCo entries.

The zoo has no entry for our tasks, so each algorithm takes the entry the zoo shares between its
MuJoCo tasks (no per-task or per-seed tuning); baselines/README.md lists where each value comes
from. Everything not named here is the stable-baselines3 / sb3-contrib default of the pinned
version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import gymnasium
import numpy as np
from sb3_contrib import TRPO
from stable_baselines3 import PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize


@dataclass(frozen=True)
class AlgorithmSpec:
    """How to build one baseline."""

    name: str
    cls: type[BaseAlgorithm]
    kwargs: dict[str, Any] = field(default_factory=dict)
    n_envs: int = 1
    normalize: bool = False
    """Wrap the training env in VecNormalize (observations and rewards), as the zoo does."""
    gaussian_action_noise: float | None = None
    """Standard deviation of TD3's exploration noise in the policy's scaled action space
    ([-1, 1] per entry; stable-baselines3 adds the noise there)."""


ALGORITHMS: dict[str, AlgorithmSpec] = {
    # Zoo ppo.yml, the MuJoCo default entry: normalised observations and rewards, otherwise the
    # library defaults (n_steps 2048, batch 64, 10 epochs, lr 3e-4, gamma 0.99, GAE 0.95).
    "ppo": AlgorithmSpec("ppo", PPO, normalize=True),
    # Zoo sac.yml, the MuJoCo default entry: 10 000 random steps before learning, otherwise the
    # library defaults (lr 3e-4, buffer 1e6, batch 256, tau 0.005, automatic entropy).
    "sac": AlgorithmSpec("sac", SAC, {"learning_starts": 10_000}),
    # Zoo td3.yml, the entry its continuous-control (pybullet) tasks share: gamma 0.98, buffer
    # 2e5, 10 000 random steps, Gaussian noise 0.1, lr 1e-3, one gradient step per env step
    # collected, trained at the end of each episode, [400, 300] networks.
    "td3": AlgorithmSpec(
        "td3",
        TD3,
        {
            "gamma": 0.98,
            "buffer_size": 200_000,
            "learning_starts": 10_000,
            "gradient_steps": -1,
            "train_freq": (1, "episode"),
            "learning_rate": 1e-3,
            "policy_kwargs": {"net_arch": [400, 300]},
        },
        gaussian_action_noise=0.1,
    ),
    # Zoo trpo.yml, the MuJoCo default entry (shared with its pybullet tasks): 2 envs,
    # normalised, n_steps 1024, batch 128, gamma 0.99, GAE 0.95, 25 CG steps, CG damping 0.1,
    # 20 critic updates, lr 1e-3, no sub-sampling.
    "trpo": AlgorithmSpec(
        "trpo",
        TRPO,
        {
            "batch_size": 128,
            "n_steps": 1024,
            "gamma": 0.99,
            "gae_lambda": 0.95,
            "sub_sampling_factor": 1,
            "cg_max_steps": 25,
            "cg_damping": 0.1,
            "n_critic_updates": 20,
            "learning_rate": 1e-3,
        },
        n_envs=2,
        normalize=True,
    ),
}


@dataclass
class Built:
    """A baseline ready to learn, and its deterministic policy for evaluation."""

    model: BaseAlgorithm
    venv: VecEnv
    act: Callable[[np.ndarray], np.ndarray]
    """Observation of the raw env -> deterministic action (observation normalisation applied)."""


def build(spec: AlgorithmSpec, env_id: str, seed: int) -> Built:
    """The model of ``spec`` on ``n_envs`` copies of ``env_id`` (each drawing a training
    condition per reset), seeded with ``seed`` (python, numpy, torch, the envs' resets and the
    action spaces)."""
    venv: VecEnv = DummyVecEnv([lambda: gymnasium.make(env_id) for _ in range(spec.n_envs)])
    if spec.normalize:
        venv = VecNormalize(venv)
    kwargs = dict(spec.kwargs)
    if spec.gaussian_action_noise is not None:
        n = venv.action_space.shape[0]
        kwargs["action_noise"] = NormalActionNoise(
            np.zeros(n), np.full(n, spec.gaussian_action_noise)
        )
    model = spec.cls("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, **kwargs)
    norm = venv if isinstance(venv, VecNormalize) else None

    def act(obs: np.ndarray) -> np.ndarray:
        o = norm.normalize_obs(obs) if norm is not None else obs
        action, _ = model.predict(o, deterministic=True)
        return np.asarray(action, dtype=np.float64)

    return Built(model, venv, act)
