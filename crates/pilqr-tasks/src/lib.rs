//! # pilqr-tasks
//!
//! Work in progress: the rapier3d task suite (point mass, reacher, gripper pusher, door opening,
//! hockey, power plug) implementing `pilqr_core::Task`, and a renderer (DESIGN.md §5).
