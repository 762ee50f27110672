//! Back-propagation of the loss gradient through the network into `∂L/∂θ`.

use super::matmul::{Kernel, Lhs, Shape, product};
use super::params::TrainingParams;
use super::workspace::Workspace;
use crate::architecture::Activation;

/// From the last layer's delta (written by [`super::forward::loss`]), fill `ws.grad`:
/// `∂L/∂Wᵀ_l = h_{l−1}ᵀ δ_l`, `∂L/∂b_l = Σ_b δ_l[b]` (ascending rows), and
/// `δ_{l−1} = (δ_l W_l) ⊙ σ'(z_{l−1})`.
///
/// The propagation to the layer input is computed transposed, `(δ_l W_l)ᵀ = Wᵀ_l δ_lᵀ`, so
/// that it reads the flat buffer's `Wᵀ` directly (no row-major copy of the weights to keep
/// up to date after every update) and only the small `δ_l` is transposed. Each entry is the
/// same ascending chain of fused multiply-adds `Σ_o δ_l[b, o] · W_l[o, i]` as the untransposed
/// product (a fused multiply-add does not depend on the order of its two factors), so the
/// bits are those of `δ_l · W_l`.
pub(crate) fn backward(kernel: Kernel, params: &TrainingParams, ws: &mut Workspace) {
    let rows = ws.rows;
    // Columns of the transposed products: the rows, padded to whole vectors with zeros.
    let cols = padded(rows);
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
        // δᵀ [n_out, cols], the padding columns zero.
        let delta_t = &mut ws.delta_t[..n_out * cols];
        for (o, row) in delta_t.chunks_exact_mut(cols).enumerate() {
            for (b, v) in row[..rows].iter_mut().enumerate() {
                *v = delta[b * n_out + o];
            }
            row[rows..].fill(0.0);
        }
        // (∂L/∂h_{l−1})ᵀ [n_in, cols] = Wᵀ_l [n_in, n_out] · δ_lᵀ [n_out, cols].
        let back_t = &mut ws.back_t[..n_in * cols];
        product(
            kernel,
            Shape {
                rows: n_in,
                cols,
                depth: n_out,
            },
            Lhs {
                data: params.weight_t(l),
                row_stride: n_out,
                k_stride: 1,
            },
            delta_t,
            None,
            back_t,
        );
        derivative(
            params.activation,
            &ws.pre[l - 1][..rows * n_in],
            &ws.post[l - 1][..rows * n_in],
            Transposed {
                data: back_t,
                stride: cols,
            },
            &mut ws.delta[l - 1][..rows * n_in],
        );
    }
}

/// `rows` rounded up to a multiple of 4 (the vector kernels' column width).
pub(crate) fn padded(rows: usize) -> usize {
    rows.next_multiple_of(4)
}

/// `g[b, i] = data[i · stride + b]`: a gradient stored transposed.
#[derive(Debug, Clone, Copy)]
struct Transposed<'a> {
    data: &'a [f64],
    stride: usize,
}

/// `δ = g ⊙ σ'(z)` (row-major `[rows, width]`, `g` given transposed), with `σ'` from `z`
/// (ReLU) or from `h = σ(z)` (tanh, sigmoid), as libtorch's backward functions compute it.
fn derivative(activation: Activation, z: &[f64], h: &[f64], g: Transposed<'_>, delta: &mut [f64]) {
    let width = g.data.len() / g.stride;
    let at = |b: usize, i: usize| g.data[i * g.stride + b];
    for (b, ((d, z), h)) in delta
        .chunks_exact_mut(width)
        .zip(z.chunks_exact(width))
        .zip(h.chunks_exact(width))
        .enumerate()
    {
        match activation {
            Activation::Relu => {
                for (i, (d, &z)) in d.iter_mut().zip(z).enumerate() {
                    *d = if z > 0.0 { at(b, i) } else { 0.0 };
                }
            }
            Activation::Tanh => {
                for (i, (d, &h)) in d.iter_mut().zip(h).enumerate() {
                    *d = at(b, i) * (1.0 - h * h);
                }
            }
            Activation::Sigmoid => {
                for (i, (d, &h)) in d.iter_mut().zip(h).enumerate() {
                    *d = at(b, i) * (1.0 - h) * h;
                }
            }
        }
    }
}
