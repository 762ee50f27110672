//! The S-step: supervised regression of the network's mean onto the local controllers.
//!
//! Minimises, by Adam on minibatches for a fixed number of iterations,
//!
//! `L(θ) = 1/(2B) Σ_rows w (μ_θ(ô) − μ_loc)ᵀ Σ_loc⁻¹ (μ_θ(ô) − μ_loc)`,
//!
//! with `μ_loc = K_t x + k_t` and `Σ_loc` from the new local controllers, `ô` the normalised
//! observation, `w` the normalised per-row weight (see [`crate::normalize_weights`]), plus
//! weight decay; then sets `Σ_π = diag(1 / diag(mean local precision))` (docs/design.md §4.6).
//!
//! Two backends run this same algorithm ([`SStepBackend`]): the default native one (plain
//! Rust, fixed summation orders, the same bits on every x86-64 CPU) and the libtorch one it is
//! tested against (autograd and tch's `nn::Adam`, kept as the reference).

use std::time::Instant;

use pilqr_core::{Policy, RunSeed};
use serde::{Deserialize, Serialize};
use tch::nn::{Adam, OptimizerConfig};
use tch::{Kind, Tensor};

use crate::error::{MdgpsError, torch};
use crate::global_policy::GlobalPolicy;
use crate::minibatch_order::MinibatchOrder;
use crate::mlp_training::matmul::KernelPath;
use crate::mlp_training::trainer::{TrainSettings, Trained, train};
use crate::mlp_training::workspace::TrainingRows;
use crate::nn_policy::NnPolicy;
use crate::normalization::ObsNormalization;
use crate::supervision::{SStepCondition, Supervision};
use crate::torch_mlp::TorchMlp;

/// Which implementation trains the network in the S-step. Both run the same algorithm (the
/// same minibatches, loss, Adam and weight decay) and agree up to rounding; only the native
/// one is the same bits on every CPU independently of libtorch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SStepBackend {
    /// Plain Rust with fixed-order matrix products (fast at the paper's sizes).
    #[default]
    Native,
    /// libtorch autograd and tch's `nn::Adam` (the reference the native one is tested against).
    Torch,
}

/// Optimiser settings of the S-step.
///
/// ```
/// let c = pilqr_mdgps::SStepConfig::default();
/// assert_eq!((c.iterations, c.batch_size), (4000, 25));
/// c.validate().unwrap();
/// // More libtorch threads would change the bits.
/// assert!(pilqr_mdgps::SStepConfig { torch_threads: 2, ..c }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SStepConfig {
    /// Adam iterations per S-step (one minibatch each).
    pub iterations: usize,
    /// Rows per minibatch (capped at the number of rows).
    pub batch_size: usize,
    /// Adam step size.
    pub learning_rate: f64,
    /// L2 weight decay on every parameter (added to the gradient).
    pub weight_decay: f64,
    /// libtorch intra-op threads during the S-step (process-wide setting). Only 1 is accepted:
    /// with more, libtorch splits its matrix products and reductions between threads and the
    /// result bits change (measured: 2 threads give different weights from 1), so the field
    /// exists for configuration compatibility only.
    pub torch_threads: usize,
    /// Which implementation trains the network.
    pub backend: SStepBackend,
    /// The native backend's matrix-product code path (every choice gives the same bits).
    pub kernels: KernelPath,
}

impl Default for SStepConfig {
    fn default() -> Self {
        SStepConfig {
            iterations: 4000,
            batch_size: 25,
            learning_rate: 1e-3,
            weight_decay: 5e-3,
            torch_threads: 1,
            backend: SStepBackend::Native,
            kernels: KernelPath::Auto,
        }
    }
}

impl SStepConfig {
    /// Check the ranges: positive batch size, learning rate and thread count, non-negative
    /// finite weight decay.
    pub fn validate(&self) -> Result<(), MdgpsError> {
        let bad = |field, reason: &str| {
            Err(MdgpsError::InvalidConfig {
                field,
                reason: reason.into(),
            })
        };
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("learning_rate", "must be finite and positive");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad("weight_decay", "must be finite and non-negative");
        }
        if self.torch_threads != 1 {
            return bad(
                "torch_threads",
                "must be 1: more libtorch threads change the result bits",
            );
        }
        Ok(())
    }
}

/// What an S-step did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SStepReport {
    /// Rows `Σ N·T` regressed on.
    pub rows: usize,
    /// Adam iterations run.
    pub iterations: usize,
    /// Rows per minibatch.
    pub batch_size: usize,
    /// Whether this S-step fitted the observation normalisation (the first one does).
    pub fitted_normalization: bool,
    /// Loss `1/(2R) Σ w (μ_θ − μ_loc)ᵀ Σ_loc⁻¹ (μ_θ − μ_loc)` over all rows before training.
    pub initial_loss: f64,
    /// The same loss after training.
    pub final_loss: f64,
    /// The new diagonal of `Σ_π`.
    pub variance: Vec<f64>,
    /// Wall-clock time of the S-step in seconds (not part of any result).
    pub seconds: f64,
    /// The minibatch loss (before its update) at the last minibatch of every epoch and at
    /// the last iteration: the loss trajectory.
    #[serde(default)]
    pub epoch_losses: Vec<f64>,
}

/// The supervision rows as libtorch tensors, built once per S-step.
struct RowTensors {
    obs: Tensor,
    mean: Tensor,
    precision: Tensor,
}

impl RowTensors {
    fn new(s: &Supervision, obs: &[f64], d_o: usize, d_u: usize) -> Result<Self, MdgpsError> {
        let ctx = "copying the S-step data to libtorch";
        let r = s.rows as i64;
        let (d_o, d_u) = (d_o as i64, d_u as i64);
        Ok(RowTensors {
            obs: torch(
                ctx,
                Tensor::f_from_slice(obs).and_then(|t| t.f_view([r, d_o])),
            )?,
            mean: torch(
                ctx,
                Tensor::f_from_slice(&s.mean).and_then(|t| t.f_view([r, d_u])),
            )?,
            precision: torch(
                ctx,
                Tensor::f_from_slice(&s.precision).and_then(|t| t.f_view([r, d_u, d_u])),
            )?,
        })
    }

    /// The rows in the order `index` (one gather per epoch).
    fn permuted(&self, index: &Tensor) -> Result<Self, MdgpsError> {
        let ctx = "shuffling the S-step rows";
        Ok(RowTensors {
            obs: torch(ctx, self.obs.f_index_select(0, index))?,
            mean: torch(ctx, self.mean.f_index_select(0, index))?,
            precision: torch(ctx, self.precision.f_index_select(0, index))?,
        })
    }

    /// Rows `start .. start + len` (views, no copy).
    fn slice(&self, start: usize, len: usize) -> Result<Self, MdgpsError> {
        let ctx = "taking a minibatch";
        let (s, l) = (start as i64, len as i64);
        Ok(RowTensors {
            obs: torch(ctx, self.obs.f_narrow(0, s, l))?,
            mean: torch(ctx, self.mean.f_narrow(0, s, l))?,
            precision: torch(ctx, self.precision.f_narrow(0, s, l))?,
        })
    }

    /// `1/(2B) Σ_rows (μ_θ − μ_loc)ᵀ P (μ_θ − μ_loc)` with `B` the number of rows.
    fn loss(&self, net: &TorchMlp) -> Result<Tensor, MdgpsError> {
        let ctx = "computing the S-step loss";
        let rows = self.obs.size()[0] as f64;
        let diff = torch(ctx, net.forward(&self.obs)?.f_sub(&self.mean))?;
        let pd = torch(
            ctx,
            diff.f_unsqueeze(2)
                .and_then(|d| self.precision.f_bmm(&d))
                .and_then(|p| p.f_squeeze_dim(2)),
        )?;
        torch(
            ctx,
            diff.f_mul(&pd)
                .and_then(|q| q.f_sum(Kind::Double))
                .and_then(|s| s.f_div_scalar(2.0 * rows)),
        )
    }

    fn loss_value(&self, net: &TorchMlp) -> Result<f64, MdgpsError> {
        let l = tch::no_grad(|| self.loss(net))?;
        torch("reading the S-step loss", l.f_double_value(&[]))
    }
}

/// Run one S-step on `policy`: regress `μ_θ` onto the local controllers of `conditions`,
/// then update `Σ_π`.
///
/// The first S-step of a policy (no normalisation yet) fits the observation normalisation on
/// its observations and stores it in the policy. Minibatches visit the rows in an order
/// reshuffled every epoch from the run seed's `"mdgps-s-step"` stream for `iteration`, so the
/// result depends only on the policy, the data, the configuration, the seed and the
/// iteration. Adam's moment estimates start from zero at every S-step, which keeps a
/// checkpoint of the policy alone sufficient to resume bit-identically.
pub fn s_step(
    policy: &mut NnPolicy,
    conditions: &[SStepCondition<'_>],
    config: &SStepConfig,
    seed: RunSeed,
    iteration: usize,
) -> Result<SStepReport, MdgpsError> {
    let started = Instant::now();
    config.validate()?;
    let (d_o, d_u) = (policy.obs_dim(), policy.action_dim());
    let sup = Supervision::assemble(conditions, d_o, d_u)?;
    let fitted_normalization = policy.normalization().is_none();
    if fitted_normalization {
        policy.set_normalization(ObsNormalization::fit(&sup.obs, d_o)?)?;
    }
    let mut obs = sup.obs.clone();
    if let Some(n) = policy.normalization() {
        n.apply_rows(&mut obs);
    }
    let batch = config.batch_size.min(sup.rows);
    let mut order = MinibatchOrder::new(
        sup.rows,
        batch,
        seed.rng("mdgps-s-step", &[iteration as u64]),
    );
    let settings = TrainSettings {
        iterations: config.iterations,
        batch,
        learning_rate: config.learning_rate,
        weight_decay: config.weight_decay,
    };
    let trained = match config.backend {
        SStepBackend::Native => {
            let rows = TrainingRows {
                rows: sup.rows,
                d_o,
                d_u,
                obs: &obs,
                mean: &sup.mean,
                precision: &sup.precision,
            };
            train(
                config.kernels.resolve()?,
                policy.weights(),
                &rows,
                settings,
                &mut order,
            )?
        }
        SStepBackend::Torch => train_torch(policy.weights(), &sup, &obs, settings, &mut order)?,
    };
    if !trained.final_loss.is_finite() {
        return Err(MdgpsError::Diverged {
            iteration: config.iterations,
            loss: trained.final_loss,
        });
    }
    let (initial_loss, final_loss, epoch_losses) = (
        trained.initial_loss,
        trained.final_loss,
        trained.epoch_losses,
    );
    policy.set_weights(trained.weights)?;
    let variance: Vec<f64> = sup.mean_precision_diag.iter().map(|p| 1.0 / p).collect();
    policy.set_variance(variance.clone())?;
    Ok(SStepReport {
        rows: sup.rows,
        iterations: config.iterations,
        batch_size: batch,
        fitted_normalization,
        initial_loss,
        final_loss,
        variance,
        seconds: started.elapsed().as_secs_f64(),
        epoch_losses,
    })
}

/// The reference backend: libtorch autograd and tch's `nn::Adam` on the same minibatches
/// (libtorch single-threaded, its CPU numerics pinned).
fn train_torch(
    weights: &crate::mlp_weights::MlpWeights,
    sup: &Supervision,
    obs: &[f64],
    settings: TrainSettings,
    order: &mut MinibatchOrder,
) -> Result<Trained, MdgpsError> {
    crate::pin_cpu_numerics()?;
    tch::set_num_threads(1);
    let (d_o, d_u) = (weights.input_dim(), weights.output_dim());
    let net = TorchMlp::from_weights(weights)?;
    let data = RowTensors::new(sup, obs, d_o, d_u)?;
    let initial_loss = data.loss_value(&net)?;
    let mut opt = torch(
        "building the Adam optimiser",
        Adam {
            wd: settings.weight_decay,
            ..Adam::default()
        }
        .build(net.var_store(), settings.learning_rate),
    )?;
    let batch = settings.batch;
    let per_epoch = sup.rows / batch;
    let mut epoch_losses = Vec::new();
    let mut shuffled = None;
    for it in 0..settings.iterations {
        let j = it % per_epoch;
        let (_, epoch_end) = order.minibatch(it);
        if j == 0 {
            let idx: Vec<i64> = order.permutation().iter().map(|&i| i as i64).collect();
            let index = torch(
                "building a minibatch permutation",
                Tensor::f_from_slice(&idx),
            )?;
            shuffled = Some(data.permuted(&index)?);
        }
        // Set at j == 0, which the first iteration is.
        let rows = shuffled.as_ref().expect("permutation drawn at iteration 0");
        let loss = rows.slice(j * batch, batch)?.loss(&net)?;
        if epoch_end || it + 1 == settings.iterations {
            let l = torch("reading the S-step loss", loss.f_double_value(&[]))?;
            if !l.is_finite() {
                return Err(MdgpsError::Diverged {
                    iteration: it,
                    loss: l,
                });
            }
            epoch_losses.push(l);
        }
        opt.backward_step(&loss);
    }
    let final_loss = data.loss_value(&net)?;
    Ok(Trained {
        weights: net.weights()?,
        initial_loss,
        final_loss,
        epoch_losses,
    })
}
