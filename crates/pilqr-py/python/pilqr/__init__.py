"""pilqr from Python.

- ``pilqr.gym``: gymnasium environments over the task suite, registered as
  ``pilqr/Reacher-v0``, ``pilqr/GripperPusher-v0``, ... on import (see ``pilqr.gym.ENV_IDS``).
- ``trajectory_cost(task, condition, x, u)``: the per-step costs ``[T]`` of states
  ``x [T, dX]`` and actions ``u [T, dU]``, as the Rust runner scores a sample.
- ``task_names()``: the built-in tasks.
- ``pilqr.sweep``: the jobs of a ``pilqr compare`` as Ray tasks, merged into one compare run
  directory (``python -m pilqr.sweep CONFIG --methods a,b --seeds 0-99``; needs Ray).
- Errors: every failure of the Rust side raises a ``PilqrError`` (or a subclass:
  ``ActionError``, ``EpisodeError``, ``TaskError``) carrying the Rust error's message.
"""

from pilqr._native import (
    ActionError,
    EpisodeError,
    PilqrError,
    TaskError,
    task_names,
    trajectory_cost,
)

__all__ = [
    "ActionError",
    "EpisodeError",
    "PilqrError",
    "TaskError",
    "task_names",
    "trajectory_cost",
]
