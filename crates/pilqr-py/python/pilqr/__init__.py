"""pilqr from Python.

- ``pilqr.gym``: gymnasium environments over the task suite, registered as
  ``pilqr/Reacher-v0``, ``pilqr/GripperPusher-v0``, ... on import (see ``pilqr.gym.ENV_IDS``).
- ``trajectory_cost(task, condition, x, u)``: the per-step costs ``[T]`` of states
  ``x [T, dX]`` and actions ``u [T, dU]``, as the Rust runner scores a sample.
- ``task_names()``: the built-in tasks.
- The solvers over numpy arrays (float64; other dtypes and layouts are converted), in the
  ``[N, T, ·]`` layout of the Rust crates: ``fit_dynamics`` / ``DynamicsFitter`` (with or
  without the GMM prior) giving ``LinearDynamics``; ``LinearGaussianPolicy`` (from arrays,
  ``init_lqr``, ``init_pd``); ``CostModel``; ``lqr_flm_update``, ``pi2_update``,
  ``pilqr_update`` (each returns the new policy and a dict of the Rust result's diagnostics);
  ``kl_divergence``. The GIL is released while they compute.
- ``run_experiment(path, out=None, seed=None, iterations=None)``: ``pilqr train`` of a TOML
  trajectory-optimisation experiment, into the same run directory.
- ``pilqr.sweep``: the jobs of a ``pilqr compare`` as Ray tasks, merged into one compare run
  directory (``python -m pilqr.sweep CONFIG --methods a,b --seeds 0-99``; needs Ray).
- Errors: every failure of the Rust side raises a ``PilqrError`` (or a subclass:
  ``ActionError``, ``EpisodeError``, ``TaskError``, ``ShapeError``, ``SettingsError``,
  ``SolverError``, ``ExperimentError``) carrying the Rust error's message.
"""

from pilqr._native import (
    ActionError,
    CostModel,
    DynamicsFitter,
    EpisodeError,
    ExperimentError,
    LinearDynamics,
    LinearGaussianPolicy,
    PilqrError,
    SettingsError,
    ShapeError,
    SolverError,
    TaskError,
    fit_dynamics,
    kl_divergence,
    lqr_flm_update,
    pi2_update,
    pilqr_update,
    run_experiment,
    task_names,
    trajectory_cost,
)

__all__ = [
    "ActionError",
    "CostModel",
    "DynamicsFitter",
    "EpisodeError",
    "ExperimentError",
    "LinearDynamics",
    "LinearGaussianPolicy",
    "PilqrError",
    "SettingsError",
    "ShapeError",
    "SolverError",
    "TaskError",
    "fit_dynamics",
    "kl_divergence",
    "lqr_flm_update",
    "pi2_update",
    "pilqr_update",
    "run_experiment",
    "task_names",
    "trajectory_cost",
]
