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

use super::matmul::Kernel;

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

    /// One update of `params` from the loss gradient `grad` (same length), with the plain
    /// scalar code.
    #[cfg(test)]
    pub fn step(&mut self, params: &mut [f64], grad: &[f64]) {
        self.step_on(Kernel::Portable, params, grad);
    }

    /// One update of `params` from the loss gradient `grad` (same length). `kernel` only
    /// chooses the instruction set: the update is element-wise IEEE arithmetic (`+ − × ÷ √`,
    /// never contracted into fused operations), so every path gives the same bits.
    pub fn step_on(&mut self, kernel: Kernel, params: &mut [f64], grad: &[f64]) {
        self.beta1_pow *= BETA1;
        self.beta2_pow *= BETA2;
        let c = Coefficients {
            step_size: self.learning_rate / (1.0 - self.beta1_pow),
            root_bc2: (1.0 - self.beta2_pow).sqrt(),
            weight_decay: self.weight_decay,
        };
        match kernel {
            Kernel::Portable => update(c, params, grad, &mut self.m, &mut self.v),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kernel::Avx2Fma` is only built after checking that the CPU has AVX2 and
            // FMA (see `KernelPath::resolve`).
            Kernel::Avx2Fma => unsafe { update_avx2(c, params, grad, &mut self.m, &mut self.v) },
        }
    }
}

/// The per-step constants of the update.
#[derive(Debug, Clone, Copy)]
struct Coefficients {
    step_size: f64,
    root_bc2: f64,
    weight_decay: f64,
}

/// The element-wise update (inlined into each instruction-set variant).
#[inline(always)]
fn update(c: Coefficients, params: &mut [f64], grad: &[f64], m: &mut [f64], v: &mut [f64]) {
    for (((p, &g), m), v) in params.iter_mut().zip(grad).zip(m).zip(v) {
        let g = g + c.weight_decay * *p;
        *m = BETA1 * *m + (1.0 - BETA1) * g;
        *v = BETA2 * *v + (1.0 - BETA2) * g * g;
        let denom = v.sqrt() / c.root_bc2 + EPS;
        *p -= c.step_size * (*m / denom);
    }
}

/// [`update`] compiled for AVX2 (four lanes per division and square root; Rust never fuses
/// a multiply and an add on its own, so the operations are exactly the scalar ones).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn update_avx2(
    c: Coefficients,
    params: &mut [f64],
    grad: &[f64],
    m: &mut [f64],
    v: &mut [f64],
) {
    update(c, params, grad, m, v)
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

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_and_portable_updates_are_the_same_bits() {
        let Ok(kernel) = super::super::matmul::KernelPath::Avx2Fma.resolve() else {
            eprintln!("no AVX2 + FMA on this CPU: nothing to compare");
            return;
        };
        let n = 1003;
        let wave = |i: usize, f: f64| ((i as f64) * f).sin();
        let mut a = Adam::new(n, 1e-3, 5e-3);
        let mut b = a.clone();
        let mut pa: Vec<f64> = (0..n).map(|i| wave(i, 0.7)).collect();
        let mut pb = pa.clone();
        for step in 0..5 {
            let g: Vec<f64> = (0..n).map(|i| wave(i + step, 1.3) * 1e-2).collect();
            a.step_on(Kernel::Portable, &mut pa, &g);
            b.step_on(kernel, &mut pb, &g);
        }
        assert!(pa.iter().zip(&pb).all(|(x, y)| x.to_bits() == y.to_bits()));
        assert!(
            a.m.iter()
                .zip(&b.m)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
        assert!(
            a.v.iter()
                .zip(&b.v)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
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
