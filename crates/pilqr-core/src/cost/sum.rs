//! Weighted sum of costs.

use std::sync::Arc;

use crate::cost::{Cost, CostDerivatives};
use crate::error::CoreError;
use crate::sample::TrajectoryRef;

/// `Σ_k w_k c_k`.
///
/// ```
/// use std::sync::Arc;
/// use pilqr_core::{ActionCost, Cost, StateCost, TrajectoryRef, WeightedSum};
///
/// let cost = WeightedSum::new()
///     .with(4.0, Arc::new(StateCost::new(vec![0], vec![1.0])))
///     .with(1e-3, Arc::new(ActionCost { weights: vec![1.0] }));
/// let traj = TrajectoryRef::new(1, 1, 1, &[0.0], &[10.0]).unwrap();
/// assert!((cost.values(traj).unwrap()[0] - (4.0 * 0.5 + 1e-3 * 50.0)).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Default)]
pub struct WeightedSum {
    terms: Vec<(f64, Arc<dyn Cost>)>,
}

impl WeightedSum {
    /// An empty sum (zero cost).
    pub fn new() -> Self {
        WeightedSum { terms: Vec::new() }
    }

    /// Add `weight · cost`.
    pub fn with(mut self, weight: f64, cost: Arc<dyn Cost>) -> Self {
        self.terms.push((weight, cost));
        self
    }

    /// Add `weight · cost` in place.
    pub fn push(&mut self, weight: f64, cost: Arc<dyn Cost>) {
        self.terms.push((weight, cost));
    }

    /// The terms.
    pub fn terms(&self) -> &[(f64, Arc<dyn Cost>)] {
        &self.terms
    }
}

impl Cost for WeightedSum {
    fn state_hessian_support(&self, dx: usize) -> Option<Vec<usize>> {
        let mut all = Vec::new();
        for (_, c) in &self.terms {
            all.extend(c.state_hessian_support(dx)?);
        }
        all.sort_unstable();
        all.dedup();
        Some(all)
    }

    fn has_mixed_hessian(&self) -> bool {
        self.terms.iter().any(|(_, c)| c.has_mixed_hessian())
    }

    fn accumulate(
        &self,
        traj: TrajectoryRef<'_>,
        weight: f64,
        out: &mut CostDerivatives,
    ) -> Result<(), CoreError> {
        for (w, c) in &self.terms {
            c.accumulate(traj, weight * w, out)?;
        }
        Ok(())
    }
}
