//! Free objects (a block, a puck, a ball): dynamic rigid bodies with their own shapes.

use rapier3d::math::{Pose, Vector};
use rapier3d::prelude::{RigidBodyBuilder, RigidBodyHandle};

use crate::world::shape::ShapeSpec;
use crate::world::{SimWorld, WorldError};

/// A dynamic rigid body: initial pose, shapes, mass, damping.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectSpec {
    /// Name (for messages).
    pub name: String,
    /// Initial world pose (conditions usually move it with [`SimWorld::set_object_pose`]).
    pub pose: Pose,
    /// Shapes in the body frame.
    pub shapes: Vec<ShapeSpec>,
    /// Total mass (kg), spread over the shapes by volume.
    pub mass: f32,
    /// Linear velocity damping (1/s), on top of contact friction.
    pub linear_damping: f32,
    /// Angular velocity damping (1/s).
    pub angular_damping: f32,
    /// Gravity scale (1: falls onto the ground and feels its friction).
    pub gravity_scale: f32,
}

/// A free object inserted into a [`SimWorld`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object {
    pub(crate) body: RigidBodyHandle,
}

impl Object {
    /// The rigid-body handle.
    pub fn body(&self) -> RigidBodyHandle {
        self.body
    }
}

impl SimWorld {
    /// Insert a free object; returns its index for the other object methods.
    pub fn add_object(&mut self, spec: &ObjectSpec) -> Result<usize, WorldError> {
        let volume: f32 = spec
            .shapes
            .iter()
            .filter(|s| s.role != crate::world::CollisionRole::Visual)
            .map(|s| shape_volume(&s.kind))
            .sum();
        let positive = |v: f32| v > 0.0;
        if !positive(spec.mass) || !positive(volume) || !spec.pose.is_finite() {
            return Err(WorldError::InvalidSpec(format!(
                "object {}: needs a positive mass, colliding shapes and a finite pose",
                spec.name
            )));
        }
        let body = self.physics.insert_body(
            RigidBodyBuilder::dynamic()
                .pose(spec.pose)
                .linear_damping(spec.linear_damping)
                .angular_damping(spec.angular_damping)
                .gravity_scale(spec.gravity_scale)
                .can_sleep(false),
        );
        self.attach_shapes(body, &spec.shapes, spec.mass / volume);
        self.objects.push(Object { body });
        Ok(self.objects.len() - 1)
    }

    /// World pose of object `i`.
    pub fn object_pose(&self, i: usize) -> Pose {
        *self.physics.bodies[self.objects[i].body].position()
    }

    /// Linear velocity (of the centre of mass) and angular velocity of object `i`.
    pub fn object_velocity(&self, i: usize) -> (Vector, Vector) {
        let b = &self.physics.bodies[self.objects[i].body];
        (b.linvel(), b.angvel())
    }

    /// Teleport object `i` to `pose` with zero velocity (for setting up conditions).
    pub fn set_object_pose(&mut self, i: usize, pose: Pose) {
        let b = &mut self.physics.bodies[self.objects[i].body];
        b.set_position(pose, true);
        b.set_linvel(Vector::ZERO, true);
        b.set_angvel(Vector::ZERO, true);
    }

    /// Set the velocity of object `i`.
    pub fn set_object_velocity(&mut self, i: usize, linvel: Vector, angvel: Vector) {
        let b = &mut self.physics.bodies[self.objects[i].body];
        b.set_linvel(linvel, true);
        b.set_angvel(angvel, true);
    }

    /// The objects.
    pub fn objects(&self) -> &[Object] {
        &self.objects
    }
}

/// Volume of a shape (for spreading an object's mass).
pub(crate) fn shape_volume(kind: &crate::world::ShapeKind) -> f32 {
    use crate::world::ShapeKind;
    use std::f32::consts::PI;
    match *kind {
        ShapeKind::Capsule { a, b, radius } => {
            PI * radius * radius * (a.distance(b) + 4.0 / 3.0 * radius)
        }
        ShapeKind::Cuboid { half_extents: h } => 8.0 * h.x * h.y * h.z,
        ShapeKind::Ball { radius } => 4.0 / 3.0 * PI * radius.powi(3),
        ShapeKind::Cylinder {
            half_height,
            radius,
        } => 2.0 * PI * radius * radius * half_height,
    }
}
