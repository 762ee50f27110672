//! Which value function the per-step backward pass hands to the step before.
//!
//! At every step the controller minimises `E[c_t] + η_t·KL_t` (minus `ω` times its entropy)
//! given the value `V_{t+1}` of what follows. Two definitions of that value are offered:
//! - [`ValueFunction::Lagrangian`]: the value of the per-step Lagrangian, `Σ_{τ≥t} E[c_τ] +
//!   η_τ·KL_τ` — each controller then minimises the Lagrangian of the whole remaining horizon;
//! - [`ValueFunction::RawCost`]: the expected raw cost `Σ_{τ≥t} E[c_τ]` of the controllers
//!   chosen, without their KL terms, as the classic implementation's per-step path does.
//!
//! In the backward pass's relative coordinates (eigenvalues `λ_i` of `Q_zz`, `Y = UᵀQ_zx`,
//! `h = Uᵀq_z`, `D = diag(1/(λ_i+η))`) the controller is `z = −UD(Yx + h)` in both cases. The
//! Lagrangian's value is `Q_xx − YᵀDY` (the KL term `η·½|z|²` included); the raw cost's is
//! `Q_xx − Yᵀ diag((λ_i+2η)/(λ_i+η)²) Y`, i.e. `D` weighted by `(λ_i+2η)/(λ_i+η)` per
//! eigen-direction (the same weights for the linear term `v`). At η = 0 both coincide.

use serde::{Deserialize, Serialize};

/// The value function propagated backwards by LQR-FLM (`lqr.value_function`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueFunction {
    /// The value of the per-step Lagrangian, later steps' KL terms included (default).
    #[default]
    Lagrangian,
    /// The value of the raw cost only (the classic implementation's per-step path).
    RawCost,
}

impl ValueFunction {
    /// The factor by which the value function weights eigen-direction `i` of `Q_zz` relative to
    /// the Lagrangian's `1/(λ_i+η)`: 1, or `(λ_i+2η)/(λ_i+η)` for the raw cost.
    pub fn weight(self, lambda: f64, eta: f64) -> f64 {
        match self {
            ValueFunction::Lagrangian => 1.0,
            ValueFunction::RawCost => (lambda + 2.0 * eta) / (lambda + eta),
        }
    }
}

#[cfg(test)]
mod tests {
    use faer::Mat;
    use pilqr_core::{CostModel, LinearGaussianPolicy};
    use pilqr_dynamics::LinearDynamics;
    use pilqr_linalg::{MatStack, VecStack};

    use super::ValueFunction;
    use crate::lqr_flm::{BackwardParams, EtaMode, LqrFlm};

    /// Gains and variances of a fixed-η per-step pass on a scalar problem with T = 2:
    /// `x₁ = x₀ + u₀`, `c₀ = ½u₀²`, `c₁ = ½(x₁ + u₁)²`, reference `u ~ N(0, 1)`, ω = 0.
    fn solve(value_function: ValueFunction, eta: [f64; 2]) -> [(f64, f64); 2] {
        let mut dynamics = LinearDynamics::zeros(2, 1, 1);
        dynamics.fm.at_mut(0)[(0, 0)] = 1.0;
        dynamics.fm.at_mut(0)[(0, 1)] = 1.0;
        let mut cost = CostModel::zeros(2, 1, 1);
        cost.cm.at_mut(0)[(1, 1)] = 1.0;
        for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            cost.cm.at_mut(1)[(i, j)] = 1.0;
        }
        // Invariant: a unit covariance is a valid controller.
        let reference = LinearGaussianPolicy::new(
            MatStack::zeros(2, 1, 1),
            VecStack::zeros(2, 1),
            MatStack::repeat(2, Mat::<f64>::identity(1, 1).as_ref()),
        )
        .unwrap();
        let mut solver = LqrFlm::new(2, 1, 1);
        solver.prepare(&dynamics, &cost, &reference).unwrap();
        solver.set_eta(&eta).unwrap();
        solver
            .pass(BackwardParams {
                omega: 0.0,
                min_eta: 1e-8,
                max_eta: 1e16,
                mode: EtaMode::PerStep,
                value_function,
            })
            .unwrap();
        let out = solver.buffers();
        [0, 1].map(|t| (out.gain.at(t)[(0, 0)], out.cov.at(t)[(0, 0)]))
    }

    /// By hand: at t = 1, `min_u ½(x+u)² + η₁·½u²` gives `u = −x/(1+η₁)`, variance
    /// `η₁/(1+η₁)`; the Lagrangian's value is `½P x²` with `P = η₁/(1+η₁)`, the raw cost's
    /// `½P x²` with `P = η₁²/(1+η₁)²`. At t = 0, `min_u ½u² + ½P(x+u)² + η₀·½u²` gives
    /// `u = −P x/(1+P+η₀)`, variance `η₀/(1+P+η₀)`.
    fn by_hand(value_function: ValueFunction, [e0, e1]: [f64; 2]) -> [(f64, f64); 2] {
        let p = match value_function {
            ValueFunction::Lagrangian => e1 / (1.0 + e1),
            ValueFunction::RawCost => (e1 / (1.0 + e1)).powi(2),
        };
        [
            (-p / (1.0 + p + e0), e0 / (1.0 + p + e0)),
            (-1.0 / (1.0 + e1), e1 / (1.0 + e1)),
        ]
    }

    #[test]
    fn both_value_functions_match_the_hand_solution() {
        let eta = [2.0, 0.5];
        for vf in [ValueFunction::Lagrangian, ValueFunction::RawCost] {
            let got = solve(vf, eta);
            let want = by_hand(vf, eta);
            for t in 0..2 {
                assert!(
                    (got[t].0 - want[t].0).abs() < 1e-12,
                    "{vf:?} gain at {t}: {got:?} vs {want:?}"
                );
                assert!(
                    (got[t].1 - want[t].1).abs() < 1e-12,
                    "{vf:?} variance at {t}: {got:?} vs {want:?}"
                );
            }
        }
        // The two definitions differ at t = 0 (and only there): the check can tell them apart.
        let (l, r) = (
            solve(ValueFunction::Lagrangian, eta),
            solve(ValueFunction::RawCost, eta),
        );
        assert!((l[0].0 - r[0].0).abs() > 1e-3);
        assert_eq!(l[1], r[1]);
    }

    #[test]
    fn names_in_configs() {
        let v: ValueFunction = serde_json::from_str("\"raw-cost\"").unwrap();
        assert_eq!(v, ValueFunction::RawCost);
        let c: crate::LqrFlmConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c.value_function, ValueFunction::Lagrangian);
    }
}
