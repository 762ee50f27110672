"""Type stubs of the extension module ``pilqr._native`` (the Rust side of ``pilqr``)."""

import numpy as np
import numpy.typing as npt

class PilqrError(Exception):
    """Base class of the errors raised by pilqr (the message is the Rust error's)."""

class ActionError(PilqrError):
    """An action or array was rejected (wrong shape, not finite); the episode is unchanged."""

class EpisodeError(PilqrError):
    """``step()`` without an episode under way (before reset, after the horizon or a failure)."""

class TaskError(PilqrError):
    """The task failed (diverged, cost error); the episode is over."""

class TaskEnv:
    """A built-in task driven one action at a time (the engine of ``pilqr.gym.PilqrEnv``)."""

    def __init__(self, name: str) -> None:
        """Build the built-in task ``name`` (see ``task_names()``)."""
    @property
    def name(self) -> str:
        """The task's name."""
    @property
    def dims(self) -> tuple[int, int, int, int, float]:
        """``(dX, dU, dO, T, dt)``: state, action, observation sizes, horizon, control period (s)."""
    @property
    def conditions(self) -> list[tuple[str, str]]:
        """The conditions as ``(name, split)`` pairs, split ``"train"`` or ``"test"``."""
    @property
    def action_limits(self) -> list[float] | None:
        """The bound the task clamps each action entry to (``[dU]``), or None if unbounded."""
    def reset(self, condition: int, seed: int) -> npt.NDArray[np.float64]:
        """Start an episode from ``condition`` (task randomness from ``seed``, a u64); returns
        the first observation ``[dO]``."""
    def step(
        self, action: npt.NDArray[np.float64]
    ) -> tuple[
        npt.NDArray[np.float64],
        float,
        bool,
        npt.NDArray[np.float64],
        tuple[bool, float] | None,
    ]:
        """Apply ``action`` (float64 ``[dU]``); returns ``(obs [dO], reward, truncated,
        state [dX], success)``, ``success = (succeeded, metric)`` on the last step only."""
    def state(self) -> npt.NDArray[np.float64]:
        """The current state ``[dX]``."""
    def trajectory(
        self,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], int]:
        """The episode's states ``[T, dX]``, actions ``[T, dU]`` (zero beyond the steps taken)
        and its condition."""

def trajectory_cost(
    name: str,
    condition: int,
    x: npt.NDArray[np.float64],
    u: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The per-step costs ``[T]`` of states ``x [T, dX]`` and actions ``u [T, dU]`` from
    ``condition`` of task ``name``, as the Rust runner scores a sample."""

def task_names() -> list[str]:
    """The names of the built-in tasks."""

class Renderer:
    """Draws states of a built-in task through its default camera (the engine of
    ``render_mode="rgb_array"``); a separate instance of the task from any ``TaskEnv``."""

    def __init__(self, name: str) -> None:
        """A renderer of the built-in task ``name``; a ``PilqrError`` if it cannot be drawn."""
    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)`` of the images, in pixels."""
    def render(self, condition: int, x: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
        """The image ``[H, W, 3]`` (uint8 RGB, row 0 at the top) of state ``x`` (float64
        ``[dX]``) of ``condition``."""

_VecOutputs = tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.bool_],
    npt.NDArray[np.float64],
    npt.NDArray[np.bool_],
    npt.NDArray[np.bool_],
    npt.NDArray[np.float64],
]

class VecTaskEnv:
    """``N`` copies of a built-in task stepped together on worker threads (the engine of
    ``pilqr.vector_env.PilqrVectorEnv``); results independent of the thread count."""

    def __init__(self, name: str, num_envs: int, threads: int) -> None:
        """``num_envs`` copies of task ``name`` stepped by ``threads`` worker threads."""
    @property
    def num_envs(self) -> int:
        """The number of copies ``N``."""
    @property
    def threads(self) -> int:
        """The number of worker threads."""
    def reset(self, resets: list[tuple[int, int, int]]) -> _VecOutputs:
        """Reset the copies listed as ``(copy, condition, seed)``, leaving the others; returns
        ``(obs [N, dO], reward [N], truncated [N], state [N, dX], finished [N], success [N],
        metric [N])``."""
    def step(
        self, actions: npt.NDArray[np.float64], resets: list[tuple[int, int, int]]
    ) -> _VecOutputs:
        """Step every copy with its row of ``actions`` (float64 ``[N, dU]``), except the
        copies listed in ``resets`` as ``(copy, condition, seed)``, which are reset instead;
        returns as ``reset``, ``finished`` marking the copies whose episode ended at this
        step (their success test in ``success`` and ``metric``)."""
