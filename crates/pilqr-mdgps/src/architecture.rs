//! The shape of the global policy's network: hidden layer widths and activation.

use serde::{Deserialize, Serialize};

use crate::error::MdgpsError;

/// Non-linearity applied after every hidden layer (the output layer is linear).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `max(0, z)`.
    #[default]
    Relu,
    /// `tanh(z)`.
    Tanh,
    /// `1 / (1 + e^{−z})`.
    Sigmoid,
}

impl Activation {
    /// The activation of one pre-activation value, in plain Rust (rollouts).
    #[inline]
    pub fn apply(self, z: f64) -> f64 {
        match self {
            Activation::Relu => z.max(0.0),
            Activation::Tanh => z.tanh(),
            Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        }
    }

    /// The activation of a tensor, through libtorch (training).
    pub fn apply_tensor(self, z: &tch::Tensor) -> Result<tch::Tensor, tch::TchError> {
        match self {
            Activation::Relu => z.f_relu(),
            Activation::Tanh => z.f_tanh(),
            Activation::Sigmoid => z.f_sigmoid(),
        }
    }
}

/// Hidden layers and activation of the MLP `μ_θ(o)`; the input width is `dO` and the output
/// width `dU`, fixed by the task.
///
/// The default is the paper's: 2 hidden layers of 100 ReLU units.
///
/// ```
/// use pilqr_mdgps::{Activation, MlpConfig};
///
/// let c = MlpConfig::default();
/// assert_eq!(c.hidden, vec![100, 100]);
/// assert_eq!(c.activation, Activation::Relu);
/// assert_eq!(c.layer_sizes(26, 2), vec![(26, 100), (100, 100), (100, 2)]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Width of each hidden layer, input side first (may be empty: a linear policy in `o`).
    pub hidden: Vec<usize>,
    /// Non-linearity after each hidden layer.
    pub activation: Activation,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            hidden: vec![100, 100],
            activation: Activation::Relu,
        }
    }
}

impl MlpConfig {
    /// Check that no hidden layer has zero width.
    pub fn validate(&self) -> Result<(), MdgpsError> {
        if let Some(i) = self.hidden.iter().position(|&w| w == 0) {
            return Err(MdgpsError::InvalidConfig {
                field: "hidden",
                reason: format!("hidden layer {i} has zero width"),
            });
        }
        Ok(())
    }

    /// `(inputs, outputs)` of every affine layer for observation width `obs_dim` and action
    /// width `action_dim`.
    pub fn layer_sizes(&self, obs_dim: usize, action_dim: usize) -> Vec<(usize, usize)> {
        let mut widths = Vec::with_capacity(self.hidden.len() + 2);
        widths.push(obs_dim);
        widths.extend_from_slice(&self.hidden);
        widths.push(action_dim);
        widths.windows(2).map(|w| (w[0], w[1])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_width_is_rejected() {
        let c = MlpConfig {
            hidden: vec![10, 0],
            activation: Activation::Tanh,
        };
        assert!(matches!(
            c.validate(),
            Err(MdgpsError::InvalidConfig {
                field: "hidden",
                ..
            })
        ));
    }

    #[test]
    fn activations_match_torch() {
        // Pin before this test's first libtorch call, as every user of tch in this crate must:
        // MKL refuses the pinning of the other tests of this binary once it has computed.
        crate::pin_cpu_numerics().unwrap();
        let z = [-2.5, -0.1, 0.0, 0.3, 4.0];
        let t = tch::Tensor::from_slice(&z);
        for a in [Activation::Relu, Activation::Tanh, Activation::Sigmoid] {
            let got: Vec<f64> = Vec::try_from(&a.apply_tensor(&t).unwrap()).unwrap();
            for (zi, gi) in z.iter().zip(&got) {
                assert!((a.apply(*zi) - gi).abs() < 1e-15, "{a:?}({zi})");
            }
        }
    }

    #[test]
    fn config_reads_from_kebab_case() {
        let c: MlpConfig = serde_json::from_str(r#"{"hidden":[64],"activation":"tanh"}"#).unwrap();
        assert_eq!(c.hidden, vec![64]);
        assert_eq!(c.activation, Activation::Tanh);
    }
}
