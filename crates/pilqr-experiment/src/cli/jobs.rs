//! `--jobs N` of `pilqr compare`, `pilqr resume` and `pilqr reproduce`: how many (method, seed)
//! jobs of a run train side by side. The results do not depend on it (every job owns its state
//! and random streams, and the metrics files are written in job order), so it is an option of
//! the command, not a setting of the experiment: it is not part of the run's `config.toml`, and
//! a run started with one value can be resumed with another.

use clap::Args;

use crate::run::job_pool::default_jobs;

/// The option shared by the commands that run several jobs.
#[derive(Debug, Clone, Default, Args)]
pub struct JobsArgs {
    /// Jobs (method, seed) to train side by side (default: the number of cores available).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
}

impl JobsArgs {
    /// The number of jobs side by side: the option's value, else one per available core.
    pub fn count(&self) -> usize {
        self.jobs.map_or_else(default_jobs, |n| n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command, run_with};
    use crate::run::metrics_log::files_without_times;
    use crate::task_registry::TaskRegistry;
    use crate::test_dir::TestDir;
    use clap::Parser;
    use std::path::Path;

    /// `pilqr compare -q --config CONFIG --out OUT --jobs JOBS`.
    fn compare(config: &Path, out: &Path, jobs: usize) {
        let cli = Cli::parse_from([
            "pilqr",
            "compare",
            "-q",
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            &jobs.to_string(),
        ]);
        run_with(cli, &TaskRegistry::builtin()).unwrap();
    }

    /// Run `config` with one job at a time and with `jobs` side by side: the metrics files
    /// (wall times aside) and every job's final checkpoint must be the same bytes.
    fn side_by_side_matches_one_at_a_time(label: &str, config: &str, jobs: usize) {
        let tmp = TestDir::new(label);
        let path = tmp.path().join("e.toml");
        std::fs::write(&path, config).unwrap();
        let (one, many) = (tmp.path().join("one"), tmp.path().join("many"));
        compare(&path, &one, 1);
        compare(&path, &many, jobs);
        let files = files_without_times(&one);
        // The CSV header and the JSON lines both have a row per (job, iteration, condition).
        assert!(files.len() > 10, "{files:?}");
        assert_eq!(files_without_times(&many), files);
        let checkpoints = |dir: &Path| {
            let mut files: Vec<_> = std::fs::read_dir(dir.join("checkpoints"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .map(|p| {
                    (
                        p.file_name().unwrap().to_owned(),
                        std::fs::read(&p).unwrap(),
                    )
                })
                .collect();
            files.sort();
            files
        };
        let saved = checkpoints(&one);
        assert!(saved.len() >= 2, "{} checkpoints", saved.len());
        assert!(checkpoints(&many) == saved, "checkpoints differ");
    }

    #[test]
    fn a_compare_gives_the_same_files_with_one_or_three_jobs_side_by_side() {
        let config = "name = \"jobs\"\ntask = \"point-mass\"\n\
                      conditions = [\"start-0\", \"start-1\"]\n\
                      methods = [\"pilqr\", \"lqr-flm\", \"pi2\"]\nseeds = [0, 1]\n\
                      iterations = 3\n[trajopt]\nsamples = 6\n";
        side_by_side_matches_one_at_a_time("jobs-trajopt", config, 3);
    }

    #[cfg(feature = "mdgps")]
    #[test]
    fn an_mdgps_compare_gives_the_same_files_with_one_or_two_jobs_side_by_side() {
        let config = "name = \"jobs-mdgps\"\ntask = \"point-mass\"\nalgorithm = \"mdgps\"\n\
                      methods = [\"mdgps-pilqr\", \"mdgps-lqr-flm\"]\n\
                      conditions = [\"start-0\", \"start-1\"]\ntest_conditions = [\"start-4\"]\n\
                      seeds = [3]\niterations = 2\n[mdgps]\nsamples = 4\n\
                      [mdgps.network]\nhidden = [16, 16]\n[mdgps.s_step]\niterations = 100\n";
        side_by_side_matches_one_at_a_time("jobs-mdgps", config, 2);
    }

    #[test]
    fn jobs_default_to_the_cores_and_zero_is_refused() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        let jobs = |cli: Cli| match cli.command {
            Command::Compare(a) => a.jobs.count(),
            Command::Resume(a) => a.jobs.count(),
            Command::Reproduce(a) => a.jobs.count(),
            other => panic!("parsed {other:?}"),
        };
        let compare = ["pilqr", "compare", "--config", "e.toml"];
        assert_eq!(jobs(parse(&compare).unwrap()), default_jobs());
        assert!(default_jobs() >= 1);
        assert_eq!(
            jobs(parse(&[&compare[..], &["--jobs", "3"]].concat()).unwrap()),
            3
        );
        assert_eq!(
            jobs(parse(&["pilqr", "resume", "runs/x", "-j", "2"]).unwrap()),
            2
        );
        assert_eq!(
            jobs(parse(&["pilqr", "reproduce", "--jobs", "1"]).unwrap()),
            1
        );
        for bad in ["0", "-1", "two"] {
            assert!(
                parse(&[&compare[..], &["--jobs", bad]].concat()).is_err(),
                "{bad}"
            );
        }
    }
}
