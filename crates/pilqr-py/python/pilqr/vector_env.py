"""A gymnasium vector env whose copies of a pilqr task step in Rust on worker threads.

``PilqrVectorEnv`` behaves as ``gymnasium.vector.SyncVectorEnv`` over ``num_envs``
``pilqr.gym.PilqrEnv`` copies, with the same outputs bit for bit (observations, rewards,
flags and infos), but steps all copies in one call into Rust with the GIL released, spread
over ``threads`` worker threads. The results do not depend on the number of threads: each
copy is stepped by one worker and writes only its own row.

- Autoreset: gymnasium's default ``AutoresetMode.NEXT_STEP``. The call after a copy's
  episode is truncated resets that copy instead of stepping it (its action is ignored; reward
  0, both flags False, its ``info`` holds the reset's ``condition``/``condition_name``).
- ``reset(seed=s)`` seeds copy ``i`` with ``s + i`` (a list gives one seed per copy), as
  ``SyncVectorEnv`` does, so copy ``i`` is the single env reset with ``seed=s + i``; each
  copy draws its conditions and task seeds from its own generator, exactly as a
  ``PilqrEnv`` does. ``options={"reset_mask": mask}`` resets only the masked copies.
- Infos in gymnasium's vector layout: ``info[key]`` an array over the copies and
  ``info["_" + key]`` the mask of the copies that reported ``key`` (``state``, ``cost``,
  ``success``, ``metric``, ``condition``, ``condition_name``).
- A failing copy raises the exception of its error (``ActionError`` for a non-finite
  action, ...) with the message prefixed by ``copy i:``; the other copies have run.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from pilqr import _native
from pilqr.gym import PilqrEnv

__all__ = ["PilqrVectorEnv"]


class PilqrVectorEnv(VectorEnv):
    """``num_envs`` copies of a built-in pilqr task (see the module documentation).

    Args:
        task: the task's name (``pilqr._native.task_names()``).
        num_envs: the number of copies ``N``.
        threads: worker threads (default: the number of cores, at most ``N``).
        condition: as for ``PilqrEnv`` (fixed for every copy, or ``None`` to draw per reset).
        render_mode: ``None`` or ``"rgb_array"`` (``render()`` returns one ``[H, W, 3]``
            uint8 image per copy).
    """

    def __init__(
        self,
        task: str,
        num_envs: int = 1,
        threads: int | None = None,
        condition: int | str | None = None,
        render_mode: str | None = None,
    ) -> None:
        if threads is None:
            threads = max(1, min(num_envs, os.cpu_count() or 1))
        # The single env gives the spaces, the condition draws and the renderer.
        self._single = PilqrEnv(task, condition=condition, render_mode=render_mode)
        self._env = _native.VecTaskEnv(task, num_envs, threads)
        self.task = task
        self.num_envs = num_envs
        self.threads: int = threads
        self.render_mode = render_mode
        self.metadata = {
            "autoreset_mode": AutoresetMode.NEXT_STEP,
            "render_modes": ["rgb_array"],
            "render_fps": self._single.metadata["render_fps"],
        }
        self.single_observation_space = self._single.observation_space
        self.single_action_space = self._single.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._conditions: list[int | None] = [None] * num_envs
        self._autoreset = np.zeros(num_envs, dtype=np.bool_)
        self._state: npt.NDArray[np.float64] | None = None

    def _rng(self, i: int) -> np.random.Generator:
        """Copy ``i``'s generator, created unseeded on first use (as ``Env.np_random``)."""
        rng = self._rngs[i]
        if rng is None:
            rng, _ = seeding.np_random()
            self._rngs[i] = rng
        return rng

    def _draw(self, i: int, options: dict[str, Any] | None) -> tuple[int, int, int]:
        condition, task_seed = self._single.draw(self._rng(i), options)
        self._conditions[i] = condition
        return i, condition, task_seed

    def _reset_infos(self, copies: list[int], state: npt.NDArray[np.float64]) -> dict[str, Any]:
        n = self.num_envs
        mask = np.zeros(n, dtype=np.bool_)
        mask[copies] = True
        condition = np.zeros(n, dtype=int)
        names = np.full(n, fill_value=None, dtype=object)
        for i in copies:
            condition[i] = self._conditions[i]
            names[i] = self._single.conditions[self._conditions[i]][0]
        return {"condition": condition, "_condition": mask, "condition_name": names,
                "_condition_name": mask.copy()}

    def reset(
        self,
        *,
        seed: int | list[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[npt.NDArray[np.float64], dict[str, Any]]:
        """Reset the copies (all, or those of ``options["reset_mask"]``); returns the
        observations ``[N, dO]`` and the infos (``condition``, ``condition_name``,
        ``state [N, dX]``)."""
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(n)]
        else:
            seeds = list(seed)
        if len(seeds) != n:
            raise ValueError(f"{len(seeds)} seeds given for {n} copies")
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        if mask is None:
            mask = np.ones(n, dtype=np.bool_)
        elif not (isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (n,)):
            raise ValueError(f"options['reset_mask'] must be a bool array of shape ({n},)")
        copies = [int(i) for i in np.flatnonzero(mask)]
        for i in copies:
            if seeds[i] is not None:
                self._rngs[i], _ = seeding.np_random(seeds[i])
        resets = [self._draw(i, options) for i in copies]
        obs, _, _, state, _, _, _ = self._env.reset(resets)
        self._state = state
        self._autoreset[mask] = False
        infos = self._reset_infos(copies, state)
        rows = np.zeros_like(state)
        rows[mask] = state[mask]
        infos["state"], infos["_state"] = rows, mask.copy()
        return obs, infos

    def step(
        self, actions: npt.ArrayLike
    ) -> tuple[
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
        npt.NDArray[np.bool_],
        npt.NDArray[np.bool_],
        dict[str, Any],
    ]:
        """Step every copy with its row of ``actions`` ``[N, dU]`` (resetting those whose
        episode ended at the previous call); returns ``(obs [N, dO], rewards [N],
        terminated [N], truncated [N], infos)``."""
        try:
            u = np.asarray(actions, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise _native.ActionError(f"actions are not an array of numbers: {e}") from e
        copies = [int(i) for i in np.flatnonzero(self._autoreset)]
        resets = [self._draw(i, None) for i in copies]
        obs, reward, truncated, state, finished, success, metric = self._env.step(u, resets)
        self._state = state
        n = self.num_envs
        stepped = ~self._autoreset
        infos: dict[str, Any] = {}
        if copies:
            infos.update(self._reset_infos(copies, state))
        infos["state"], infos["_state"] = state, np.ones(n, dtype=np.bool_)
        if stepped.any():
            cost = np.zeros(n, dtype=float)
            cost[stepped] = -reward[stepped]
            infos["cost"], infos["_cost"] = cost, stepped
        if finished.any():
            succeeded = np.zeros(n, dtype=bool)
            succeeded[finished] = success[finished]
            metrics = np.zeros(n, dtype=float)
            metrics[finished] = metric[finished]
            infos["success"], infos["_success"] = succeeded, finished
            infos["metric"], infos["_metric"] = metrics, finished.copy()
        self._autoreset = truncated.copy()
        return obs, reward, np.zeros(n, dtype=np.bool_), truncated, infos

    def render(self) -> tuple[npt.NDArray[np.uint8], ...] | None:
        """One ``[H, W, 3]`` uint8 image of each copy's current state with
        ``render_mode="rgb_array"``; ``None`` without a render mode."""
        renderer = self._single._renderer
        if renderer is None:
            return None
        if self._state is None:
            raise _native.EpisodeError("render called before reset; call reset first")
        return tuple(
            renderer.render(c, self._state[i]) for i, c in enumerate(self._conditions)
        )
