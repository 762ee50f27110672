//! Running an experiment: the training loop, its pool of jobs side by side and its trainers,
//! checkpoints, the metrics log, the run directory with its lock and provenance, Ctrl-C
//! handling, progress output and evaluation.

pub mod checkpoint;
pub mod checksum;
pub mod evaluation;
pub mod interrupt;
pub mod job_pool;
#[cfg(feature = "mdgps")]
pub mod mdgps_trainer;
pub mod metrics_log;
pub mod progress;
pub mod provenance;
pub mod run_dir;
pub mod run_lock;
pub mod runner;
pub mod trajopt_trainer;
