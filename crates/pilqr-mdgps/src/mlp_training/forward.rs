//! The forward pass of a loaded minibatch, and the loss with its gradient at the output.

use super::matmul::{Kernel, Lhs, Shape, product};
use super::params::TrainingParams;
use super::workspace::Workspace;
use crate::architecture::Activation;

/// `z_l = h_{l−1} W_lᵀ + b_l` for every layer and `h_l = σ(z_l)` for the hidden ones, over the
/// workspace's loaded rows.
pub(crate) fn forward(kernel: Kernel, params: &TrainingParams, ws: &mut Workspace) {
    let rows = ws.rows;
    let last = params.layers.len() - 1;
    for (l, layer) in params.layers.iter().enumerate() {
        let shape = Shape {
            rows,
            cols: layer.outputs,
            depth: layer.inputs,
        };
        let z = &mut ws.pre[l];
        let input: &[f64] = if l == 0 { &ws.input } else { &ws.post[l - 1] };
        let lhs = Lhs {
            data: &input[..rows * layer.inputs],
            row_stride: layer.inputs,
            k_stride: 1,
        };
        product(
            kernel,
            shape,
            lhs,
            params.weight_t(l),
            Some(params.bias(l)),
            z,
        );
        if l != last {
            activate(
                params.activation,
                &z[..rows * layer.outputs],
                &mut ws.post[l],
            );
        }
    }
}

/// `h = σ(z)` element-wise.
fn activate(activation: Activation, z: &[f64], h: &mut [f64]) {
    match activation {
        // `max` rather than `apply` keeps the loop branch-free and vectorisable; the same
        // values (`−0 ↦ 0` included, as `f64::max(−0, 0)` may give either zero and the
        // derivative only looks at `z > 0`).
        Activation::Relu => {
            for (h, &z) in h.iter_mut().zip(z) {
                *h = if z > 0.0 { z } else { 0.0 };
            }
        }
        a => {
            for (h, &z) in h.iter_mut().zip(z) {
                *h = a.apply(z);
            }
        }
    }
}

/// The minibatch loss `1/(2B) Σ_b (μ_b − m_b)ᵀ P_b (μ_b − m_b)` of the loaded rows after
/// [`forward`]; with `gradient`, also writes `∂L/∂μ = (P + Pᵀ)(μ − m) / (2B)` into the last
/// layer's delta. Terms are summed in ascending order with plain IEEE operations.
pub(crate) fn loss(ws: &mut Workspace, gradient: bool) -> f64 {
    let (rows, d_u) = (ws.rows, ws.d_u);
    let two_b = 2.0 * rows as f64;
    let last = ws.pre.len() - 1;
    let out = &ws.pre[last];
    let delta = &mut ws.delta[last];
    let mut total = 0.0;
    let mut diff = [0.0f64; 16];
    let mut large = Vec::new();
    let diff: &mut [f64] = if d_u <= diff.len() {
        &mut diff[..d_u]
    } else {
        // Wider outputs than any task has: a buffer per call is acceptable there.
        large.resize(d_u, 0.0);
        &mut large
    };
    for b in 0..rows {
        let p = &ws.precision[b * d_u * d_u..(b + 1) * d_u * d_u];
        for u in 0..d_u {
            diff[u] = out[b * d_u + u] - ws.mean[b * d_u + u];
        }
        for u in 0..d_u {
            let mut pd = 0.0;
            let mut ptd = 0.0;
            for v in 0..d_u {
                pd += p[u * d_u + v] * diff[v];
                ptd += p[v * d_u + u] * diff[v];
            }
            total += diff[u] * pd;
            if gradient {
                delta[b * d_u + u] = (pd + ptd) / two_b;
            }
        }
    }
    total / two_b
}

/// Rows evaluated together by [`forward_rows`] (buffers stay in the first-level cache).
const CHUNK: usize = 64;

/// `μ_θ` of `input` (`rows · dO` normalised values, row after row) into `out`
/// (`rows · dU`), through the fixed-order products: the same bits on every CPU, and the same
/// as the training forward pass of those rows.
pub(crate) fn forward_rows(
    weights: &crate::mlp_weights::MlpWeights,
    input: &[f64],
    out: &mut [f64],
) -> Result<(), crate::error::MdgpsError> {
    let kernel = super::matmul::KernelPath::Auto.resolve()?;
    let (d_o, d_u) = (weights.input_dim(), weights.output_dim());
    let rows = input.len() / d_o;
    let params = TrainingParams::from_weights(weights);
    let mut ws = Workspace::new(&params, CHUNK.min(rows.max(1)), d_o, d_u);
    let last = params.layers.len() - 1;
    let mut start = 0;
    while start < rows {
        let len = ws.capacity.min(rows - start);
        ws.input[..len * d_o].copy_from_slice(&input[start * d_o..(start + len) * d_o]);
        ws.rows = len;
        forward(kernel, &params, &mut ws);
        out[start * d_u..(start + len) * d_u].copy_from_slice(&ws.pre[last][..len * d_u]);
        start += len;
    }
    Ok(())
}
