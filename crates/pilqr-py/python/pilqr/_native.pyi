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

# --- The solvers over numpy arrays ------------------------------------------------------------
# Array arguments are any array-likes, converted to C-contiguous float64; their shapes are
# checked against each other (``ShapeError`` names the argument, the axis, expected and got).

from os import PathLike
from typing import Any

_Array = npt.ArrayLike
_F64 = npt.NDArray[np.float64]

class ShapeError(PilqrError):
    """An array argument has the wrong number of axes or a wrong axis length."""

class SettingsError(PilqrError):
    """A solver setting is unknown, of the wrong type or out of its domain."""

class SolverError(PilqrError):
    """A dynamics fit, controller update or KL failed (the Rust error's message)."""

class ExperimentError(PilqrError):
    """An experiment could not be loaded or run (the ``pilqr`` command's message)."""

class LinearGaussianPolicy:
    """``u_t = K_t x_t + k_t + chol_t ε_t``: ``K [T, dU, dX]``, ``k [T, dU]``, ``cov [T, dU, dU]``."""

    def __init__(self, K: _Array, k: _Array, cov: _Array) -> None:
        """From gains ``K [T, dU, dX]``, offsets ``k [T, dU]``, covariances ``cov [T, dU, dU]``
        (symmetric positive definite)."""
    @staticmethod
    def init_lqr(
        horizon: int,
        du: int,
        dt: float,
        x0: _Array,
        joint_pos: tuple[int, int],
        joint_vel: tuple[int, int],
        **settings: float,
    ) -> LinearGaussianPolicy:
        """The LQR initial controller around ``x0 [dX]``; ``joint_pos``/``joint_vel`` the
        ``(start, end)`` state indices; settings ``stiffness``, ``stiffness_vel``,
        ``final_weight``, ``init_gains``, ``init_acc``, ``init_var``."""
    @staticmethod
    def init_pd(
        horizon: int,
        du: int,
        x0: _Array,
        joint_pos: tuple[int, int],
        joint_vel: tuple[int, int],
        **settings: float,
    ) -> LinearGaussianPolicy:
        """The PD initial controller around ``x0 [dX]``; settings ``pos_gain``, ``vel_gain``,
        ``init_var``."""
    @property
    def horizon(self) -> int:
        """Horizon ``T``."""
    @property
    def dx(self) -> int:
        """State dimension ``dX``."""
    @property
    def du(self) -> int:
        """Action dimension ``dU``."""
    @property
    def K(self) -> _F64:
        """Gains ``[T, dU, dX]`` (a copy)."""
    @property
    def k(self) -> _F64:
        """Feed-forward terms ``[T, dU]`` (a copy)."""
    @property
    def cov(self) -> _F64:
        """Covariances ``[T, dU, dU]`` (a copy)."""
    @property
    def chol(self) -> _F64:
        """Lower Cholesky factors ``[T, dU, dU]`` of ``cov`` (a copy)."""
    @property
    def precision(self) -> _F64:
        """Inverse covariances ``[T, dU, dU]`` (a copy)."""
    def act(self, t: int, x: _Array, noise: _Array | None = None) -> _F64:
        """``u [dU]`` at step ``t`` for ``x [dX]`` and standard-normal ``noise [dU]`` (None:
        the mean action)."""

class LinearDynamics:
    """``x_{t+1} ~ N(fm_t [x_t; u_t] + fv_t, dyn_covar_t)``, ``x_0 ~ N(x0mu, x0sigma)``; step
    ``T-1`` has no transition (zero in a fit)."""

    def __init__(
        self, fm: _Array, fv: _Array, dyn_covar: _Array, x0mu: _Array, x0sigma: _Array
    ) -> None:
        """From ``fm [T, dX, dX+dU]``, ``fv [T, dX]``, ``dyn_covar [T, dX, dX]``,
        ``x0mu [dX]``, ``x0sigma [dX, dX]``."""
    @property
    def horizon(self) -> int:
        """Horizon ``T``."""
    @property
    def dx(self) -> int:
        """State dimension ``dX``."""
    @property
    def du(self) -> int:
        """Action dimension ``dU``."""
    @property
    def fm(self) -> _F64:
        """``[T, dX, dX+dU]`` (a copy)."""
    @property
    def fv(self) -> _F64:
        """``[T, dX]`` (a copy)."""
    @property
    def dyn_covar(self) -> _F64:
        """``[T, dX, dX]`` (a copy)."""
    @property
    def x0mu(self) -> _F64:
        """``[dX]`` (a copy)."""
    @property
    def x0sigma(self) -> _F64:
        """``[dX, dX]`` (a copy)."""

class CostModel:
    """``c_t(y) = ½ yᵀ cm_t y + cv_tᵀ y + cc_t`` of ``y = [x_t; u_t]``."""

    def __init__(self, cm: _Array, cv: _Array, cc: _Array, dx: int) -> None:
        """From ``cm [T, dX+dU, dX+dU]``, ``cv [T, dX+dU]``, ``cc [T]`` and the state size."""
    @property
    def cm(self) -> _F64:
        """``[T, dX+dU, dX+dU]`` (a copy)."""
    @property
    def cv(self) -> _F64:
        """``[T, dX+dU]`` (a copy)."""
    @property
    def cc(self) -> _F64:
        """``[T]`` (a copy)."""
    @property
    def dx(self) -> int:
        """State dimension ``dX``."""

class DynamicsFitter:
    """The dynamics fitter: keeps the GMM prior's trajectory buffer and mixture across updates."""

    def __init__(
        self, dx: int, du: int, prior: None | bool | str | dict[str, Any] = None, **settings: float
    ) -> None:
        """``prior``: None (plain regression), ``"gmm"`` (default GMM prior) or a dict of
        ``max_clusters``, ``min_samples_per_cluster``, ``max_samples``, ``strength``,
        ``em_tolerance``, ``em_max_iterations``, ``covariance_floor``; settings
        ``regularization``, ``initial_state_var``."""
    def update(self, x: _Array, u: _Array, seed: int = 0) -> LinearDynamics:
        """Add ``x [N, T, dX]``, ``u [N, T, dU]`` to the prior's buffer and fit their dynamics."""
    @property
    def has_prior(self) -> bool:
        """Whether a GMM prior is configured."""

def fit_dynamics(
    x: _Array,
    u: _Array,
    prior: None | bool | str | dict[str, Any] = None,
    seed: int = 0,
    **settings: float,
) -> LinearDynamics:
    """Fit ``x [N, T, dX]``, ``u [N, T, dU]`` with a fresh ``DynamicsFitter``."""

def lqr_flm_update(
    dynamics: LinearDynamics,
    cost: CostModel,
    previous: LinearGaussianPolicy,
    kl_targets: float | _Array,
    eta_init: float | _Array | None = None,
    **settings: Any,
) -> tuple[LinearGaussianPolicy, dict[str, Any]]:
    """One LQR-FLM update; ``kl_targets`` a number or ``[T]``, ``eta_init`` a number, ``[1]``
    or ``[T]`` (default 1). Settings ``omega``, ``min_eta``, ``max_eta``, ``max_iterations``,
    ``tolerance``, ``per_step``, ``value_function``. Info: ``eta``, ``kl [T]``, ``kl_total``,
    ``iterations``, ``forward_passes``, ``converged``, ``traj_mu [T, dX+dU]``,
    ``traj_sigma [T, dX+dU, dX+dU]``."""

def pi2_update(
    previous: LinearGaussianPolicy, x: _Array, u: _Array, costs: _Array, **settings: Any
) -> tuple[LinearGaussianPolicy, dict[str, Any]]:
    """One PI2 update from ``x [N, T, dX]``, ``u [N, T, dU]``, ``costs [N, T]``. Settings
    ``kl_threshold``, ``covariance_damping``, ``min_temperature``, ``max_temperature``,
    ``covariance_floor``, ``fixed_temperature``. Info: ``eta [T]``, ``weight_kl [T]``,
    ``recovered`` (steps)."""

def pilqr_update(
    previous: LinearGaussianPolicy,
    dynamics: LinearDynamics,
    cost: CostModel,
    x: _Array,
    u: _Array,
    noise: _Array,
    costs: _Array,
    kl_targets: float | _Array,
    eta_init: float | _Array | None = None,
    kl_reference: LinearGaussianPolicy | None = None,
    lqr: dict[str, Any] | None = None,
    pi2: dict[str, Any] | None = None,
) -> tuple[LinearGaussianPolicy, dict[str, Any]]:
    """One PILQR update (samples ``[N, T, ·]`` with their ``noise [N, T, dU]``). Info:
    ``lqr`` (as ``lqr_flm_update``'s, plus its ``policy``), ``pi2``, ``approximated [N, T]``."""

def kl_divergence(
    new: LinearGaussianPolicy,
    reference: LinearGaussianPolicy,
    dynamics: LinearDynamics | None = None,
    mu: _Array | None = None,
    sigma: _Array | None = None,
) -> _F64:
    """Per-step KL ``[T]`` of ``new`` to ``reference`` under ``mu [T, dX+dU]``,
    ``sigma [T, dX+dU, dX+dU]`` or under ``new``'s forward pass through ``dynamics``."""

def run_experiment(
    path: str | PathLike[str],
    out: str | PathLike[str] | None = None,
    seed: int | None = None,
    iterations: int | None = None,
    samples: int | None = None,
    force: bool = False,
    quiet: bool = False,
) -> Any:
    """``pilqr train`` of the experiment ``path`` into ``out`` (default ``runs/NAME``);
    returns the run directory. MDGPS experiments raise ``ExperimentError``."""

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
