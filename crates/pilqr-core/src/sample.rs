//! Samples: the trajectories a rollout produces, one at a time or in a batch.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, check_finite_steps};

/// Sizes shared by the samples of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleDims {
    /// Horizon `T`.
    pub horizon: usize,
    /// State dimension `dX`.
    pub dx: usize,
    /// Action dimension `dU`.
    pub du: usize,
    /// Observation dimension `dO`.
    pub dobs: usize,
}

/// A borrowed view of one trajectory's states and actions, step-major: step `t` of `x` is
/// `x[t*dX .. (t+1)*dX]`. This is what costs and success metrics read.
#[derive(Debug, Clone, Copy)]
pub struct TrajectoryRef<'a> {
    /// Horizon `T`.
    pub horizon: usize,
    /// State dimension `dX`.
    pub dx: usize,
    /// Action dimension `dU`.
    pub du: usize,
    /// States, `T·dX` values.
    pub x: &'a [f64],
    /// Actions, `T·dU` values.
    pub u: &'a [f64],
}

impl<'a> TrajectoryRef<'a> {
    /// A view over `x` (`T·dX` values) and `u` (`T·dU` values), checking the lengths.
    pub fn new(
        horizon: usize,
        dx: usize,
        du: usize,
        x: &'a [f64],
        u: &'a [f64],
    ) -> Result<Self, CoreError> {
        expect_len("states x", x.len(), horizon * dx)?;
        expect_len("actions u", u.len(), horizon * du)?;
        Ok(TrajectoryRef {
            horizon,
            dx,
            du,
            x,
            u,
        })
    }

    /// State at step `t`.
    #[inline]
    pub fn x(&self, t: usize) -> &'a [f64] {
        &self.x[t * self.dx..(t + 1) * self.dx]
    }

    /// Action at step `t`.
    #[inline]
    pub fn u(&self, t: usize) -> &'a [f64] {
        &self.u[t * self.du..(t + 1) * self.du]
    }
}

fn expect_len(field: &'static str, got: usize, expected: usize) -> Result<(), CoreError> {
    if got != expected {
        return Err(CoreError::Length {
            field,
            expected,
            got,
        });
    }
    Ok(())
}

/// One rollout: states, actions, observations, the action noise that generated it and the
/// per-step costs, each step-major (`T` rows of their dimension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    /// States `x_0..x_{T-1}`, `T·dX` values.
    pub x: Vec<f64>,
    /// Actions `u_0..u_{T-1}`, `T·dU` values.
    pub u: Vec<f64>,
    /// Observations, `T·dO` values.
    pub obs: Vec<f64>,
    /// Standard-normal noise `ε_t` behind the actions, `T·dU` values.
    pub noise: Vec<f64>,
    /// Per-step costs `c_t`, `T` values.
    pub cost: Vec<f64>,
}

/// `N` trajectories of one condition, stored contiguously: `X [N,T,dX]`, `U [N,T,dU]`,
/// observations `[N,T,dO]`, noise `ε [N,T,dU]` and costs `[N,T]`.
///
/// Built only through validating constructors: shapes must agree and every value must be
/// finite; errors name the field, the sample and the time step.
///
/// ```
/// use pilqr_core::{SampleBatch, SampleDims, Trajectory};
///
/// let dims = SampleDims { horizon: 2, dx: 1, du: 1, dobs: 1 };
/// let traj = Trajectory {
///     x: vec![0.0, 1.0], u: vec![1.0, 0.0], obs: vec![0.0, 1.0],
///     noise: vec![0.1, -0.2], cost: vec![1.0, 0.5],
/// };
/// let batch = SampleBatch::from_trajectories(dims, vec![traj]).unwrap();
/// assert_eq!(batch.len(), 1);
/// assert_eq!(batch.x(0, 1), &[1.0]);
/// assert_eq!(batch.total_cost(0), 1.5);
///
/// let mut bad = batch.trajectory_owned(0);
/// bad.u[1] = f64::NAN;
/// let err = SampleBatch::from_trajectories(dims, vec![bad]).unwrap_err();
/// assert_eq!(err.to_string(), "actions u is not finite at sample Some(0), time step 1, entry 0");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawBatch", into = "RawBatch")]
pub struct SampleBatch {
    dims: SampleDims,
    n: usize,
    x: Vec<f64>,
    u: Vec<f64>,
    obs: Vec<f64>,
    noise: Vec<f64>,
    cost: Vec<f64>,
}

#[derive(Serialize, Deserialize)]
struct RawBatch {
    dims: SampleDims,
    n: usize,
    x: Vec<f64>,
    u: Vec<f64>,
    obs: Vec<f64>,
    noise: Vec<f64>,
    cost: Vec<f64>,
}

impl TryFrom<RawBatch> for SampleBatch {
    type Error = CoreError;
    fn try_from(r: RawBatch) -> Result<Self, CoreError> {
        SampleBatch::new(r.dims, r.n, r.x, r.u, r.obs, r.noise, r.cost)
    }
}

impl From<SampleBatch> for RawBatch {
    fn from(b: SampleBatch) -> Self {
        RawBatch {
            dims: b.dims,
            n: b.n,
            x: b.x,
            u: b.u,
            obs: b.obs,
            noise: b.noise,
            cost: b.cost,
        }
    }
}

impl SampleBatch {
    /// Build from flat arrays (`X [N,T,dX]`, …), validating lengths and finiteness.
    pub fn new(
        dims: SampleDims,
        n: usize,
        x: Vec<f64>,
        u: Vec<f64>,
        obs: Vec<f64>,
        noise: Vec<f64>,
        cost: Vec<f64>,
    ) -> Result<Self, CoreError> {
        if n == 0 {
            return Err(CoreError::Empty {
                what: "sample batch",
            });
        }
        if dims.horizon == 0 {
            return Err(CoreError::Empty {
                what: "sample horizon",
            });
        }
        let t = dims.horizon;
        let sizes = [
            ("states x", &x, dims.dx),
            ("actions u", &u, dims.du),
            ("observations", &obs, dims.dobs),
            ("noise", &noise, dims.du),
            ("costs", &cost, 1),
        ];
        for (field, values, per_step) in sizes {
            let expected = n
                .checked_mul(t)
                .and_then(|v| v.checked_mul(per_step))
                .unwrap_or(usize::MAX);
            expect_len(field, values.len(), expected)?;
            for i in 0..n {
                let per_sample = t * per_step;
                check_finite_steps(
                    field,
                    Some(i),
                    &values[i * per_sample..(i + 1) * per_sample],
                    per_step,
                )?;
            }
        }
        Ok(SampleBatch {
            dims,
            n,
            x,
            u,
            obs,
            noise,
            cost,
        })
    }

    /// Build from individual trajectories, validating each.
    pub fn from_trajectories(
        dims: SampleDims,
        trajectories: Vec<Trajectory>,
    ) -> Result<Self, CoreError> {
        let n = trajectories.len();
        let t = dims.horizon;
        let mut x = Vec::with_capacity(n * t * dims.dx);
        let mut u = Vec::with_capacity(n * t * dims.du);
        let mut obs = Vec::with_capacity(n * t * dims.dobs);
        let mut noise = Vec::with_capacity(n * t * dims.du);
        let mut cost = Vec::with_capacity(n * t);
        for tr in &trajectories {
            expect_len("states x", tr.x.len(), t * dims.dx)?;
            expect_len("actions u", tr.u.len(), t * dims.du)?;
            expect_len("observations", tr.obs.len(), t * dims.dobs)?;
            expect_len("noise", tr.noise.len(), t * dims.du)?;
            expect_len("costs", tr.cost.len(), t)?;
            x.extend_from_slice(&tr.x);
            u.extend_from_slice(&tr.u);
            obs.extend_from_slice(&tr.obs);
            noise.extend_from_slice(&tr.noise);
            cost.extend_from_slice(&tr.cost);
        }
        SampleBatch::new(dims, n, x, u, obs, noise, cost)
    }

    /// Replace the per-step costs (`[N,T]`), e.g. after evaluating a different cost function.
    pub fn with_costs(self, cost: Vec<f64>) -> Result<Self, CoreError> {
        SampleBatch::new(
            self.dims, self.n, self.x, self.u, self.obs, self.noise, cost,
        )
    }

    /// Sizes.
    pub fn dims(&self) -> SampleDims {
        self.dims
    }

    /// Number of samples `N`.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: a batch holds at least one sample.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Horizon `T`.
    pub fn horizon(&self) -> usize {
        self.dims.horizon
    }

    #[inline]
    fn range(&self, i: usize, t: usize, per_step: usize) -> std::ops::Range<usize> {
        let start = (i * self.dims.horizon + t) * per_step;
        start..start + per_step
    }

    /// State of sample `i` at step `t`.
    #[inline]
    pub fn x(&self, i: usize, t: usize) -> &[f64] {
        &self.x[self.range(i, t, self.dims.dx)]
    }

    /// Action of sample `i` at step `t`.
    #[inline]
    pub fn u(&self, i: usize, t: usize) -> &[f64] {
        &self.u[self.range(i, t, self.dims.du)]
    }

    /// Observation of sample `i` at step `t`.
    #[inline]
    pub fn obs(&self, i: usize, t: usize) -> &[f64] {
        &self.obs[self.range(i, t, self.dims.dobs)]
    }

    /// Noise of sample `i` at step `t`.
    #[inline]
    pub fn noise(&self, i: usize, t: usize) -> &[f64] {
        &self.noise[self.range(i, t, self.dims.du)]
    }

    /// Cost of sample `i` at step `t`.
    #[inline]
    pub fn cost(&self, i: usize, t: usize) -> f64 {
        self.cost[i * self.dims.horizon + t]
    }

    /// Per-step costs of sample `i`.
    pub fn costs(&self, i: usize) -> &[f64] {
        &self.cost[i * self.dims.horizon..(i + 1) * self.dims.horizon]
    }

    /// Total cost of sample `i`.
    pub fn total_cost(&self, i: usize) -> f64 {
        self.costs(i).iter().sum()
    }

    /// States and actions of sample `i` as a [`TrajectoryRef`].
    pub fn trajectory(&self, i: usize) -> TrajectoryRef<'_> {
        let t = self.dims.horizon;
        TrajectoryRef {
            horizon: t,
            dx: self.dims.dx,
            du: self.dims.du,
            x: &self.x[i * t * self.dims.dx..(i + 1) * t * self.dims.dx],
            u: &self.u[i * t * self.dims.du..(i + 1) * t * self.dims.du],
        }
    }

    /// A copy of sample `i`.
    pub fn trajectory_owned(&self, i: usize) -> Trajectory {
        let t = self.dims.horizon;
        let d = self.dims;
        Trajectory {
            x: self.x[i * t * d.dx..(i + 1) * t * d.dx].to_vec(),
            u: self.u[i * t * d.du..(i + 1) * t * d.du].to_vec(),
            obs: self.obs[i * t * d.dobs..(i + 1) * t * d.dobs].to_vec(),
            noise: self.noise[i * t * d.du..(i + 1) * t * d.du].to_vec(),
            cost: self.costs(i).to_vec(),
        }
    }

    /// All states, `[N,T,dX]`.
    pub fn x_all(&self) -> &[f64] {
        &self.x
    }

    /// All actions, `[N,T,dU]`.
    pub fn u_all(&self) -> &[f64] {
        &self.u
    }

    /// All observations, `[N,T,dO]`.
    pub fn obs_all(&self) -> &[f64] {
        &self.obs
    }

    /// All noise, `[N,T,dU]`.
    pub fn noise_all(&self) -> &[f64] {
        &self.noise
    }

    /// All costs, `[N,T]`.
    pub fn cost_all(&self) -> &[f64] {
        &self.cost
    }

    /// Mean over samples of the total cost.
    pub fn mean_total_cost(&self) -> f64 {
        (0..self.n).map(|i| self.total_cost(i)).sum::<f64>() / self.n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims() -> SampleDims {
        SampleDims {
            horizon: 3,
            dx: 2,
            du: 1,
            dobs: 2,
        }
    }

    fn traj(v: f64) -> Trajectory {
        Trajectory {
            x: vec![v; 6],
            u: vec![v; 3],
            obs: vec![v; 6],
            noise: vec![0.0; 3],
            cost: vec![1.0; 3],
        }
    }

    #[test]
    fn empty_batch_is_an_error() {
        assert_eq!(
            SampleBatch::from_trajectories(dims(), vec![]).unwrap_err(),
            CoreError::Empty {
                what: "sample batch"
            }
        );
    }

    #[test]
    fn wrong_length_names_the_field() {
        let mut t = traj(1.0);
        t.noise.pop();
        let err = SampleBatch::from_trajectories(dims(), vec![t]).unwrap_err();
        assert_eq!(
            err,
            CoreError::Length {
                field: "noise",
                expected: 3,
                got: 2
            }
        );
    }

    #[test]
    fn non_finite_names_sample_and_step() {
        let mut t = traj(1.0);
        t.x[5] = f64::INFINITY;
        let err = SampleBatch::from_trajectories(dims(), vec![traj(0.0), t]).unwrap_err();
        assert_eq!(
            err,
            CoreError::NonFinite {
                field: "states x",
                sample: Some(1),
                step: 2,
                index: 1
            }
        );
    }

    #[test]
    fn accessors_index_correctly() {
        let b = SampleBatch::from_trajectories(dims(), vec![traj(0.0), traj(2.0)]).unwrap();
        assert_eq!(b.x(1, 2), &[2.0, 2.0]);
        assert_eq!(b.trajectory(1).x(0), &[2.0, 2.0]);
        assert_eq!(b.mean_total_cost(), 3.0);
    }
}
