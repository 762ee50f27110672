//! Articulated arms: a chain of revolute joints built as one rapier multibody on a fixed base.
//!
//! Frames: link `i`'s frame has its origin on joint `i` and, at zero joint angles, the same
//! orientation as the base. Joint `i` sits at `anchor` in its parent's frame (the base for
//! `i = 0`) and turns link `i` about `axis` (the same vector in both frames at `q = 0`), so a
//! planar arm has all axes along z and a 7-DoF arm any axes it likes.

use rapier3d::math::{Pose, Vector};
use rapier3d::prelude::{
    MultibodyIndex, MultibodyJointHandle, RevoluteJointBuilder, RigidBodyBuilder, RigidBodyHandle,
};

use crate::world::shape::ShapeSpec;
use crate::world::{SimWorld, WorldError};

/// One revolute joint of an arm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointSpec {
    /// Joint origin in the parent link's frame.
    pub anchor: Vector,
    /// Rotation axis (unit), in the parent's frame at `q = 0`.
    pub axis: Vector,
    /// Joint limits `[lo, hi]` in radians, if any.
    pub limits: Option<[f32; 2]>,
    /// Largest torque magnitude the actuator delivers (N·m); commands are clamped to it.
    pub torque_limit: f64,
    /// Viscous joint damping (N·m·s/rad), integrated implicitly by rapier.
    pub damping: f32,
    /// Armature: reflected rotor inertia added to the joint's diagonal of the mass matrix.
    pub armature: f32,
}

impl JointSpec {
    /// A joint about `axis` at `anchor`, no limits, torque limit 1, damping 0.1, no armature.
    pub fn revolute(anchor: Vector, axis: Vector) -> Self {
        JointSpec {
            anchor,
            axis,
            limits: None,
            torque_limit: 1.0,
            damping: 0.1,
            armature: 0.0,
        }
    }
}

/// One link: the joint that moves it and its shapes (in the link's frame).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSpec {
    /// Name (for messages and rendering).
    pub name: String,
    /// The joint between the parent and this link.
    pub joint: JointSpec,
    /// Shapes; their colliders give the link its mass.
    pub shapes: Vec<ShapeSpec>,
    /// Density of the shapes (kg/m³).
    pub density: f32,
}

/// A serial arm on a fixed base.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmSpec {
    /// World pose of the base.
    pub base: Pose,
    /// Shapes of the base (drawn; collide as their role says).
    pub base_shapes: Vec<ShapeSpec>,
    /// The links, from the base outwards.
    pub links: Vec<LinkSpec>,
    /// Gravity scale of the links: 0 (the default) models a gravity-compensated arm.
    pub gravity_scale: f32,
}

/// An arm inserted into a [`SimWorld`]: handles and per-joint data.
#[derive(Debug, Clone)]
pub struct Arm {
    pub(crate) base: RigidBodyHandle,
    pub(crate) links: Vec<RigidBodyHandle>,
    /// Multibody link index of each link (for `body_jacobian`, `link`).
    pub(crate) link_ids: Vec<usize>,
    /// Generalised-coordinate index of each joint.
    pub(crate) dofs: Vec<usize>,
    /// Joint axes in the child link's frame.
    pub(crate) axes: Vec<Vector>,
    pub(crate) torque_limits: Vec<f64>,
    pub(crate) multibody: MultibodyIndex,
    /// Commanded (clamped) torques, re-applied at every physics step.
    pub(crate) torques: Vec<f64>,
}

impl Arm {
    /// Number of joints.
    pub fn dof(&self) -> usize {
        self.links.len()
    }

    /// Torque limit of each joint.
    pub fn torque_limits(&self) -> &[f64] {
        &self.torque_limits
    }

    /// Rigid-body handles of the links.
    pub fn link_bodies(&self) -> &[RigidBodyHandle] {
        &self.links
    }

    /// Rigid-body handle of the fixed base.
    pub fn base_body(&self) -> RigidBodyHandle {
        self.base
    }

    /// Joint axes, each in its child link's frame (the world axis of joint `i` is link `i`'s
    /// rotation times this).
    pub fn joint_axes(&self) -> &[Vector] {
        &self.axes
    }

    /// The torques currently commanded (after clamping).
    pub fn commanded_torques(&self) -> &[f64] {
        &self.torques
    }
}

impl SimWorld {
    /// Build `spec` into this world; returns the arm's index for the other arm methods.
    ///
    /// Links get self-contacts off, the given damping and armature, zero joint angles.
    pub fn add_arm(&mut self, spec: &ArmSpec) -> Result<usize, WorldError> {
        if spec.links.is_empty() {
            return Err(WorldError::InvalidSpec(
                "an arm needs at least one link".into(),
            ));
        }
        for (i, l) in spec.links.iter().enumerate() {
            let j = &l.joint;
            let ok = j.axis.is_finite()
                && (j.axis.length() - 1.0).abs() < 1e-4
                && j.anchor.is_finite()
                && j.torque_limit.is_finite()
                && j.torque_limit >= 0.0
                && j.damping >= 0.0
                && j.armature >= 0.0
                && l.density > 0.0;
            if !ok {
                return Err(WorldError::InvalidSpec(format!(
                    "link {i} ({}): axis must be a unit vector, anchor finite, torque limit, \
                     damping, armature ≥ 0 and density > 0",
                    l.name
                )));
            }
        }
        let base = self
            .physics
            .insert_body(RigidBodyBuilder::fixed().pose(spec.base));
        self.attach_shapes(base, &spec.base_shapes, 1000.0);
        let mut links = Vec::with_capacity(spec.links.len());
        let mut joint_handles: Vec<MultibodyJointHandle> = Vec::new();
        let mut parent = base;
        let mut origin = spec.base;
        for l in &spec.links {
            // At q = 0 every link frame has the base's rotation.
            origin = Pose::from_parts(origin * l.joint.anchor, spec.base.rotation);
            let body = self.physics.insert_body(
                RigidBodyBuilder::dynamic()
                    .pose(origin)
                    .gravity_scale(spec.gravity_scale)
                    .can_sleep(false),
            );
            self.attach_shapes(body, &l.shapes, l.density);
            let mut joint = RevoluteJointBuilder::new(l.joint.axis)
                .local_anchor1(l.joint.anchor)
                .local_anchor2(Vector::ZERO)
                .contacts_enabled(false);
            if let Some(lim) = l.joint.limits {
                joint = joint.limits(lim);
            }
            let handle = self
                .physics
                .insert_multibody_joint(parent, body, joint)
                .ok_or_else(|| {
                    WorldError::InvalidSpec(format!("link {}: invalid chain", l.name))
                })?;
            joint_handles.push(handle);
            links.push(body);
            parent = body;
        }
        let multibody = self
            .physics
            .multibody_joints
            .rigid_body_link(links[0])
            .map(|l| l.multibody)
            .ok_or_else(|| WorldError::InvalidSpec("arm multibody missing".into()))?;
        let mut link_ids = Vec::with_capacity(links.len());
        for &b in &links {
            let id = self
                .physics
                .multibody_joints
                .rigid_body_link(b)
                .map(|l| l.id)
                .ok_or_else(|| WorldError::InvalidSpec("arm link missing".into()))?;
            link_ids.push(id);
        }
        let bodies = &self.physics.bodies;
        let mb = self
            .physics
            .multibody_joints
            .get_multibody_mut(multibody)
            .ok_or_else(|| WorldError::InvalidSpec("arm multibody missing".into()))?;
        mb.set_self_contacts_enabled(false);
        // Until the first forward kinematics the fixed root counts as a free joint
        // (docs/rapier-notes.md, pitfall 1): run it before touching per-DoF vectors.
        mb.forward_kinematics(bodies, true);
        if mb.ndofs() != spec.links.len() {
            return Err(WorldError::InvalidSpec(format!(
                "the arm multibody has {} DoF, expected {}",
                mb.ndofs(),
                spec.links.len()
            )));
        }
        let mut dofs = Vec::with_capacity(links.len());
        let mut axes = Vec::with_capacity(links.len());
        for &id in &link_ids {
            let link = mb
                .link(id)
                .ok_or_else(|| WorldError::InvalidSpec(format!("multibody link {id} missing")))?;
            dofs.push(link.assembly_id());
            axes.push(link.joint().data.local_axis2());
        }
        for (k, l) in spec.links.iter().enumerate() {
            mb.damping_mut()[dofs[k]] = l.joint.damping;
            mb.armature_mut()[dofs[k]] = l.joint.armature;
        }
        let n = links.len();
        self.arms.push(Arm {
            base,
            links,
            link_ids,
            dofs,
            axes,
            torque_limits: spec.links.iter().map(|l| l.joint.torque_limit).collect(),
            multibody,
            torques: vec![0.0; n],
        });
        Ok(self.arms.len() - 1)
    }
}
