//! Adam as libtorch's `torch::optim::Adam` (what tch's `nn::Adam` builds) performs it, with
//! plain IEEE arithmetic so that every CPU gives the same bits.
//!
//! Per parameter, at step `t = 1, 2, …`, with L2 weight decay `λ` added to the gradient:
//!
//! ```text
//! g ← g + λ θ
//! m ← β1 m + (1 − β1) g
//! v ← β2 v + (1 − β2) g²
//! θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
//! ```
//!
//! `βᵗ` is kept as a running product (libtorch calls `pow`, whose last bit may depend on the
//! C library's code path; the product is exactly reproducible and differs by rounding only).

/// libtorch's (and tch's) default `β1`.
pub(crate) const BETA1: f64 = 0.9;
/// libtorch's (and tch's) default `β2`.
pub(crate) const BETA2: f64 = 0.999;
/// libtorch's (and tch's) default `ε`.
pub(crate) const EPS: f64 = 1e-8;

/// Adam's state for a flat parameter vector.
#[derive(Debug, Clone)]
pub(crate) struct Adam {
    learning_rate: f64,
    weight_decay: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    beta1_pow: f64,
    beta2_pow: f64,
}

impl Adam {
    /// Fresh moments (zero) for `n` parameters.
    pub fn new(n: usize, learning_rate: f64, weight_decay: f64) -> Self {
        Adam {
            learning_rate,
            weight_decay,
            m: vec![0.0; n],
            v: vec![0.0; n],
            beta1_pow: 1.0,
            beta2_pow: 1.0,
        }
    }

    /// One update of `params` from the loss gradient `grad` (same length).
    pub fn step(&mut self, params: &mut [f64], grad: &[f64]) {
        self.beta1_pow *= BETA1;
        self.beta2_pow *= BETA2;
        let step_size = self.learning_rate / (1.0 - self.beta1_pow);
        let root_bc2 = (1.0 - self.beta2_pow).sqrt();
        let wd = self.weight_decay;
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            let g = g + wd * *p;
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            let denom = v.sqrt() / root_bc2 + EPS;
            *p -= step_size * (*m / denom);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_parameter_by_the_learning_rate_against_its_gradient_sign() {
        // At t = 1, m̂ = g and √v̂ = |g|: the step is lr · g / (|g| + ε) ≈ lr · sign(g).
        let mut adam = Adam::new(3, 0.01, 0.0);
        let mut p = vec![1.0, 2.0, 3.0];
        adam.step(&mut p, &[0.5, -2.0, 0.0]);
        assert!((p[0] - (1.0 - 0.01)).abs() < 1e-9);
        assert!((p[1] - (2.0 + 0.01)).abs() < 1e-9);
        assert_eq!(p[2], 3.0);
    }

    #[test]
    fn weight_decay_enters_the_gradient() {
        // Zero loss gradient, decay 0.1: g = 0.1 θ > 0, so θ moves down by about lr.
        let mut adam = Adam::new(1, 0.01, 0.1);
        let mut p = vec![2.0];
        adam.step(&mut p, &[0.0]);
        assert!((p[0] - 1.99).abs() < 1e-9, "{}", p[0]);
    }

    #[test]
    fn second_step_matches_the_formula() {
        let (lr, g1, g2) = (0.1, 0.3, -0.2);
        let mut adam = Adam::new(1, lr, 0.0);
        let mut p = vec![0.0];
        adam.step(&mut p, &[g1]);
        let after_one = p[0];
        adam.step(&mut p, &[g2]);
        let m = 0.9 * (0.1 * g1) + 0.1 * g2;
        let v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2;
        let m_hat = m / (1.0 - 0.81);
        let v_hat = v / (1.0 - 0.999f64.powi(2));
        let want = after_one - lr * m_hat / (v_hat.sqrt() + 1e-8);
        assert!((p[0] - want).abs() < 1e-12, "{} vs {want}", p[0]);
    }
}
