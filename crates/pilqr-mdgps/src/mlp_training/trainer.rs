//! The native S-step loop: minibatches in the shared order, forward, backward, Adam.

use super::adam::Adam;
use super::backward::backward;
use super::forward::{forward, loss};
use super::matmul::Kernel;
use super::params::TrainingParams;
use super::workspace::{TrainingRows, Workspace};
use crate::error::MdgpsError;
use crate::minibatch_order::MinibatchOrder;
use crate::mlp_weights::MlpWeights;

/// What native training returns.
#[derive(Debug, Clone)]
pub(crate) struct Trained {
    /// The trained parameters.
    pub weights: MlpWeights,
    /// Loss over all rows before training.
    pub initial_loss: f64,
    /// Loss over all rows after training.
    pub final_loss: f64,
    /// Minibatch loss (before its update) at the last minibatch of every epoch and at the
    /// last iteration.
    pub epoch_losses: Vec<f64>,
}

/// Optimiser settings the loop needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrainSettings {
    /// Adam iterations.
    pub iterations: usize,
    /// Minibatch rows (`1 ≤ batch ≤ rows`).
    pub batch: usize,
    /// Adam step size.
    pub learning_rate: f64,
    /// L2 weight decay.
    pub weight_decay: f64,
}

/// Loss over all of `data`, in consecutive chunks of the workspace's capacity, summed in row
/// order.
fn dataset_loss(
    kernel: Kernel,
    params: &TrainingParams,
    ws: &mut Workspace,
    data: &TrainingRows<'_>,
) -> f64 {
    let mut total = 0.0;
    let mut start = 0;
    while start < data.rows {
        let len = ws.capacity.min(data.rows - start);
        ws.load_range(data, start, len);
        forward(kernel, params, ws);
        // `loss` divides by 2·len; undo that to sum the raw quadratic forms.
        total += loss(ws, false) * (2.0 * len as f64);
        start += len;
    }
    total / (2.0 * data.rows as f64)
}

/// Train `weights` on `data` for `settings.iterations` minibatches drawn from `order`.
pub(crate) fn train(
    kernel: Kernel,
    weights: &MlpWeights,
    data: &TrainingRows<'_>,
    settings: TrainSettings,
    order: &mut MinibatchOrder,
) -> Result<Trained, MdgpsError> {
    let mut params = TrainingParams::from_weights(weights);
    let mut ws = Workspace::new(&params, settings.batch, data.d_o, data.d_u);
    let initial_loss = dataset_loss(kernel, &params, &mut ws, data);
    let mut adam = Adam::new(
        params.values.len(),
        settings.learning_rate,
        settings.weight_decay,
    );
    let mut epoch_losses = Vec::new();
    for it in 0..settings.iterations {
        let (index, epoch_end) = order.minibatch(it);
        ws.gather(data, index);
        forward(kernel, &params, &mut ws);
        let l = loss(&mut ws, true);
        if epoch_end || it + 1 == settings.iterations {
            if !l.is_finite() {
                return Err(MdgpsError::Diverged {
                    iteration: it,
                    loss: l,
                });
            }
            epoch_losses.push(l);
        }
        backward(kernel, &params, &mut ws);
        adam.step_on(kernel, &mut params.values, &ws.grad);
    }
    let final_loss = dataset_loss(kernel, &params, &mut ws, data);
    Ok(Trained {
        weights: params.to_weights(),
        initial_loss,
        final_loss,
        epoch_losses,
    })
}
