//! The rapier world layer shared by the simulated tasks.
//!
//! A [`SimWorld`] wraps a rapier [`PhysicsWorld`] with what a torque-controlled task needs
//! (docs/rapier-notes.md explains the choices):
//!
//! - **arms** ([`ArmSpec`] → [`SimWorld::add_arm`]): chains of revolute joints built as one
//!   multibody on a fixed base, self-contacts off, implicit joint damping and armature;
//! - **exact torque control** ([`SimWorld::set_torques`]): a commanded joint torque `u_i`
//!   (clamped to the actuator's range) is applied as the body-torque pair `+u_i a_i` on the
//!   child link and `−u_i a_i` on the parent (none on the fixed base), `a_i` the joint axis in
//!   the world frame, re-applied at every physics step so that rotating axes stay exact;
//! - **free objects** ([`ObjectSpec`] → [`SimWorld::add_object`]) and static **fixtures**
//!   ([`SimWorld::add_fixture`], e.g. the ground);
//! - **stepping** ([`SimWorld::step_control`]): one control period = `substeps` physics steps
//!   of `dt` each (0.05 s = 5 × 0.01 s by default);
//! - **readings**: joint angles and velocities, points on links and their velocities (body
//!   Jacobian × generalised velocity, exact after a step), object poses and velocities;
//! - **reset by snapshot** ([`SimWorld::snapshot`], [`SimWorld::restore`]): every state part
//!   of the world is cloned; restoring with `clone_from` is bit-identical and takes microseconds.

mod arm;
mod object;
mod shape;
mod snapshot;

pub use arm::{Arm, ArmSpec, JointSpec, LinkSpec};
pub use object::{Object, ObjectSpec};
pub use rapier3d::math::{Pose, Rotation, Vector};
pub use shape::{CollisionRole, Layer, PlacedShape, Rgb, ShapeKind, ShapeSpec};
pub use snapshot::Snapshot;

use rapier3d::prelude::{PhysicsWorld, RigidBodyBuilder, RigidBodyHandle};
use thiserror::Error;

/// What can go wrong when building or driving a [`SimWorld`].
#[derive(Debug, Error, Clone, PartialEq)]
pub enum WorldError {
    /// A spec is invalid (names the part and the reason).
    #[error("invalid world spec: {0}")]
    InvalidSpec(String),
    /// A torque vector has the wrong length for the arm.
    #[error("arm {arm}: {got} torques given, the arm has {expected} joints")]
    TorqueLength {
        /// Arm index.
        arm: usize,
        /// Joints.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A torque or joint value is NaN or infinite.
    #[error("arm {arm}: {what} entry {index} is not finite")]
    NonFinite {
        /// Arm index.
        arm: usize,
        /// Which input.
        what: &'static str,
        /// Entry.
        index: usize,
    },
}

/// Physics timing: `substeps` rapier steps of `dt` seconds per control step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Physics step (s); rapier runs it in f32.
    pub dt: f64,
    /// Physics steps per control step.
    pub substeps: usize,
}

impl Default for Timing {
    /// 5 × 0.01 s = a 0.05 s control step (docs/design.md §5).
    fn default() -> Self {
        Timing {
            dt: 0.01,
            substeps: 5,
        }
    }
}

impl Timing {
    /// The control period `dt · substeps` in seconds.
    pub fn control_dt(&self) -> f64 {
        self.dt * self.substeps as f64
    }
}

/// A rapier world with arms, free objects and fixtures, stepped under torque control.
///
/// ```
/// use pilqr_tasks::world::*;
///
/// // A one-link pendulum about z, no gravity on the arm.
/// let link = LinkSpec {
///     name: "link".into(),
///     joint: JointSpec::revolute(Vector::ZERO, Vector::Z),
///     shapes: vec![ShapeSpec::capsule(Vector::ZERO, Vector::X * 0.3, 0.02,
///                                     CollisionRole::Arm, [200, 80, 40])],
///     density: 1000.0,
/// };
/// let spec = ArmSpec { base: Pose::IDENTITY, base_shapes: vec![], links: vec![link],
///                      gravity_scale: 0.0 };
/// let mut world = SimWorld::new(Timing::default(), Vector::new(0.0, 0.0, -9.81));
/// let arm = world.add_arm(&spec).unwrap();
/// let start = world.snapshot();
/// world.set_torques(arm, &[0.5]).unwrap();
/// world.step_control();
/// let mut qd = [0.0];
/// world.joint_velocities(arm, &mut qd);
/// assert!(qd[0] > 0.0);
/// world.restore(&start);
/// world.joint_velocities(arm, &mut qd);
/// assert_eq!(qd[0], 0.0);
/// ```
pub struct SimWorld {
    pub(crate) physics: PhysicsWorld,
    pub(crate) arms: Vec<Arm>,
    pub(crate) objects: Vec<Object>,
    /// Drawable shapes: the body they ride on (`None`: static scenery in world frame) and the
    /// painting layer.
    pub(crate) visuals: Vec<(Option<RigidBodyHandle>, ShapeSpec, Layer)>,
    timing: Timing,
}

impl std::fmt::Debug for SimWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimWorld")
            .field("arms", &self.arms.len())
            .field("objects", &self.objects.len())
            .field("bodies", &self.physics.bodies.len())
            .field("timing", &self.timing)
            .finish()
    }
}

impl SimWorld {
    /// An empty world with the given timing and gravity (contact recycling off, which left
    /// stale contacts in docs/rapier-notes.md's measurements).
    pub fn new(timing: Timing, gravity: Vector) -> Self {
        let mut physics = PhysicsWorld::new();
        physics.gravity = gravity;
        physics.integration_parameters.dt = timing.dt as f32;
        physics.integration_parameters.contact_recycling = false;
        SimWorld {
            physics,
            arms: Vec::new(),
            objects: Vec::new(),
            visuals: Vec::new(),
            timing,
        }
    }

    /// The timing.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// The underlying rapier world, for what this layer does not cover (read-only).
    pub fn physics(&self) -> &PhysicsWorld {
        &self.physics
    }

    /// The underlying rapier world, mutably (e.g. to add an impulse joint for a door hinge).
    /// Take snapshots after such edits.
    pub fn physics_mut(&mut self) -> &mut PhysicsWorld {
        &mut self.physics
    }

    /// Attach `shapes` to `body` as colliders of `density` and remember them for drawing.
    pub(crate) fn attach_shapes(
        &mut self,
        body: RigidBodyHandle,
        shapes: &[ShapeSpec],
        density: f32,
    ) {
        for s in shapes {
            if s.role != CollisionRole::Visual {
                self.physics
                    .insert_collider(s.collider(density), Some(body));
            }
            // Ground shapes lie under everything else.
            let layer = if s.role == CollisionRole::Ground {
                Layer::Floor
            } else {
                Layer::Body
            };
            self.visuals.push((Some(body), *s, layer));
        }
    }

    /// Add static scenery (ground, walls, a socket) at `pose`; returns its fixed body.
    pub fn add_fixture(&mut self, pose: Pose, shapes: &[ShapeSpec]) -> RigidBodyHandle {
        let body = self
            .physics
            .insert_body(RigidBodyBuilder::fixed().pose(pose));
        self.attach_shapes(body, shapes, 1000.0);
        body
    }

    /// Add a shape that is only drawn (a goal area, a target), in world frame.
    pub fn add_marker(&mut self, shape: ShapeSpec) {
        let mut s = shape;
        s.role = CollisionRole::Visual;
        self.visuals.push((None, s, Layer::Body));
    }

    /// Add a floor that is only drawn (nothing in the scene touches it), in world frame; it is
    /// painted beneath every other shape.
    pub fn add_floor_marker(&mut self, shape: ShapeSpec) {
        let mut s = shape;
        s.role = CollisionRole::Visual;
        self.visuals.push((None, s, Layer::Floor));
    }

    /// The arms.
    pub fn arms(&self) -> &[Arm] {
        &self.arms
    }

    /// Arm `i`.
    pub fn arm(&self, i: usize) -> &Arm {
        &self.arms[i]
    }

    /// Command torques for arm `arm`, clamped to each actuator's range. They stay applied
    /// (re-applied at every physics step) until the next call.
    ///
    /// Invalid input (wrong length, NaN) is rejected and leaves the commands unchanged.
    pub fn set_torques(&mut self, arm: usize, u: &[f64]) -> Result<(), WorldError> {
        let a = &mut self.arms[arm];
        if u.len() != a.dof() {
            return Err(WorldError::TorqueLength {
                arm,
                expected: a.dof(),
                got: u.len(),
            });
        }
        if let Some(index) = u.iter().position(|v| !v.is_finite()) {
            return Err(WorldError::NonFinite {
                arm,
                what: "torque",
                index,
            });
        }
        for ((t, &v), &lim) in a.torques.iter_mut().zip(u).zip(&a.torque_limits) {
            *t = v.clamp(-lim, lim);
        }
        Ok(())
    }

    /// Apply the commanded torques as body-torque pairs about the current world-frame axes.
    fn apply_torques(&mut self) {
        let bodies = &mut self.physics.bodies;
        for a in &self.arms {
            for &b in &a.links {
                bodies[b].reset_torques(false);
            }
            for i in 0..a.links.len() {
                let u = a.torques[i] as f32;
                if u == 0.0 {
                    continue;
                }
                let child = a.links[i];
                let axis = bodies[child].rotation() * a.axes[i];
                bodies[child].add_torque(axis * u, true);
                if i > 0 {
                    bodies[a.links[i - 1]].add_torque(axis * -u, true);
                }
            }
        }
    }

    /// One control period: `substeps` physics steps with the commanded torques.
    pub fn step_control(&mut self) {
        for _ in 0..self.timing.substeps {
            self.apply_torques();
            self.physics.step();
        }
    }

    /// One physics step (`dt`) with the commanded torques.
    pub fn step_physics(&mut self) {
        self.apply_torques();
        self.physics.step();
    }

    fn multibody(&self, arm: usize) -> &rapier3d::prelude::Multibody {
        let a = &self.arms[arm];
        // The index was valid when the arm was built and multibodies are never removed
        // (restoring a snapshot brings back the same set).
        self.physics
            .multibody_joints
            .get_multibody(a.multibody)
            .expect("arm multibody exists")
    }

    /// Joint angles of arm `arm` (rad, not wrapped), into `q` (one per joint).
    pub fn joint_positions(&self, arm: usize, q: &mut [f64]) {
        let mb = self.multibody(arm);
        for (qi, &id) in q.iter_mut().zip(&self.arms[arm].link_ids) {
            // A revolute joint's angle is its 4th generalised coordinate (docs/rapier-notes.md, pitfall 5).
            *qi = f64::from(mb.link(id).map_or(0.0, |l| l.joint().coords()[3]));
        }
    }

    /// Joint velocities of arm `arm` (rad/s), into `qd`.
    pub fn joint_velocities(&self, arm: usize, qd: &mut [f64]) {
        let mb = self.multibody(arm);
        let v = mb.generalized_velocity();
        for (o, &d) in qd.iter_mut().zip(&self.arms[arm].dofs) {
            *o = f64::from(v[d]);
        }
    }

    /// World position of `local`, a point in the frame of link `link` of arm `arm`.
    pub fn link_point(&self, arm: usize, link: usize, local: Vector) -> Vector {
        self.physics.bodies[self.arms[arm].links[link]].position() * local
    }

    /// World pose of link `link` of arm `arm`.
    pub fn link_pose(&self, arm: usize, link: usize) -> Pose {
        *self.physics.bodies[self.arms[arm].links[link]].position()
    }

    /// Velocity of the point `local` of link `link`: `v = J_v q̇ + (J_ω q̇) × (p − com)` with
    /// the link's body Jacobian `J` (rows: centre-of-mass velocity, angular velocity). Link
    /// bodies' own velocities lag one substep after a step (docs/rapier-notes.md, pitfall 4).
    pub fn link_point_velocity(&self, arm: usize, link: usize, local: Vector) -> Vector {
        let mb = self.multibody(arm);
        let a = &self.arms[arm];
        let j = mb.body_jacobian(a.link_ids[link]);
        let qd = mb.generalized_velocity();
        let mut tw = [0.0f32; 6];
        for (r, t) in tw.iter_mut().enumerate() {
            *t = (0..qd.len()).map(|c| j[(r, c)] * qd[c]).sum();
        }
        let body = &self.physics.bodies[a.links[link]];
        let p = body.position() * local;
        let v = Vector::new(tw[0], tw[1], tw[2]);
        let w = Vector::new(tw[3], tw[4], tw[5]);
        v + w.cross(p - body.center_of_mass())
    }

    /// Set the joint angles of arm `arm` (absolute, rad) and its joint velocities, and move the
    /// link bodies accordingly (forward kinematics). For setting up conditions and rendering.
    pub fn set_joint_state(&mut self, arm: usize, q: &[f64], qd: &[f64]) -> Result<(), WorldError> {
        let n = self.arms[arm].dof();
        for (what, v) in [("joint position", q), ("joint velocity", qd)] {
            if v.len() != n {
                return Err(WorldError::TorqueLength {
                    arm,
                    expected: n,
                    got: v.len(),
                });
            }
            if let Some(index) = v.iter().position(|x| !x.is_finite()) {
                return Err(WorldError::NonFinite { arm, what, index });
            }
        }
        let mut current = vec![0.0; n];
        self.joint_positions(arm, &mut current);
        let a = &self.arms[arm];
        let bodies = &mut self.physics.bodies;
        let mb = self
            .physics
            .multibody_joints
            .get_multibody_mut(a.multibody)
            .expect("arm multibody exists");
        // `apply_displacements` adds to the coordinates (docs/rapier-notes.md, pitfall 2).
        let mut disp = vec![0.0f32; mb.ndofs()];
        for k in 0..n {
            disp[a.dofs[k]] = (q[k] - current[k]) as f32;
        }
        mb.apply_displacements(&disp);
        {
            let mut v = mb.generalized_velocity_mut();
            for k in 0..n {
                v[a.dofs[k]] = qd[k] as f32;
            }
        }
        mb.forward_kinematics(bodies, false);
        mb.update_rigid_bodies(bodies, true);
        Ok(())
    }

    /// Every drawable shape with its current world pose.
    pub fn placed_shapes(&self) -> Vec<PlacedShape> {
        self.visuals
            .iter()
            .map(|(body, s, layer)| {
                let pose = match body {
                    Some(b) => self.physics.bodies[*b].position() * s.pose,
                    None => s.pose,
                };
                PlacedShape {
                    kind: s.kind,
                    pose,
                    color: s.color,
                    layer: *layer,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
