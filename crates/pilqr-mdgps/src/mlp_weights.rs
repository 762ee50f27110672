//! The network's parameters as plain Rust arrays, and its forward pass without libtorch.
//!
//! After every S-step the weights are copied out of libtorch into [`MlpWeights`]; rollouts then
//! evaluate `μ_θ(o)` here, one observation at a time, from any number of threads, without a
//! libtorch call per step. The same arrays are what checkpoints store and what a fresh
//! `VarStore` is rebuilt from.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::architecture::{Activation, MlpConfig};
use crate::error::{MdgpsError, check_finite};

/// One affine layer `z = W a + b`, `W` row-major `[outputs, inputs]` (libtorch's layout for
/// `nn::Linear` weights, so copies in and out are flat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseLayer {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// `W`, `outputs · inputs` values, row-major.
    pub weight: Vec<f64>,
    /// `b`, `outputs` values.
    pub bias: Vec<f64>,
}

/// All layers of the MLP, input side first, with the hidden activation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpWeights {
    /// Affine layers; every one but the last is followed by `activation`.
    pub layers: Vec<DenseLayer>,
    /// Hidden activation.
    pub activation: Activation,
}

impl MlpWeights {
    /// Fresh weights for `config` with input `obs_dim` and output `action_dim`: every weight and
    /// bias uniform in `±1/√fan_in` (libtorch's default for linear layers), drawn from `rng`.
    pub fn init(
        config: &MlpConfig,
        obs_dim: usize,
        action_dim: usize,
        rng: &mut impl Rng,
    ) -> Result<Self, MdgpsError> {
        config.validate()?;
        if obs_dim == 0 || action_dim == 0 {
            return Err(MdgpsError::InvalidConfig {
                field: "dimensions",
                reason: format!(
                    "observation ({obs_dim}) and action ({action_dim}) widths must be positive"
                ),
            });
        }
        let layers = config
            .layer_sizes(obs_dim, action_dim)
            .into_iter()
            .map(|(inputs, outputs)| {
                let bound = 1.0 / (inputs as f64).sqrt();
                let mut draw = |n: usize| -> Vec<f64> {
                    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
                };
                let weight = draw(inputs * outputs);
                let bias = draw(outputs);
                DenseLayer {
                    inputs,
                    outputs,
                    weight,
                    bias,
                }
            })
            .collect();
        Ok(MlpWeights {
            layers,
            activation: config.activation,
        })
    }

    /// Input width `dO`.
    pub fn input_dim(&self) -> usize {
        self.layers.first().map_or(0, |l| l.inputs)
    }

    /// Output width `dU`.
    pub fn output_dim(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs)
    }

    /// Hidden widths and activation: the architecture these weights describe.
    pub fn config(&self) -> MlpConfig {
        MlpConfig {
            hidden: self.layers[..self.layers.len().saturating_sub(1)]
                .iter()
                .map(|l| l.outputs)
                .collect(),
            activation: self.activation,
        }
    }

    /// Widest layer output (scratch size of the forward pass).
    fn max_width(&self) -> usize {
        self.layers.iter().map(|l| l.outputs).max().unwrap_or(0)
    }

    /// Check that the layers chain (each input width is the previous output width), that the
    /// arrays have their declared sizes and that every value is finite.
    pub fn validate(&self) -> Result<(), MdgpsError> {
        if self.layers.is_empty() {
            return Err(MdgpsError::Inconsistent {
                reason: "the network has no layer".into(),
            });
        }
        for (i, l) in self.layers.iter().enumerate() {
            if l.inputs == 0 || l.outputs == 0 {
                return Err(MdgpsError::Inconsistent {
                    reason: format!("layer {i} is {}x{}", l.outputs, l.inputs),
                });
            }
            if i > 0 && l.inputs != self.layers[i - 1].outputs {
                return Err(MdgpsError::Inconsistent {
                    reason: format!(
                        "layer {i} takes {} inputs but layer {} gives {}",
                        l.inputs,
                        i - 1,
                        self.layers[i - 1].outputs
                    ),
                });
            }
            if l.weight.len() != l.inputs * l.outputs || l.bias.len() != l.outputs {
                return Err(MdgpsError::Inconsistent {
                    reason: format!(
                        "layer {i} ({}x{}) holds {} weights and {} biases",
                        l.outputs,
                        l.inputs,
                        l.weight.len(),
                        l.bias.len()
                    ),
                });
            }
            check_finite(&format!("layer {i} weight"), &l.weight)?;
            check_finite(&format!("layer {i} bias"), &l.bias)?;
        }
        Ok(())
    }

    /// `μ_θ` of one (already normalised) input into `out`. `input` and `out` must have the
    /// network's widths (checked by the callers that take user input).
    pub fn forward(&self, input: &[f64], out: &mut [f64]) {
        let width = self.max_width();
        let mut a = Vec::with_capacity(width);
        let mut z = vec![0.0; width];
        a.extend_from_slice(input);
        let last = self.layers.len() - 1;
        for (i, l) in self.layers.iter().enumerate() {
            let dst: &mut [f64] = if i == last {
                &mut *out
            } else {
                &mut z[..l.outputs]
            };
            for (r, d) in dst.iter_mut().enumerate() {
                let row = &l.weight[r * l.inputs..(r + 1) * l.inputs];
                *d = l.bias[r] + dot(row, &a);
            }
            if i != last {
                a.clear();
                a.extend(z[..l.outputs].iter().map(|&v| self.activation.apply(v)));
            }
        }
    }
}

/// `Σ a_i b_i` with four independent accumulators (lets the compiler vectorise).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let chunks = n / 4;
    for c in 0..chunks {
        for j in 0..4 {
            acc[j] += a[4 * c + j] * b[4 * c + j];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for i in 4 * chunks..n {
        s += a[i] * b[i];
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn small() -> MlpWeights {
        let config = MlpConfig {
            hidden: vec![3],
            activation: Activation::Relu,
        };
        MlpWeights::init(&config, 2, 1, &mut ChaCha8Rng::seed_from_u64(3)).unwrap()
    }

    #[test]
    fn forward_matches_hand_computation() {
        let w = small();
        let x = [0.7, -1.3];
        let l0 = &w.layers[0];
        let l1 = &w.layers[1];
        let mut want = l1.bias[0];
        for r in 0..3 {
            let z = l0.bias[r] + l0.weight[2 * r] * x[0] + l0.weight[2 * r + 1] * x[1];
            want += l1.weight[r] * z.max(0.0);
        }
        let mut out = [0.0];
        w.forward(&x, &mut out);
        assert!((out[0] - want).abs() < 1e-15);
    }

    #[test]
    fn init_respects_fan_in_bound_and_config() {
        let config = MlpConfig::default();
        let w = MlpWeights::init(&config, 26, 2, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        assert_eq!(w.config(), config);
        assert_eq!((w.input_dim(), w.output_dim()), (26, 2));
        let bound = 1.0 / 26f64.sqrt();
        assert!(w.layers[0].weight.iter().all(|v| v.abs() <= bound));
        w.validate().unwrap();
    }

    #[test]
    fn validate_finds_broken_chains_and_sizes() {
        let mut w = small();
        w.layers[1].inputs = 4;
        w.layers[1].weight.push(0.0);
        assert!(matches!(w.validate(), Err(MdgpsError::Inconsistent { .. })));
        let mut w = small();
        w.layers[0].bias.pop();
        assert!(matches!(w.validate(), Err(MdgpsError::Inconsistent { .. })));
        let mut w = small();
        w.layers[0].weight[1] = f64::NAN;
        assert!(matches!(
            w.validate(),
            Err(MdgpsError::InvalidValue { index: 1, .. })
        ));
    }
}
