//! What every command that works on a run needs: the experiment, its task, the run directory,
//! the jobs and the fingerprint of the resolved config.

use std::path::{Path, PathBuf};

use pilqr_core::Task;

use crate::checksum::crc32;
use crate::error::CliError;
use crate::experiment::ExperimentFile;
use crate::method::Method;
use crate::run_dir::RunDir;
use crate::runner::{Job, load_job};
use crate::trajopt_trainer::{TrajOptState, TrajOptTrainer};

/// The task an experiment names; an unknown name is an error on the `task` field.
pub fn open_task(file: &ExperimentFile) -> Result<Box<dyn Task>, CliError> {
    pilqr_tasks::task_by_name(&file.experiment.task)
        .map_err(|e| file.invalid("task", e.to_string()).into())
}

/// A run: its directory, resolved experiment, conditions and jobs.
pub struct Session {
    /// The run directory.
    pub dir: RunDir,
    /// The resolved experiment (the directory's `config.toml`).
    pub file: ExperimentFile,
    /// Condition indices trained on.
    pub conditions: Vec<usize>,
    /// (method, seed) pairs, methods outermost.
    pub jobs: Vec<Job>,
    /// CRC-32 of `config.toml`'s text, stored in every checkpoint.
    pub digest: u32,
}

/// Every (method, seed) pair, methods outermost.
pub fn jobs(methods: &[Method], seeds: &[u64]) -> Vec<Job> {
    methods
        .iter()
        .flat_map(|&method| seeds.iter().map(move |&seed| Job { method, seed }))
        .collect()
}

impl Session {
    /// Start a new run in `out` from a validated experiment: create the directory (refusing one
    /// that holds anything) and write the resolved config. Returns the session and the task.
    pub fn create(
        file: &ExperimentFile,
        task: &dyn Task,
        conditions: Vec<usize>,
        methods: &[Method],
        seeds: &[u64],
        out: &Path,
    ) -> Result<Session, CliError> {
        let resolved = file.experiment.resolved(task, &conditions, methods, seeds);
        let text = resolved.to_toml().map_err(|e| CliError::Run {
            context: file.path.display().to_string(),
            message: format!("cannot write the resolved config: {e}"),
        })?;
        let dir = RunDir::create(out)?;
        dir.write_config(&text)?;
        let file = ExperimentFile::parse(&dir.config_path(), &text)?;
        Ok(Session {
            dir,
            digest: crc32(text.as_bytes()),
            jobs: jobs(methods, seeds),
            conditions,
            file,
        })
    }

    /// Open the run in `dir` and its task.
    pub fn open(dir: &Path) -> Result<(Session, Box<dyn Task>), CliError> {
        let dir = RunDir::open(dir)?;
        let text = dir.read_config()?;
        let file = ExperimentFile::parse(&dir.config_path(), &text)?;
        let task = open_task(&file)?;
        let conditions = file.validate(task.as_ref())?;
        let e = &file.experiment;
        let session = Session {
            jobs: jobs(&e.methods, &e.seeds),
            digest: crc32(text.as_bytes()),
            conditions,
            dir,
            file,
        };
        Ok((session, task))
    }

    /// The trainer of this run, driving `task`.
    pub fn trainer(&self, task: Box<dyn Task>) -> Result<TrajOptTrainer, CliError> {
        TrajOptTrainer::new(self.file.experiment.clone(), self.conditions.clone(), task)
    }

    /// The saved state of `job`; an error when it has no checkpoint yet.
    pub fn state(&self, job: Job) -> Result<TrajOptState, CliError> {
        load_job::<TrajOptTrainer>(&self.dir, job, self.digest)?.ok_or_else(|| CliError::Argument {
            argument: "DIR",
            message: format!(
                "{}: {} has no checkpoint yet (run `pilqr resume {}` first)",
                self.dir.root().display(),
                job.label(),
                self.dir.root().display()
            ),
        })
    }

    /// The default run directory of an experiment: `runs/<name><suffix>`.
    pub fn default_dir(file: &ExperimentFile, suffix: &str) -> PathBuf {
        PathBuf::from("runs").join(format!("{}{suffix}", file.experiment.name))
    }
}
