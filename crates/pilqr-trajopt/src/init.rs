//! Initial controllers (docs/design.md §4.7): `init_pd` and `init_lqr`.
//!
//! Both act on the joints named by the task's [`StateLayout`]: action `i` drives the joint whose
//! position is state entry `joint_pos.start + i` and velocity `joint_vel.start + i`.

use faer::Mat;
use pilqr_core::{CostModel, LinearGaussianPolicy, StateLayout};
use pilqr_dynamics::LinearDynamics;
use pilqr_linalg::{MatStack, VecStack};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::TrajOptError;
use crate::lqr_flm::max_entropy_lqr;

/// PD control around the initial joint angles: `u_i = kp (q0_i − q_i) − kd q̇_i + N(0, init_var)`.
/// With zero gains this is the paper's zero-mean Gaussian initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PdInit {
    /// Position gain `kp` (default 0).
    pub pos_gain: f64,
    /// Velocity gain `kd` (default 0).
    pub vel_gain: f64,
    /// Action variance (default 1).
    pub init_var: f64,
}

impl Default for PdInit {
    fn default() -> Self {
        PdInit {
            pos_gain: 0.0,
            vel_gain: 0.0,
            init_var: 1.0,
        }
    }
}

/// LQR on a guessed double-integrator model: `q̇' = q̇ + dt·u/gain`, `q' = q + dt·q̇'`, other
/// state entries constant; cost `(stiffness ‖q − q0‖² + stiffness·stiffness_vel ‖q̇ − q̇0‖²
/// + init_acc ‖u‖²)/(2 init_var)`, the state part ×`final_weight` at the last step. The
/// controller is the maximum-entropy LQR solution, `Σ_t = Q_uu⁻¹` (so `init_var` sets its scale).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LqrInit {
    /// Weight on joint positions (default 1).
    pub stiffness: f64,
    /// Velocity weight relative to `stiffness` (default 0.5).
    pub stiffness_vel: f64,
    /// Multiplier of the state cost at the last step (default 1).
    pub final_weight: f64,
    /// Guessed inertia per joint (default 1).
    pub init_gains: f64,
    /// Weight on the action (default 1).
    pub init_acc: f64,
    /// Variance scale (default 1).
    pub init_var: f64,
}

impl Default for LqrInit {
    fn default() -> Self {
        LqrInit {
            stiffness: 1.0,
            stiffness_vel: 0.5,
            final_weight: 1.0,
            init_gains: 1.0,
            init_acc: 1.0,
            init_var: 1.0,
        }
    }
}

/// Which initial controller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InitConfig {
    /// [`init_pd`].
    Pd(PdInit),
    /// [`init_lqr`].
    Lqr(LqrInit),
}

impl Default for InitConfig {
    /// A zero-mean Gaussian with unit variance, as in the paper.
    fn default() -> Self {
        InitConfig::Pd(PdInit::default())
    }
}

fn check_layout(layout: &StateLayout, dx: usize, du: usize) -> Result<(), TrajOptError> {
    let ok = |r: &std::ops::Range<usize>| r.len() >= du && r.start + du <= dx;
    if du > 0 && !(ok(&layout.joint_pos) && ok(&layout.joint_vel)) {
        return Err(TrajOptError::Config {
            field: "state layout",
            reason: format!("needs {du} joint positions and velocities inside a state of {dx}"),
        });
    }
    Ok(())
}

fn positive(field: &'static str, v: f64) -> Result<(), TrajOptError> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(TrajOptError::Config {
            field,
            reason: "must be finite and > 0".into(),
        })
    }
}

/// The PD initial controller for horizon `T`, `dU` actions, around the initial state `x0`.
///
/// ```
/// use pilqr_core::StateLayout;
/// use pilqr_trajopt::init::{PdInit, init_pd};
///
/// let layout = StateLayout { joint_pos: 0..1, joint_vel: 1..2 };
/// let cfg = PdInit { pos_gain: 2.0, vel_gain: 0.5, init_var: 0.1 };
/// let p = init_pd(10, 1, &layout, &[0.3, 0.0], &cfg).unwrap();
/// let mut u = [0.0];
/// p.mean_action(0, &[0.3, 0.0], &mut u).unwrap();
/// assert!(u[0].abs() < 1e-12); // at rest at q0: no torque
/// ```
pub fn init_pd(
    horizon: usize,
    du: usize,
    layout: &StateLayout,
    x0: &[f64],
    config: &PdInit,
) -> Result<LinearGaussianPolicy, TrajOptError> {
    let dx = x0.len();
    check_layout(layout, dx, du)?;
    positive("init_var", config.init_var)?;
    crate::error::expect_finite("initial state", x0, dx.max(1))?;
    let mut gain = MatStack::zeros(horizon, du, dx);
    let mut offset = VecStack::zeros(horizon, du);
    for t in 0..horizon {
        let mut k = gain.at_mut(t);
        let off = offset.at_mut(t);
        for i in 0..du {
            let (p, v) = (layout.joint_pos.start + i, layout.joint_vel.start + i);
            k[(i, p)] = -config.pos_gain;
            k[(i, v)] -= config.vel_gain;
            off[i] = config.pos_gain * x0[p];
        }
    }
    let cov = MatStack::repeat(
        horizon,
        (Mat::<f64>::identity(du, du) * config.init_var).as_ref(),
    );
    Ok(LinearGaussianPolicy::new(gain, offset, cov)?)
}

/// The LQR initial controller for horizon `T`, `dU` actions, control period `dt`, around `x0`.
///
/// ```
/// use pilqr_core::StateLayout;
/// use pilqr_trajopt::init::{LqrInit, init_lqr};
///
/// let layout = StateLayout { joint_pos: 0..1, joint_vel: 1..2 };
/// let p = init_lqr(20, 1, 0.05, &layout, &[0.3, 0.0], &LqrInit::default()).unwrap();
/// // It pushes a displaced joint back towards q0 = 0.3.
/// let mut u = [0.0];
/// p.mean_action(0, &[1.0, 0.0], &mut u).unwrap();
/// assert!(u[0] < 0.0);
/// ```
pub fn init_lqr(
    horizon: usize,
    du: usize,
    dt: f64,
    layout: &StateLayout,
    x0: &[f64],
    config: &LqrInit,
) -> Result<LinearGaussianPolicy, TrajOptError> {
    let dx = x0.len();
    check_layout(layout, dx, du)?;
    positive("dt", dt)?;
    positive("init_var", config.init_var)?;
    positive("init_gains", config.init_gains)?;
    positive("init_acc", config.init_acc)?;
    crate::error::expect_finite("initial state", x0, dx.max(1))?;
    let n = dx + du;
    let mut dynamics = LinearDynamics::zeros(horizon, dx, du);
    let mut cost = CostModel::zeros(horizon, dx, du);
    for t in 0..horizon {
        let mut fm = dynamics.fm.at_mut(t);
        for i in 0..dx {
            fm[(i, i)] = 1.0;
        }
        for i in 0..du {
            let (p, v) = (layout.joint_pos.start + i, layout.joint_vel.start + i);
            let b = dt / config.init_gains;
            fm[(v, dx + i)] += b;
            fm[(p, v)] += dt;
            fm[(p, dx + i)] += dt * b;
        }
        let w = if t + 1 == horizon {
            config.final_weight
        } else {
            1.0
        } / config.init_var;
        let mut cm = cost.cm.at_mut(t);
        for i in 0..du {
            let (p, v) = (layout.joint_pos.start + i, layout.joint_vel.start + i);
            cm[(p, p)] += w * config.stiffness;
            cm[(v, v)] += w * config.stiffness * config.stiffness_vel;
            cm[(dx + i, dx + i)] = config.init_acc / config.init_var;
        }
        // cv = −Cm [x0; 0]
        let cv = cost.cv.at_mut(t);
        for r in 0..n {
            cv[r] = -(0..dx).map(|c| cm[(r, c)] * x0[c]).sum::<f64>();
        }
    }
    max_entropy_lqr(&dynamics, &cost, 1.0)
}

/// Human-readable form: internally tagged, `{ type = "pd", pos_gain = … }`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum InitReadable {
    Pd(PdInit),
    Lqr(LqrInit),
}

/// Binary form (bincode cannot read an internal tag): externally tagged.
#[derive(Serialize, Deserialize)]
enum InitBinary {
    Pd(PdInit),
    Lqr(LqrInit),
}

impl Serialize for InitConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (*self, s.is_human_readable()) {
            (InitConfig::Pd(c), true) => InitReadable::Pd(c).serialize(s),
            (InitConfig::Lqr(c), true) => InitReadable::Lqr(c).serialize(s),
            (InitConfig::Pd(c), false) => InitBinary::Pd(c).serialize(s),
            (InitConfig::Lqr(c), false) => InitBinary::Lqr(c).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for InitConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(if d.is_human_readable() {
            match InitReadable::deserialize(d)? {
                InitReadable::Pd(c) => InitConfig::Pd(c),
                InitReadable::Lqr(c) => InitConfig::Lqr(c),
            }
        } else {
            match InitBinary::deserialize(d)? {
                InitBinary::Pd(c) => InitConfig::Pd(c),
                InitBinary::Lqr(c) => InitConfig::Lqr(c),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> StateLayout {
        StateLayout {
            joint_pos: 0..2,
            joint_vel: 2..4,
        }
    }

    #[test]
    fn pd_gains_and_variance() {
        let x0 = [0.5, -0.2, 0.0, 0.0, 9.0];
        let cfg = PdInit {
            pos_gain: 3.0,
            vel_gain: 0.4,
            init_var: 0.25,
        };
        let p = init_pd(4, 2, &layout(), &x0, &cfg).unwrap();
        let mut u = [0.0; 2];
        p.mean_action(2, &[0.6, -0.2, 1.0, 0.0, 3.0], &mut u)
            .unwrap();
        assert!((u[0] - (3.0 * (0.5 - 0.6) - 0.4 * 1.0)).abs() < 1e-12);
        assert!(u[1].abs() < 1e-12);
        assert_eq!(p.cov().at(3)[(1, 1)], 0.25);
        assert_eq!(p.cov().at(3)[(0, 1)], 0.0);
        assert!(init_pd(4, 3, &layout(), &x0, &cfg).is_err());
    }

    #[test]
    fn lqr_init_is_the_max_entropy_lqr_of_the_guessed_model() {
        let x0 = [0.5, -0.2, 0.0, 0.0];
        let cfg = LqrInit {
            init_var: 0.5,
            init_acc: 2.0,
            ..LqrInit::default()
        };
        let (t, dt) = (60, 0.05);
        let p = init_lqr(t, 2, dt, &layout(), &x0, &cfg).unwrap();
        // At the last step nothing follows: Q_uu = init_acc/init_var, Σ = its inverse.
        let last = p.cov().at(t - 1);
        assert!((last[(0, 0)] - 0.25).abs() < 1e-12 && last[(0, 1)].abs() < 1e-12);
        // The mean controller brings a displaced joint back towards q0 in the guessed model,
        // monotonically (an overdamped regulator) and without touching the joint at rest.
        let mut x = [1.5, -0.2, 0.0, 0.0];
        let mut u = [0.0; 2];
        let mut dist = 1.0;
        for s in 0..t / 2 {
            p.mean_action(s, &x, &mut u).unwrap();
            for (i, ui) in u.iter().enumerate() {
                x[2 + i] += dt * ui / cfg.init_gains;
                x[i] += dt * x[2 + i];
            }
            let d = (x[0] - 0.5).abs();
            assert!(d <= dist + 1e-12, "step {s}: distance {d} grew from {dist}");
            dist = d;
        }
        assert!(dist < 0.9, "joint 0 at {}", x[0]);
        assert!((x[1] + 0.2).abs() < 1e-9);
    }
}
