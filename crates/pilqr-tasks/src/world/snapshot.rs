//! Reset by snapshot: clone every state part of the rapier world once, restore with
//! `clone_from` (bit-identical, microseconds; docs/rapier-notes.md, "Reset and determinism").

use rapier3d::prelude::{
    BroadPhaseBvh, CCDSolver, ColliderSet, ImpulseJointSet, IslandManager, MultibodyJointSet,
    NarrowPhase, RigidBodySet, SoftBodySet,
};

use crate::world::{Arm, SimWorld};

/// The complete simulation state of a [`SimWorld`], including the arms' commanded torques.
#[derive(Clone)]
pub struct Snapshot {
    islands: IslandManager,
    broad_phase: BroadPhaseBvh,
    narrow_phase: NarrowPhase,
    bodies: RigidBodySet,
    colliders: ColliderSet,
    impulse_joints: ImpulseJointSet,
    multibody_joints: MultibodyJointSet,
    soft_bodies: SoftBodySet,
    ccd_solver: CCDSolver,
    arms: Vec<Arm>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("bodies", &self.bodies.len())
            .finish()
    }
}

impl SimWorld {
    /// Capture the whole simulation state.
    pub fn snapshot(&self) -> Snapshot {
        let p = &self.physics;
        Snapshot {
            islands: p.islands.clone(),
            broad_phase: p.broad_phase.clone(),
            narrow_phase: p.narrow_phase.clone(),
            bodies: p.bodies.clone(),
            colliders: p.colliders.clone(),
            impulse_joints: p.impulse_joints.clone(),
            multibody_joints: p.multibody_joints.clone(),
            soft_bodies: p.soft_bodies.clone(),
            ccd_solver: p.ccd_solver.clone(),
            arms: self.arms.clone(),
        }
    }

    /// Return exactly to `snapshot` (taken from this world, or from a world built identically).
    pub fn restore(&mut self, snapshot: &Snapshot) {
        let p = &mut self.physics;
        p.islands.clone_from(&snapshot.islands);
        p.broad_phase.clone_from(&snapshot.broad_phase);
        p.narrow_phase.clone_from(&snapshot.narrow_phase);
        p.bodies.clone_from(&snapshot.bodies);
        p.colliders.clone_from(&snapshot.colliders);
        p.impulse_joints.clone_from(&snapshot.impulse_joints);
        p.multibody_joints.clone_from(&snapshot.multibody_joints);
        p.soft_bodies.clone_from(&snapshot.soft_bodies);
        p.ccd_solver.clone_from(&snapshot.ccd_solver);
        self.arms.clone_from(&snapshot.arms);
    }
}

impl Clone for SimWorld {
    /// An independent copy (fresh pipeline, same state): for forking tasks.
    fn clone(&self) -> Self {
        let mut physics = rapier3d::prelude::PhysicsWorld::new();
        physics.gravity = self.physics.gravity;
        physics.integration_parameters = self.physics.integration_parameters;
        let mut w = SimWorld {
            physics,
            arms: self.arms.clone(),
            objects: self.objects.clone(),
            visuals: self.visuals.clone(),
            timing: self.timing(),
        };
        w.restore(&self.snapshot());
        w
    }
}
