//! Every buffer one native S-step needs, allocated once for the largest minibatch.

use super::backward::padded;
use super::params::TrainingParams;

/// The S-step's rows (observations already normalised), row-major.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrainingRows<'a> {
    /// Number of rows `R`.
    pub rows: usize,
    /// Observation width `dO`.
    pub d_o: usize,
    /// Action width `dU`.
    pub d_u: usize,
    /// Normalised observations `[R, dO]`.
    pub obs: &'a [f64],
    /// Target means `[R, dU]`.
    pub mean: &'a [f64],
    /// Weighted precisions `[R, dU, dU]`.
    pub precision: &'a [f64],
}

/// Activations, deltas and gradients of one minibatch of up to `capacity` rows.
#[derive(Debug)]
pub(crate) struct Workspace {
    /// Rows the buffers hold.
    pub capacity: usize,
    /// Rows currently loaded.
    pub rows: usize,
    /// Network inputs `[rows, dO]`.
    pub input: Vec<f64>,
    /// Targets `[rows, dU]`.
    pub mean: Vec<f64>,
    /// Precisions `[rows, dU, dU]`.
    pub precision: Vec<f64>,
    /// Pre-activations `z_l` per layer `[rows, outputs_l]` (the last is the network output).
    pub pre: Vec<Vec<f64>>,
    /// Activations `h_l = σ(z_l)` per hidden layer.
    pub post: Vec<Vec<f64>>,
    /// `∂L/∂z_l` per layer.
    pub delta: Vec<Vec<f64>>,
    /// `δ_lᵀ` of the layer being back-propagated from, `[outputs_l, padded rows]`.
    pub delta_t: Vec<f64>,
    /// `(∂L/∂h)ᵀ` of the layer being back-propagated into, `[inputs_l, padded rows]`.
    pub back_t: Vec<f64>,
    /// `∂L/∂θ` in the layout of [`TrainingParams::values`].
    pub grad: Vec<f64>,
    /// Observation width.
    pub d_o: usize,
    /// Action width.
    pub d_u: usize,
}

impl Workspace {
    /// Buffers for `params` and minibatches of up to `capacity` rows of widths `d_o`, `d_u`.
    pub fn new(params: &TrainingParams, capacity: usize, d_o: usize, d_u: usize) -> Self {
        let widths: Vec<usize> = params.layers.iter().map(|l| l.outputs).collect();
        let hidden = &widths[..widths.len() - 1];
        Workspace {
            capacity,
            rows: 0,
            input: vec![0.0; capacity * d_o],
            mean: vec![0.0; capacity * d_u],
            precision: vec![0.0; capacity * d_u * d_u],
            pre: widths.iter().map(|w| vec![0.0; capacity * w]).collect(),
            post: hidden.iter().map(|w| vec![0.0; capacity * w]).collect(),
            delta: widths.iter().map(|w| vec![0.0; capacity * w]).collect(),
            delta_t: vec![0.0; padded(capacity) * widths.iter().copied().max().unwrap_or(0)],
            back_t: vec![0.0; padded(capacity) * hidden.iter().copied().max().unwrap_or(0)],
            grad: vec![0.0; params.values.len()],
            d_o,
            d_u,
        }
    }

    /// Load the rows `index` of `data` (at most `capacity`).
    pub fn gather(&mut self, data: &TrainingRows<'_>, index: &[usize]) {
        let (d_o, d_u) = (self.d_o, self.d_u);
        let p = d_u * d_u;
        for (k, &r) in index.iter().enumerate() {
            self.input[k * d_o..(k + 1) * d_o].copy_from_slice(&data.obs[r * d_o..(r + 1) * d_o]);
            self.mean[k * d_u..(k + 1) * d_u].copy_from_slice(&data.mean[r * d_u..(r + 1) * d_u]);
            self.precision[k * p..(k + 1) * p].copy_from_slice(&data.precision[r * p..(r + 1) * p]);
        }
        self.rows = index.len();
    }

    /// Load the consecutive rows `start .. start + len` of `data` (`len ≤ capacity`).
    pub fn load_range(&mut self, data: &TrainingRows<'_>, start: usize, len: usize) {
        let (d_o, d_u) = (self.d_o, self.d_u);
        let p = d_u * d_u;
        self.input[..len * d_o].copy_from_slice(&data.obs[start * d_o..(start + len) * d_o]);
        self.mean[..len * d_u].copy_from_slice(&data.mean[start * d_u..(start + len) * d_u]);
        self.precision[..len * p].copy_from_slice(&data.precision[start * p..(start + len) * p]);
        self.rows = len;
    }
}
