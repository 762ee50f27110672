//! The network's parameters during native training: one flat buffer (what Adam updates),
//! laid out for the forward pass (the backward pass reads the same `Wᵀ`).

use crate::architecture::Activation;
use crate::mlp_weights::{DenseLayer, MlpWeights};

/// Where one layer's values sit in the flat buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayerLayout {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Offset of `Wᵀ` (`inputs × outputs`, row-major: `Wᵀ[i, o] = W[o, i]`).
    pub weight: usize,
    /// Offset of the bias (`outputs` values).
    pub bias: usize,
}

/// The parameters being trained.
#[derive(Debug, Clone)]
pub(crate) struct TrainingParams {
    /// Per layer, input side first.
    pub layers: Vec<LayerLayout>,
    /// Every `Wᵀ` and bias, in layer order (Adam's view of the network).
    pub values: Vec<f64>,
    /// Hidden activation.
    pub activation: Activation,
}

impl TrainingParams {
    /// Exact copies of `w`, laid out for training.
    pub fn from_weights(w: &MlpWeights) -> Self {
        let mut layers = Vec::with_capacity(w.layers.len());
        let mut values = Vec::new();
        for l in &w.layers {
            let weight = values.len();
            values.resize(weight + l.inputs * l.outputs, 0.0);
            for o in 0..l.outputs {
                for i in 0..l.inputs {
                    values[weight + i * l.outputs + o] = l.weight[o * l.inputs + i];
                }
            }
            let bias = values.len();
            values.extend_from_slice(&l.bias);
            layers.push(LayerLayout {
                inputs: l.inputs,
                outputs: l.outputs,
                weight,
                bias,
            });
        }
        TrainingParams {
            layers,
            values,
            activation: w.activation,
        }
    }

    /// `Wᵀ` of layer `l`.
    pub fn weight_t(&self, l: usize) -> &[f64] {
        let s = self.layers[l];
        &self.values[s.weight..s.weight + s.inputs * s.outputs]
    }

    /// Bias of layer `l`.
    pub fn bias(&self, l: usize) -> &[f64] {
        let s = self.layers[l];
        &self.values[s.bias..s.bias + s.outputs]
    }

    /// Exact copies of the current parameters as [`MlpWeights`].
    pub fn to_weights(&self) -> MlpWeights {
        let layers = self
            .layers
            .iter()
            .enumerate()
            .map(|(l, s)| {
                let wt = self.weight_t(l);
                let mut weight = vec![0.0; s.inputs * s.outputs];
                for i in 0..s.inputs {
                    for o in 0..s.outputs {
                        weight[o * s.inputs + i] = wt[i * s.outputs + o];
                    }
                }
                DenseLayer {
                    inputs: s.inputs,
                    outputs: s.outputs,
                    weight,
                    bias: self.bias(l).to_vec(),
                }
            })
            .collect();
        MlpWeights {
            layers,
            activation: self.activation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::architecture::MlpConfig;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn layout_round_trips_and_updates_reach_the_weights() {
        let w = MlpWeights::init(
            &MlpConfig::default(),
            5,
            3,
            &mut ChaCha8Rng::seed_from_u64(2),
        )
        .unwrap();
        let mut p = TrainingParams::from_weights(&w);
        assert_eq!(p.to_weights(), w);
        assert_eq!(
            p.values.len(),
            5 * 100 + 100 + 100 * 100 + 100 + 100 * 3 + 3
        );
        // Wᵀ[i, o] of layer 1 is W[o, i].
        assert_eq!(p.weight_t(1)[7 * 100 + 4], w.layers[1].weight[4 * 100 + 7]);
        let off = p.layers[2].weight + 10 * 3 + 1;
        p.values[off] = 42.0;
        assert_eq!(p.to_weights().layers[2].weight[100 + 10], 42.0);
    }
}
