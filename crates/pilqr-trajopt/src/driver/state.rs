//! The serialisable state of one condition, and the dynamics-model interface the loop uses.

use pilqr_core::{LinearGaussianPolicy, SampleBatch};
use pilqr_dynamics::{DynamicsError, DynamicsFitter, LinearDynamics};
use pilqr_linalg::MatStack;
use serde::{Deserialize, Serialize};

use crate::lqr_flm::LqrFlm;
use crate::pilqr::PreviousEstimates;

/// Something that fits time-varying linear dynamics from each iteration's samples (and may keep
/// a buffer of past ones, as the GMM prior does). [`DynamicsFitter`] implements it.
pub trait DynamicsModel: Clone + Send + Sync {
    /// The fitter's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Fit the dynamics of `batch`; `seed` drives any randomness (e.g. EM initialisation).
    fn update(&mut self, batch: &SampleBatch, seed: u64) -> Result<LinearDynamics, Self::Error>;
}

impl DynamicsModel for DynamicsFitter {
    type Error = DynamicsError;

    fn update(&mut self, batch: &SampleBatch, seed: u64) -> Result<LinearDynamics, DynamicsError> {
        DynamicsFitter::update(self, batch, seed)
    }
}

/// Everything one condition carries from an iteration to the next.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConditionState<M> {
    /// Condition index in the task.
    pub condition: usize,
    /// The current controller.
    pub policy: LinearGaussianPolicy,
    /// The dynamics fitter (with its sample buffer).
    pub model: M,
    /// Step multiplier per time step.
    pub step_mult: Vec<f64>,
    /// LQR-FLM's η per time step (the next search starts there).
    pub eta: Vec<f64>,
    /// Iterations completed.
    pub iterations: usize,
    /// The initial controller's covariances `Σ⁰ [T, dU, dU]`, the reference of the
    /// covariance floor.
    pub initial_cov: MatStack,
    /// The `improvement` step rule's estimates from the last iteration (`None` before the
    /// first and with the other rules).
    pub previous_estimates: Option<PreviousEstimates>,
    /// Solver buffers (rebuilt on demand; not part of the state).
    #[serde(skip)]
    pub(crate) solver: Option<LqrFlm>,
}
