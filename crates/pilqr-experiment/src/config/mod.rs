//! What to run: experiment files and their checks, the methods by name, the `[mdgps]` settings,
//! memory estimates made before anything is allocated, and the plan of `pilqr reproduce`.

pub mod config_file;
pub mod experiment;
pub mod experiment_check;
#[cfg(not(feature = "mdgps"))]
pub mod local_method;
#[cfg(feature = "mdgps")]
pub mod mdgps_settings;
pub mod memory_estimate;
pub mod method;
pub mod reproduce_plan;
pub mod setting_override;
