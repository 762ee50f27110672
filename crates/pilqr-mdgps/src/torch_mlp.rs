//! The global policy's network inside libtorch, for training: a `VarStore` built from
//! [`MlpWeights`] and copied back out of it.

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::architecture::Activation;
use crate::error::{MdgpsError, torch};
use crate::mlp_weights::{DenseLayer, MlpWeights};

/// An MLP whose parameters live in a libtorch [`VarStore`] (double precision, CPU), named
/// `layer{i}.weight` (`[outputs, inputs]`) and `layer{i}.bias` (`[outputs]`).
///
/// It exists only while the S-step runs: it is built from the policy's [`MlpWeights`] and the
/// trained values are copied back with [`TorchMlp::weights`]. Both copies are exact, so a
/// network rebuilt from a checkpoint computes bit-for-bit the outputs of the one that was
/// saved.
///
/// ```
/// use pilqr_core::RunSeed;
/// use pilqr_mdgps::{MlpConfig, NnPolicy, TorchMlp};
///
/// let pol = NnPolicy::new(&MlpConfig::default(), 3, 1, 1.0, RunSeed::new(0)).unwrap();
/// let net = TorchMlp::from_weights(pol.weights()).unwrap();
/// assert_eq!(&net.weights().unwrap(), pol.weights());
/// ```
pub struct TorchMlp {
    vs: VarStore,
    layers: Vec<(Tensor, Tensor)>,
    activation: Activation,
}

impl std::fmt::Debug for TorchMlp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TorchMlp")
            .field("layers", &self.layers.len())
            .field("activation", &self.activation)
            .finish()
    }
}

/// A new double-precision CPU variable holding `values` with shape `shape`.
fn variable(
    vs: &VarStore,
    layer: usize,
    name: &str,
    values: &[f64],
    shape: &[i64],
) -> Result<Tensor, MdgpsError> {
    let ctx = "creating a network variable";
    let src = torch(
        ctx,
        Tensor::f_from_slice(values).and_then(|t| t.f_view(shape)),
    )?;
    let mut dst = torch(ctx, Tensor::f_zeros(shape, (Kind::Double, Device::Cpu)))?;
    torch(ctx, tch::no_grad(|| dst.f_copy_(&src)))?;
    Ok(vs.root().sub(format!("layer{layer}")).add(name, dst, true))
}

/// The values of a tensor as a flat `f64` vector.
pub(crate) fn to_vec(t: &Tensor, context: &'static str) -> Result<Vec<f64>, MdgpsError> {
    let flat = torch(
        context,
        t.f_detach()
            .and_then(|d| d.f_contiguous())
            .and_then(|c| c.f_view([-1])),
    )?;
    torch(context, Vec::<f64>::try_from(&flat))
}

impl TorchMlp {
    /// A fresh `VarStore` holding exact copies of `weights` (pins libtorch's CPU numerics
    /// first: [`crate::pin_cpu_numerics`]).
    pub fn from_weights(weights: &MlpWeights) -> Result<Self, MdgpsError> {
        crate::pin_cpu_numerics()?;
        weights.validate()?;
        let vs = VarStore::new(Device::Cpu);
        let mut layers = Vec::with_capacity(weights.layers.len());
        for (i, l) in weights.layers.iter().enumerate() {
            let (o, n) = (l.outputs as i64, l.inputs as i64);
            let w = variable(&vs, i, "weight", &l.weight, &[o, n])?;
            let b = variable(&vs, i, "bias", &l.bias, &[o])?;
            layers.push((w, b));
        }
        Ok(TorchMlp {
            vs,
            layers,
            activation: weights.activation,
        })
    }

    /// The `VarStore` (what an optimiser is built over).
    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }

    /// `μ_θ` of a batch of normalised inputs `[B, dO]` (double), giving `[B, dU]`; records the
    /// graph for back-propagation unless called under `tch::no_grad`.
    pub fn forward(&self, input: &Tensor) -> Result<Tensor, MdgpsError> {
        let ctx = "evaluating the network";
        let mut a = torch(
            ctx,
            input.f_linear(&self.layers[0].0, Some(&self.layers[0].1)),
        )?;
        for (w, b) in self.layers.iter().skip(1) {
            let h = torch(ctx, self.activation.apply_tensor(&a))?;
            a = torch(ctx, h.f_linear(w, Some(b)))?;
        }
        Ok(a)
    }

    /// `μ_θ` of `rows` normalised inputs given row after row, as a flat vector of
    /// `rows · dU` values (no gradient recorded).
    pub fn forward_rows(&self, input: &[f64], rows: usize) -> Result<Vec<f64>, MdgpsError> {
        let dim = self.layers[0].0.size()[1];
        let t = torch(
            "copying inputs to libtorch",
            Tensor::f_from_slice(input).and_then(|t| t.f_view([rows as i64, dim])),
        )?;
        let out = tch::no_grad(|| self.forward(&t))?;
        to_vec(&out, "copying outputs from libtorch")
    }

    /// Exact copies of the current parameters.
    pub fn weights(&self) -> Result<MlpWeights, MdgpsError> {
        let ctx = "copying weights out of libtorch";
        let layers = self
            .layers
            .iter()
            .map(|(w, b)| {
                let size = w.size();
                Ok(DenseLayer {
                    inputs: size[1] as usize,
                    outputs: size[0] as usize,
                    weight: to_vec(w, ctx)?,
                    bias: to_vec(b, ctx)?,
                })
            })
            .collect::<Result<Vec<_>, MdgpsError>>()?;
        Ok(MlpWeights {
            layers,
            activation: self.activation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::architecture::MlpConfig;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn variables_are_named_and_shaped_like_nn_linear() {
        let w = MlpWeights::init(
            &MlpConfig::default(),
            5,
            2,
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap();
        let net = TorchMlp::from_weights(&w).unwrap();
        let vars = net.var_store().variables();
        assert_eq!(vars.len(), 6);
        assert_eq!(vars["layer0.weight"].size(), vec![100, 5]);
        assert_eq!(vars["layer2.bias"].size(), vec![2]);
        assert_eq!(vars["layer1.weight"].kind(), Kind::Double);
        assert_eq!(net.var_store().trainable_variables().len(), 6);
    }

    #[test]
    fn torch_forward_matches_plain_rust_forward() {
        for activation in [Activation::Relu, Activation::Tanh, Activation::Sigmoid] {
            let config = MlpConfig {
                hidden: vec![100, 100],
                activation,
            };
            let w = MlpWeights::init(&config, 26, 3, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
            let net = TorchMlp::from_weights(&w).unwrap();
            let rows = 64;
            let input: Vec<f64> = (0..rows * 26)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) / 25.0)
                .collect();
            let torch_out = net.forward_rows(&input, rows).unwrap();
            let mut max_err: f64 = 0.0;
            for r in 0..rows {
                let mut out = [0.0; 3];
                w.forward(&input[r * 26..(r + 1) * 26], &mut out);
                for j in 0..3 {
                    max_err = max_err.max((out[j] - torch_out[r * 3 + j]).abs());
                }
            }
            assert!(max_err < 1e-12, "{activation:?}: {max_err:e}");
        }
    }
}
