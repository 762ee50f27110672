//! What every command that works on a run needs: the experiment, its task, the run directory,
//! the jobs and the fingerprint of the resolved config; and the saved state of a job, whichever
//! family of methods made it.

use std::path::{Path, PathBuf};

use pilqr_core::{LinearGaussianPolicy, Policy, Task};
#[cfg(feature = "mdgps")]
use pilqr_mdgps::{MeanAction, NnPolicy};

use crate::config::experiment::{Experiment, ExperimentFile, RunConditions};
use crate::config::method::{Family, Method};
use crate::error::CliError;
use crate::run::checksum::crc32;
use crate::run::evaluation::MeanPolicy;
#[cfg(feature = "mdgps")]
use crate::run::mdgps_trainer::MdgpsTrainer;
use crate::run::provenance::original_config_crc32;
use crate::run::run_dir::RunDir;
use crate::run::runner::{Job, Trainer, load_controller, load_job};
use crate::run::trajopt_trainer::TrajOptTrainer;
use crate::task_registry::TaskRegistry;

/// The task an experiment names, from `registry`; an unknown name (or a constructor that
/// fails) is an error on the `task` field.
pub fn open_task(
    file: &ExperimentFile,
    registry: &TaskRegistry,
) -> Result<Box<dyn Task>, CliError> {
    registry
        .task(&file.experiment.task)
        .map_err(|e| file.invalid("task", e.to_string()).into())
}

/// A run: its directory, resolved experiment, conditions and jobs.
pub struct Session {
    /// The run directory.
    pub dir: RunDir,
    /// The resolved experiment (the directory's `config.toml`).
    pub file: ExperimentFile,
    /// Conditions trained on and held out.
    pub conditions: RunConditions,
    /// (method, seed) pairs, methods outermost.
    pub jobs: Vec<Job>,
    /// The fingerprint of the resolved config ([`config_digest`]), stored in every checkpoint.
    pub digest: u32,
    /// Whether the checkpoints carry the fingerprint of runs made before `resume --iterations`
    /// existed (the CRC-32 of `config.toml`'s whole text, iteration count included).
    pub legacy_digest: bool,
    /// Where the run's task is built from.
    pub registry: TaskRegistry,
}

/// The fingerprint of a run's resolved experiment that its checkpoints and controller files
/// carry: the CRC-32 of the experiment as TOML with the iteration count left out. No iteration
/// depends on how many follow it, so `pilqr resume DIR --iterations N` changes the count without
/// invalidating the files; any other change to the config is detected.
pub fn config_digest(file: &ExperimentFile) -> Result<u32, CliError> {
    let e = Experiment {
        iterations: 0,
        ..file.experiment.clone()
    };
    let text = e.to_toml().map_err(|err| CliError::Run {
        context: file.path.display().to_string(),
        message: format!("cannot write the config as TOML: {err}"),
    })?;
    Ok(crc32(text.as_bytes()))
}

/// Every (method, seed) pair, methods outermost.
pub fn jobs(methods: &[Method], seeds: &[u64]) -> Vec<Job> {
    methods
        .iter()
        .flat_map(|&method| seeds.iter().map(move |&seed| Job { method, seed }))
        .collect()
}

/// The saved controller of one job (after its last iteration, or after a chosen one).
pub enum JobState {
    /// Local controllers (trajectory optimisation), one per trained condition.
    Local(Vec<LinearGaussianPolicy>),
    /// A global policy (MDGPS).
    #[cfg(feature = "mdgps")]
    Global(Box<NnPolicy>),
}

impl JobState {
    /// The noise-free behaviour of the job on `condition`: the local controller's mean (trained
    /// conditions only) or the network's mean action (any condition). `None` when the job has
    /// no policy for that condition.
    pub fn mean_policy<'a>(
        &'a self,
        conditions: &RunConditions,
        condition: usize,
    ) -> Option<Box<dyn Policy + 'a>> {
        match self {
            JobState::Local(s) => {
                let index = conditions.train.iter().position(|&c| c == condition)?;
                Some(Box::new(MeanPolicy(s.get(index)?)))
            }
            #[cfg(feature = "mdgps")]
            JobState::Global(s) => Some(Box::new(MeanAction(s.as_ref()))),
        }
    }

    /// The stochastic policy of the job on `condition` (the local controller, or the network
    /// with its covariance `Σ_π`); `None` as for [`JobState::mean_policy`].
    pub fn noisy_policy(
        &self,
        conditions: &RunConditions,
        condition: usize,
    ) -> Option<&dyn Policy> {
        match self {
            JobState::Local(s) => {
                let index = conditions.train.iter().position(|&c| c == condition)?;
                Some(s.get(index)?)
            }
            #[cfg(feature = "mdgps")]
            JobState::Global(s) => Some(s.as_ref()),
        }
    }
}

impl Session {
    /// Start a new run in `out` from a validated experiment: create the directory (refusing one
    /// that holds anything; with `force`, replacing a run it holds) and write the resolved
    /// config. Returns the session.
    // Each argument is a separate part of the new run, and the three callers have them all at
    // hand: a struct bundling them would only be built to be taken apart here.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        file: &ExperimentFile,
        task: &dyn Task,
        conditions: RunConditions,
        methods: &[Method],
        seeds: &[u64],
        out: &Path,
        force: bool,
        registry: &TaskRegistry,
    ) -> Result<Session, CliError> {
        let resolved = file.experiment.resolved(task, &conditions, methods, seeds);
        let text = resolved.to_toml().map_err(|e| CliError::Run {
            context: file.path.display().to_string(),
            message: format!("cannot write the resolved config: {e}"),
        })?;
        let dir = if force {
            RunDir::create_replacing(out)?
        } else {
            RunDir::create(out)?
        };
        dir.write_config(&text)?;
        let file = ExperimentFile::parse(&dir.config_path(), &text)?;
        Ok(Session {
            dir,
            digest: config_digest(&file)?,
            legacy_digest: false,
            jobs: jobs(methods, seeds),
            conditions,
            file,
            registry: registry.clone(),
        })
    }

    /// Open the run in `dir` and its task (built from `registry`), to read it.
    pub fn open(dir: &Path, registry: &TaskRegistry) -> Result<(Session, Box<dyn Task>), CliError> {
        Session::open_dir(RunDir::open(dir)?, registry)
    }

    /// Open the run in `dir` and its task, to write into it: the directory's lock is held for
    /// as long as the session lives.
    pub fn open_locked(
        dir: &Path,
        registry: &TaskRegistry,
    ) -> Result<(Session, Box<dyn Task>), CliError> {
        Session::open_dir(RunDir::open_locked(dir)?, registry)
    }

    fn open_dir(
        dir: RunDir,
        registry: &TaskRegistry,
    ) -> Result<(Session, Box<dyn Task>), CliError> {
        let text = dir.read_config()?;
        let file = ExperimentFile::parse(&dir.config_path(), &text)?;
        let task = open_task(&file, registry)?;
        let conditions = file.validate(task.as_ref())?;
        // A run created before the fingerprint left out the iteration count recorded the CRC-32
        // of its whole config.toml in its first provenance entry: its checkpoints carry that.
        let whole_text = crc32(text.as_bytes());
        let legacy_digest = original_config_crc32(&dir) == Some(whole_text);
        let digest = if legacy_digest {
            whole_text
        } else {
            config_digest(&file)?
        };
        let e = &file.experiment;
        let session = Session {
            jobs: jobs(&e.methods, &e.seeds),
            digest,
            legacy_digest,
            conditions,
            dir,
            file,
            registry: registry.clone(),
        };
        Ok((session, task))
    }

    /// Change the run's iteration count to `iterations` (for `resume --iterations`): rewrite
    /// `config.toml` with it, after checking it as a new run's config would be. The checkpoints
    /// stay valid (see [`config_digest`]).
    pub fn set_iterations(&mut self, iterations: usize) -> Result<(), CliError> {
        if self.legacy_digest {
            return Err(CliError::NotAvailable {
                command: "resume",
                missing: format!(
                    "{} was made by an older pilqr whose checkpoints fix the iteration count; it cannot be extended (start a new run with --iterations {iterations})",
                    self.dir.root().display()
                ),
            });
        }
        let e = Experiment {
            iterations,
            ..self.file.experiment.clone()
        };
        let text = e.to_toml().map_err(|err| CliError::Run {
            context: self.dir.config_path().display().to_string(),
            message: format!("cannot write the config as TOML: {err}"),
        })?;
        let file = ExperimentFile::parse(&self.dir.config_path(), &text)?;
        file.validate(self.new_task()?.as_ref())?;
        let digest = config_digest(&file)?;
        if digest != self.digest {
            return Err(CliError::Run {
                context: self.dir.config_path().display().to_string(),
                message: "changing the iteration count changed the config's fingerprint".into(),
            });
        }
        self.dir.write_config(&text)?;
        self.file = file;
        Ok(())
    }

    /// A new instance of the run's task.
    pub fn new_task(&self) -> Result<Box<dyn Task>, CliError> {
        open_task(&self.file, &self.registry)
    }

    /// Whether the run trains local controllers or a global policy.
    pub fn family(&self) -> Family {
        self.file.experiment.family()
    }

    /// The trajectory-optimisation trainer of this run, driving `task`.
    pub fn trajopt_trainer(&self, task: Box<dyn Task>) -> Result<TrajOptTrainer, CliError> {
        TrajOptTrainer::new(
            self.file.experiment.clone(),
            self.conditions.train.clone(),
            task,
        )
    }

    /// The MDGPS trainer of this run, driving `task`.
    #[cfg(feature = "mdgps")]
    pub fn mdgps_trainer(&self, task: Box<dyn Task>) -> Result<MdgpsTrainer, CliError> {
        MdgpsTrainer::new(self.file.experiment.clone(), self.conditions.clone(), task)
    }

    /// Conditions the run can be evaluated on: the trained ones, and for MDGPS the held-out
    /// ones.
    pub fn evaluable(&self) -> Vec<usize> {
        let mut all = self.conditions.train.clone();
        if self.family() == Family::Mdgps {
            all.extend(&self.conditions.test);
        }
        all
    }

    fn saved<T: Trainer>(&self, job: Job) -> Result<T::State, CliError> {
        load_job::<T>(&self.dir, job, self.digest)?.ok_or_else(|| CliError::Argument {
            argument: "DIR",
            message: format!(
                "{}: {} has no checkpoint yet (run `pilqr resume {}` first)",
                self.dir.root().display(),
                job.label(),
                self.dir.root().display()
            ),
        })
    }

    fn saved_controller<T: Trainer>(
        &self,
        job: Job,
        iteration: Option<usize>,
    ) -> Result<T::Controller, CliError> {
        let Some(k) = iteration else {
            return Ok(T::controller(&self.saved::<T>(job)?));
        };
        load_controller::<T>(&self.dir, job, self.digest, k)?.ok_or_else(|| {
            let saved = self.dir.saved_iterations(job.method.name(), job.seed);
            let have = match (saved.first(), saved.last()) {
                (Some(a), Some(b)) => format!("{a} to {b}"),
                _ => "none".to_string(),
            };
            CliError::Argument {
                argument: "--iteration",
                message: format!(
                    "{}: {} has no controller saved for iteration {k} (iterations count from 0, as in metrics.csv; saved: {have})",
                    self.dir.root().display(),
                    job.label(),
                ),
            }
        })
    }

    /// The controller of `job` after `iteration` (from 0), or after its last iteration when
    /// `None`; an error when there is none.
    pub fn state(&self, job: Job, iteration: Option<usize>) -> Result<JobState, CliError> {
        Ok(match job.method.family() {
            Family::Trajopt => {
                JobState::Local(self.saved_controller::<TrajOptTrainer>(job, iteration)?)
            }
            #[cfg(feature = "mdgps")]
            Family::Mdgps => JobState::Global(Box::new(
                self.saved_controller::<MdgpsTrainer>(job, iteration)?,
            )),
            // A build without MDGPS refuses an MDGPS run's config when it opens the run.
            #[cfg(not(feature = "mdgps"))]
            Family::Mdgps => {
                return Err(CliError::NotAvailable {
                    command: "eval",
                    missing: crate::config::experiment::NO_MDGPS.to_string(),
                });
            }
        })
    }

    /// The default run directory of an experiment: `runs/<name><suffix>`.
    pub fn default_dir(file: &ExperimentFile, suffix: &str) -> PathBuf {
        PathBuf::from("runs").join(format!("{}{suffix}", file.experiment.name))
    }
}
