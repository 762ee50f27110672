//! Shapes of bodies: what collides (rapier colliders) and what the renderer draws.

use rapier3d::math::{Pose, Rotation, Vector};
use rapier3d::prelude::{ColliderBuilder, Group, InteractionGroups, InteractionTestMode};

/// An RGB colour for the renderer.
pub type Rgb = [u8; 3];

/// The geometry of a shape in its own frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShapeKind {
    /// A capsule: the segment `a → b` swept by a ball of `radius`.
    Capsule {
        /// First end point.
        a: Vector,
        /// Second end point.
        b: Vector,
        /// Radius.
        radius: f32,
    },
    /// A box with half extents along the frame's x, y, z axes.
    Cuboid {
        /// Half extents.
        half_extents: Vector,
    },
    /// A ball centred at the frame's origin.
    Ball {
        /// Radius.
        radius: f32,
    },
    /// A cylinder along the frame's **z** axis, centred at the origin.
    Cylinder {
        /// Half height (along z).
        half_height: f32,
        /// Radius.
        radius: f32,
    },
}

/// Which other bodies a shape collides with.
///
/// | role | collides with |
/// |---|---|
/// | `Arm` | objects, fixtures |
/// | `Object` | everything |
/// | `Ground` | objects |
/// | `Fixture` | arms, objects |
/// | `Visual` | nothing (drawn only) |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollisionRole {
    /// A link of an arm (links never touch the ground: planar arms hover above the table).
    Arm,
    /// A free or hinged object (block, puck, door…).
    Object,
    /// The ground plane or table top.
    Ground,
    /// Static scenery the arm may touch (walls, a socket).
    Fixture,
    /// Drawn but never collides (markers, decorations).
    Visual,
}

impl CollisionRole {
    /// The rapier interaction groups of this role.
    pub fn groups(self) -> InteractionGroups {
        const ARM: Group = Group::GROUP_1;
        const OBJECT: Group = Group::GROUP_2;
        const GROUND: Group = Group::GROUP_3;
        const FIXTURE: Group = Group::GROUP_4;
        let (member, filter) = match self {
            CollisionRole::Arm => (ARM, OBJECT.union(FIXTURE)),
            CollisionRole::Object => (OBJECT, ARM.union(OBJECT).union(GROUND).union(FIXTURE)),
            CollisionRole::Ground => (GROUND, OBJECT),
            CollisionRole::Fixture => (FIXTURE, ARM.union(OBJECT)),
            CollisionRole::Visual => (Group::NONE, Group::NONE),
        };
        InteractionGroups::new(member, filter, InteractionTestMode::And)
    }
}

/// A shape attached to a body: geometry, pose in the body's frame, colour, collision role and
/// surface friction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapeSpec {
    /// Geometry.
    pub kind: ShapeKind,
    /// Pose of the shape's frame in the body's frame.
    pub pose: Pose,
    /// Colour for the renderer.
    pub color: Rgb,
    /// Who it collides with.
    pub role: CollisionRole,
    /// Coulomb friction coefficient (rapier averages the two surfaces' coefficients).
    pub friction: f32,
}

impl ShapeSpec {
    /// A shape at the identity pose, colliding as `role`, friction 0.5.
    pub fn new(kind: ShapeKind, role: CollisionRole, color: Rgb) -> Self {
        ShapeSpec {
            kind,
            pose: Pose::IDENTITY,
            color,
            role,
            friction: 0.5,
        }
    }

    /// A capsule from `a` to `b`.
    pub fn capsule(a: Vector, b: Vector, radius: f32, role: CollisionRole, color: Rgb) -> Self {
        Self::new(ShapeKind::Capsule { a, b, radius }, role, color)
    }

    /// A box with half extents `h`, centred at `center`.
    pub fn cuboid(center: Vector, h: Vector, role: CollisionRole, color: Rgb) -> Self {
        Self::new(ShapeKind::Cuboid { half_extents: h }, role, color).at(center)
    }

    /// A ball of `radius` centred at `center`.
    pub fn ball(center: Vector, radius: f32, role: CollisionRole, color: Rgb) -> Self {
        Self::new(ShapeKind::Ball { radius }, role, color).at(center)
    }

    /// A cylinder along z, centred at `center`.
    pub fn cylinder(
        center: Vector,
        half_height: f32,
        radius: f32,
        role: CollisionRole,
        color: Rgb,
    ) -> Self {
        Self::new(
            ShapeKind::Cylinder {
                half_height,
                radius,
            },
            role,
            color,
        )
        .at(center)
    }

    /// Move the shape's frame to `center` (keeping its rotation).
    pub fn at(mut self, center: Vector) -> Self {
        self.pose.translation = center;
        self
    }

    /// Set the shape frame's rotation.
    pub fn rotated(mut self, rotation: Rotation) -> Self {
        self.pose.rotation = rotation;
        self
    }

    /// Set the friction coefficient.
    pub fn with_friction(mut self, friction: f32) -> Self {
        self.friction = friction;
        self
    }

    /// The rapier collider of this shape (density `density`; pose relative to the parent body).
    pub(crate) fn collider(&self, density: f32) -> ColliderBuilder {
        let builder = match self.kind {
            ShapeKind::Capsule { a, b, radius } => {
                ColliderBuilder::capsule_from_endpoints(a, b, radius).position(self.pose)
            }
            ShapeKind::Cuboid { half_extents: h } => {
                ColliderBuilder::cuboid(h.x, h.y, h.z).position(self.pose)
            }
            ShapeKind::Ball { radius } => ColliderBuilder::ball(radius).position(self.pose),
            ShapeKind::Cylinder {
                half_height,
                radius,
            } => {
                // rapier's cylinders lie along y; ours along z: rotate y onto z.
                let y_to_z = Rotation::from_rotation_arc(Vector::Y, Vector::Z);
                ColliderBuilder::cylinder(half_height, radius).position(Pose::from_parts(
                    self.pose.translation,
                    self.pose.rotation * y_to_z,
                ))
            }
        };
        builder
            .density(density)
            .friction(self.friction)
            .collision_groups(self.role.groups())
    }
}

/// Painting order of the renderer: all `Floor` shapes first, in the order they are listed, then
/// the `Body` shapes from far to near. A large floor sorted by the depth of its centre would
/// otherwise be painted over whatever stands on its far half.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Layer {
    /// The ground, a table top and flat markers lying on them.
    Floor,
    /// Everything else.
    #[default]
    Body,
}

/// A shape placed in the world, ready to draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacedShape {
    /// Geometry (in the frame given by `pose`).
    pub kind: ShapeKind,
    /// World pose of the shape's frame.
    pub pose: Pose,
    /// Colour.
    pub color: Rgb,
    /// Painting layer.
    pub layer: Layer,
}
