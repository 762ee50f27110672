//! Back-propagation of the loss gradient through the network into `∂L/∂θ`.

use super::matmul::{Kernel, Lhs, Shape, product};
use super::params::TrainingParams;
use super::workspace::Workspace;
use crate::architecture::Activation;

/// From the last layer's delta (written by [`super::forward::loss`]), fill `ws.grad`:
/// `∂L/∂Wᵀ_l = h_{l−1}ᵀ δ_l`, `∂L/∂b_l = Σ_b δ_l[b]` (ascending rows), and
/// `δ_{l−1} = (δ_l W_l) ⊙ σ'(z_{l−1})`.
pub(crate) fn backward(kernel: Kernel, params: &TrainingParams, ws: &mut Workspace) {
    let rows = ws.rows;
    for l in (0..params.layers.len()).rev() {
        let layer = params.layers[l];
        let (n_in, n_out) = (layer.inputs, layer.outputs);
        let delta = &ws.delta[l][..rows * n_out];
        let input: &[f64] = if l == 0 { &ws.input } else { &ws.post[l - 1] };
        // Wᵀ gradient [n_in, n_out]: row i, column o sums input[b, i] · δ[b, o] over b.
        product(
            kernel,
            Shape {
                rows: n_in,
                cols: n_out,
                depth: rows,
            },
            Lhs {
                data: &input[..rows * n_in],
                row_stride: 1,
                k_stride: n_in,
            },
            delta,
            None,
            &mut ws.grad[layer.weight..layer.weight + n_in * n_out],
        );
        let gb = &mut ws.grad[layer.bias..layer.bias + n_out];
        gb.fill(0.0);
        for d in delta.chunks_exact(n_out) {
            for (g, &d) in gb.iter_mut().zip(d) {
                *g += d;
            }
        }
        if l == 0 {
            break;
        }
        // ∂L/∂h_{l−1} [rows, n_in] = δ_l [rows, n_out] · W_l [n_out, n_in].
        let back = &mut ws.back[..rows * n_in];
        product(
            kernel,
            Shape {
                rows,
                cols: n_in,
                depth: n_out,
            },
            Lhs {
                data: delta,
                row_stride: n_out,
                k_stride: 1,
            },
            &params.row_major[l - 1],
            None,
            back,
        );
        derivative(
            params.activation,
            &ws.pre[l - 1][..rows * n_in],
            &ws.post[l - 1][..rows * n_in],
            back,
            &mut ws.delta[l - 1][..rows * n_in],
        );
    }
}

/// `δ = g ⊙ σ'(z)`, with `σ'` from `z` (ReLU) or from `h = σ(z)` (tanh, sigmoid), as
/// libtorch's backward functions compute it.
fn derivative(activation: Activation, z: &[f64], h: &[f64], g: &[f64], delta: &mut [f64]) {
    match activation {
        Activation::Relu => {
            for ((d, &g), &z) in delta.iter_mut().zip(g).zip(z) {
                *d = if z > 0.0 { g } else { 0.0 };
            }
        }
        Activation::Tanh => {
            for ((d, &g), &h) in delta.iter_mut().zip(g).zip(h) {
                *d = g * (1.0 - h * h);
            }
        }
        Activation::Sigmoid => {
            for ((d, &g), &h) in delta.iter_mut().zip(g).zip(h) {
                *d = g * (1.0 - h) * h;
            }
        }
    }
}
