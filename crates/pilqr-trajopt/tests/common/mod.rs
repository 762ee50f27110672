//! Test tasks for the driver.

pub mod point_mass;
