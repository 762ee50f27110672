"""gymnasium environments over the pilqr task suite.

Importing this module registers every built-in task with gymnasium as ``pilqr/<Name>-v0``
(``pilqr/PointMass-v0``, ``pilqr/Reacher-v0``, ``pilqr/GripperPusher-v0``,
``pilqr/GripperPusherTable-v0``, ``pilqr/DoorOpening-v0``, ``pilqr/Hockey-v0``,
``pilqr/PowerPlug-v0``; the ids are in ``ENV_IDS``)::

    import gymnasium, pilqr.gym
    env = gymnasium.make("pilqr/Reacher-v0")             # a train condition drawn per reset
    env = gymnasium.make("pilqr/Reacher-v0", condition=3)  # always condition 3 (or its name)

An episode is what the Rust sampler records: ``T`` steps (the task's horizon), step ``t``
scoring the action ``u_t`` from state ``x_t`` with the condition's cost (reward ``-c_t``).
``terminated`` is always False; ``truncated`` is True on step ``T``, whose ``info`` also
holds the task's success test of the whole episode (``success``, ``metric``). The last action
is applied too, so the last observation is a true next observation (its state is not scored).

Spaces: ``Box(-inf, inf, (dO,), float64)`` observations; ``Box(-limit, limit, (dU,),
float64)`` actions, the limits being the bounds the task clamps actions to (an action beyond
them acts as the bound, and is scored as given, as the Rust sampler scores the actions it
records). ``reset(seed=s)`` is deterministic: the condition draw and the task's own
randomness come from the env's ``np_random``.

``render_mode="rgb_array"``: ``env.render()`` returns the current state as an ``[H, W, 3]``
uint8 image drawn by the task suite's renderer (a separate instance of the task, so drawing
does not disturb the episode).

Vector envs: ``make_vec(id, num_envs, threads=None)`` (or ``gymnasium.make_vec``) gives a
``PilqrVectorEnv`` whose copies step in Rust on worker threads (see ``pilqr.vector_env``).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from pilqr import _native

__all__ = ["ENV_IDS", "PilqrEnv", "PilqrVectorEnv", "env_id", "make_vec"]


def env_id(task: str) -> str:
    """The gymnasium id of built-in task ``task``: ``"gripper-pusher"`` -> ``"pilqr/GripperPusher-v0"``."""
    return "pilqr/" + "".join(part.capitalize() for part in task.split("-")) + "-v0"


class PilqrEnv(gymnasium.Env[npt.NDArray[np.float64], npt.NDArray[np.float64]]):
    """A built-in pilqr task as a gymnasium environment (see the module documentation).

    Args:
        task: the task's name (``pilqr._native.task_names()``).
        condition: the condition of every episode, as an index or a name; ``None`` draws one
            of the train conditions uniformly per reset. ``reset(options={"condition": c})``
            overrides it for one episode.
        render_mode: ``None`` or ``"rgb_array"`` (``render()`` returns an ``[H, W, 3]``
            uint8 image of the current state).
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        task: str,
        condition: int | str | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(
                f"render_mode {render_mode!r} is not supported (None or 'rgb_array')"
            )
        self.render_mode = render_mode
        self._env = _native.TaskEnv(task)
        self.task = task
        dx, du, dobs, horizon, dt = self._env.dims
        self.metadata = {"render_modes": ["rgb_array"], "render_fps": 1.0 / dt}
        # Built now, so that a task that cannot be drawn fails at make() time.
        self._renderer = _native.Renderer(task) if render_mode == "rgb_array" else None
        self.horizon: int = horizon
        self.dt: float = dt
        self.state_dim: int = dx
        self.conditions: list[tuple[str, str]] = self._env.conditions
        self.train_conditions: list[int] = [
            i for i, (_, split) in enumerate(self.conditions) if split == "train"
        ]
        self._fixed = None if condition is None else self._condition_index(condition)
        self.condition: int | None = None
        limits = self._env.action_limits
        high = np.full(du, np.inf) if limits is None else np.asarray(limits, dtype=np.float64)
        self.action_space = spaces.Box(-high, high, shape=(du,), dtype=np.float64)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(dobs,), dtype=np.float64)

    def _condition_index(self, condition: int | str) -> int:
        if isinstance(condition, str):
            names = [name for name, _ in self.conditions]
            if condition not in names:
                raise _native.PilqrError(
                    f"task {self.task!r} has no condition {condition!r}; its conditions: {names}"
                )
            return names.index(condition)
        index = int(condition)
        if not 0 <= index < len(self.conditions):
            raise _native.PilqrError(
                f"condition {index} does not exist (task {self.task!r} has {len(self.conditions)})"
            )
        return index

    def draw(
        self, rng: np.random.Generator, options: dict[str, Any] | None = None
    ) -> tuple[int, int]:
        """The condition and task seed of a new episode, drawn from ``rng`` (the same draws
        for ``reset`` and for each copy of a ``PilqrVectorEnv``)."""
        chosen = (options or {}).get("condition", self._fixed)
        if chosen is None:
            if not self.train_conditions:
                raise _native.PilqrError(f"task {self.task!r} has no train condition to draw")
            chosen = self.train_conditions[int(rng.integers(len(self.train_conditions)))]
        condition = self._condition_index(chosen)
        task_seed = int(rng.integers(0, 2**63, dtype=np.int64))
        return condition, task_seed

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[npt.NDArray[np.float64], dict[str, Any]]:
        """Start an episode; returns the first observation ``[dO]`` and ``info`` with the
        ``condition`` (index), its ``condition_name`` and the ``state`` ``[dX]``."""
        super().reset(seed=seed)
        condition, task_seed = self.draw(self.np_random, options)
        obs = self._env.reset(condition, task_seed)
        self.condition = condition
        info = {
            "condition": condition,
            "condition_name": self.conditions[condition][0],
            "state": self._env.state(),
        }
        return obs, info

    def step(
        self, action: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], float, bool, bool, dict[str, Any]]:
        """Apply ``action`` ``[dU]``; returns ``(obs [dO], reward, terminated, truncated,
        info)``, ``info`` with the ``state`` ``[dX]`` and the step's ``cost``, and on the last
        step ``success`` (bool) and ``metric`` (the task's success metric, e.g. the final
        distance)."""
        try:
            u = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise _native.ActionError(f"action is not an array of numbers: {e}") from e
        obs, reward, truncated, state, success = self._env.step(u)
        info: dict[str, Any] = {"state": state, "cost": -reward}
        if success is not None:
            info["success"], info["metric"] = success
        return obs, reward, False, truncated, info

    def render(self) -> npt.NDArray[np.uint8] | None:
        """The current state as an ``[H, W, 3]`` uint8 RGB image with
        ``render_mode="rgb_array"``; ``None`` without a render mode. Before the first reset:
        an ``EpisodeError`` (there is no state yet)."""
        if self._renderer is None:
            return None
        if self.condition is None:
            raise _native.EpisodeError("render called before reset; call reset first")
        return self._renderer.render(self.condition, self._env.state())

    def trajectory(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], int]:
        """The current episode's states ``[T, dX]``, actions ``[T, dU]`` (zero beyond the
        steps taken) and its condition."""
        return self._env.trajectory()


ENV_IDS: dict[str, str] = {}
"""The registered gymnasium id of each built-in task name."""

for _task in _native.task_names():
    _id = env_id(_task)
    ENV_IDS[_task] = _id
    if _id not in gymnasium.registry:
        gymnasium.register(
            id=_id,
            entry_point="pilqr.gym:PilqrEnv",
            vector_entry_point="pilqr.vector_env:PilqrVectorEnv",
            kwargs={"task": _task},
        )


def make_vec(
    id: str, num_envs: int = 1, threads: int | None = None, **kwargs: Any
) -> PilqrVectorEnv:
    """``num_envs`` copies of the registered env ``id`` (e.g. ``"pilqr/Reacher-v0"``) stepped
    in Rust by ``threads`` worker threads (default: one per core, at most ``num_envs``);
    ``kwargs`` as for ``PilqrVectorEnv`` (``condition``, ``render_mode``). The same as
    ``gymnasium.make_vec(id, num_envs, vectorization_mode="vector_entry_point", ...)``."""
    env = gymnasium.make_vec(
        id, num_envs=num_envs, vectorization_mode="vector_entry_point", threads=threads, **kwargs
    )
    return env


from pilqr.vector_env import PilqrVectorEnv  # noqa: E402  (it builds on PilqrEnv above)
