//! Progress reporting: indicatif bars on a terminal, plain lines in CI logs, nothing with
//! `--quiet`; and the `tracing` subscriber behind `RUST_LOG`.
//!
//! Iterations are numbered from 0, as in `metrics.csv`; counts ("3/10 done") are counts.
//!
//! Two bars per job: iterations (with ETA) and the current iteration's rollouts. Jobs that run
//! side by side ([`RunProgress`]) share one set of lines on the terminal: the bars of each running
//! job, under a bar counting the run's finished jobs. When stdout is not a terminal the same
//! events become one plain line per finished iteration (each prefixed by its job), which reads
//! well in a CI log; `--quiet` silences both (errors still go to stderr).

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// Live bars (stdout is a terminal).
    Bars,
    /// One line per finished iteration.
    Plain,
    /// Nothing but errors and the final summary path.
    Quiet,
}

impl OutputMode {
    /// `Quiet` when asked; otherwise bars on a terminal and plain lines elsewhere.
    pub fn detect(quiet: bool) -> Self {
        if quiet {
            OutputMode::Quiet
        } else if std::io::stdout().is_terminal() {
            OutputMode::Bars
        } else {
            OutputMode::Plain
        }
    }
}

/// Install the `tracing` subscriber: logs to stderr, filtered by `RUST_LOG` (default `warn`;
/// `info` gives a line per iteration and per condition's update), with colours only when
/// stderr is a terminal (a log redirected to a file has no escape codes). Calling it twice is
/// harmless.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Lines written in plain mode, kept in memory for tests when a sink is attached.
type Sink = Arc<Mutex<Vec<String>>>;

/// The progress display of one run (one method and seed, or one evaluation).
pub struct Progress {
    mode: OutputMode,
    label: String,
    total_iterations: usize,
    multi: Option<MultiProgress>,
    iterations: Option<ProgressBar>,
    rollouts: Option<ProgressBar>,
    sink: Option<Sink>,
}

const ITER_TEMPLATE: &str =
    "{prefix:>16} [{bar:30.cyan/blue}] {pos}/{len} done {elapsed_precise} eta {eta} {msg}";
const ROLLOUT_TEMPLATE: &str = "{prefix:>16} [{bar:30.green/white}] rollouts {pos}/{len} {msg}";

fn style(template: &str) -> ProgressStyle {
    // The templates are constants; fall back to the default style rather than fail.
    ProgressStyle::with_template(template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

const JOBS_TEMPLATE: &str =
    "{prefix:>16} [{bar:30.yellow/white}] jobs {pos}/{len} done {elapsed_precise} {msg}";

/// The progress display of a run of several (method, seed) jobs, some of them side by side:
/// one [`Progress`] per running job, drawn together, and in bar mode a bar of finished jobs.
pub struct RunProgress {
    mode: OutputMode,
    multi: Option<MultiProgress>,
    jobs: Option<ProgressBar>,
}

impl RunProgress {
    /// The display of a run of `total_jobs` jobs (when resuming, the jobs finished already count
    /// as they are found so). The bar of finished jobs is shown only when there are several jobs.
    pub fn new(mode: OutputMode, total_jobs: usize) -> Self {
        let multi = (mode == OutputMode::Bars)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let jobs = multi.as_ref().filter(|_| total_jobs > 1).map(|m| {
            let bar = m.add(ProgressBar::new(total_jobs as u64));
            bar.set_style(style(JOBS_TEMPLATE));
            bar.set_prefix("run");
            bar
        });
        RunProgress { mode, multi, jobs }
    }

    /// The progress of one job, as [`Progress::new`], drawn with the other jobs' bars.
    pub fn job(&self, label: &str, total_iterations: usize, done: usize) -> Progress {
        Progress::in_display(self.mode, self.multi.clone(), label, total_iterations, done)
    }

    /// One more job finished.
    pub fn job_finished(&self) {
        if let Some(bar) = &self.jobs {
            bar.inc(1);
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.jobs {
            bar.finish_and_clear();
        }
    }
}

impl Progress {
    /// Progress for a run named `label` of `total_iterations`, starting after `done` iterations
    /// (non-zero when resuming).
    pub fn new(mode: OutputMode, label: &str, total_iterations: usize, done: usize) -> Self {
        let multi = (mode == OutputMode::Bars)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress::in_display(mode, multi, label, total_iterations, done)
    }

    /// As [`Progress::new`], the bars (in bar mode) added to `multi`.
    fn in_display(
        mode: OutputMode,
        multi: Option<MultiProgress>,
        label: &str,
        total_iterations: usize,
        done: usize,
    ) -> Self {
        let (multi, iterations, rollouts) = if let Some(multi) = multi {
            let it = multi.add(ProgressBar::new(total_iterations as u64));
            it.set_style(style(ITER_TEMPLATE));
            it.set_prefix(label.to_string());
            it.set_position(done as u64);
            let ro = multi.add(ProgressBar::new(0));
            ro.set_style(style(ROLLOUT_TEMPLATE));
            ro.set_prefix(String::new());
            (Some(multi), Some(it), Some(ro))
        } else {
            (None, None, None)
        };
        Progress {
            mode,
            label: label.to_string(),
            total_iterations,
            multi,
            iterations,
            rollouts,
            sink: None,
        }
    }

    /// Send plain-mode lines to memory instead of stdout (tests).
    #[cfg(test)]
    fn with_sink(mut self, sink: Sink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The mode in use.
    pub fn mode(&self) -> OutputMode {
        self.mode
    }

    /// A new iteration starts, which will roll out `rollouts` samples in total.
    pub fn start_iteration(&self, iteration: usize, rollouts: usize) {
        if let Some(ro) = &self.rollouts {
            ro.reset();
            ro.set_length(rollouts as u64);
            ro.set_message(format!("iteration {iteration}"));
        }
    }

    /// `n` more rollouts finished.
    pub fn rollouts_done(&self, n: usize) {
        if let Some(ro) = &self.rollouts {
            ro.inc(n as u64);
        }
    }

    /// Iteration `iteration` (0-based) finished; `summary` is a short description (cost,
    /// success) shown on the bar or printed as a plain line.
    pub fn finish_iteration(&self, iteration: usize, summary: &str) {
        match self.mode {
            OutputMode::Bars => {
                if let Some(it) = &self.iterations {
                    it.set_position((iteration + 1) as u64);
                    it.set_message(summary.to_string());
                }
            }
            OutputMode::Plain => self.emit(format!(
                "[{}] iteration {iteration} ({}/{} done): {}",
                self.label,
                iteration + 1,
                self.total_iterations,
                summary
            )),
            OutputMode::Quiet => {}
        }
    }

    /// Print a line without disturbing the bars (suppressed in quiet mode).
    pub fn println(&self, line: &str) {
        match (&self.multi, self.mode) {
            (_, OutputMode::Quiet) => {}
            (Some(m), _) => {
                if m.println(line).is_err() {
                    eprintln!("{line}");
                }
            }
            (None, _) => self.emit(line.to_string()),
        }
    }

    fn emit(&self, line: String) {
        match &self.sink {
            Some(s) => {
                if let Ok(mut v) = s.lock() {
                    v.push(line);
                }
            }
            None => println!("{line}"),
        }
    }

    /// Remove the bars at the end of the run.
    pub fn finish(&self) {
        for bar in [&self.rollouts, &self.iterations].into_iter().flatten() {
            bar.finish_and_clear();
            if let Some(m) = &self.multi {
                m.remove(bar);
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_mode_prints_one_line_per_iteration() {
        let sink: Sink = Arc::default();
        let p = Progress::new(OutputMode::Plain, "pilqr/seed0", 3, 0).with_sink(sink.clone());
        p.start_iteration(0, 20);
        p.rollouts_done(20);
        p.finish_iteration(0, "cost 12.5");
        p.println("done");
        let lines = sink.lock().unwrap().clone();
        assert_eq!(
            lines,
            vec!["[pilqr/seed0] iteration 0 (1/3 done): cost 12.5", "done"]
        );
    }

    #[test]
    fn quiet_mode_prints_nothing() {
        let sink: Sink = Arc::default();
        let p = Progress::new(OutputMode::Quiet, "x", 3, 1).with_sink(sink.clone());
        p.finish_iteration(1, "cost 1");
        p.println("hello");
        assert!(sink.lock().unwrap().is_empty());
        assert_eq!(OutputMode::detect(true), OutputMode::Quiet);
    }

    #[test]
    fn bars_track_positions() {
        let p = Progress::new(OutputMode::Bars, "x", 5, 2);
        // Draw to nowhere in tests.
        if let Some(m) = &p.multi {
            m.set_draw_target(ProgressDrawTarget::hidden());
        }
        assert_eq!(p.iterations.as_ref().map(|b| b.position()), Some(2));
        p.start_iteration(2, 8);
        p.rollouts_done(3);
        assert_eq!(p.rollouts.as_ref().map(|b| b.position()), Some(3));
        p.finish_iteration(2, "ok");
        assert_eq!(p.iterations.as_ref().map(|b| b.position()), Some(3));
    }

    #[test]
    fn jobs_side_by_side_share_one_display() {
        let run = RunProgress::new(OutputMode::Bars, 4);
        if let Some(m) = &run.multi {
            m.set_draw_target(ProgressDrawTarget::hidden());
        }
        let a = run.job("pilqr/seed0", 5, 0);
        let b = run.job("pilqr/seed1", 5, 2);
        for p in [&a, &b] {
            assert!(p.multi.is_some());
        }
        assert_eq!(b.iterations.as_ref().map(|b| b.position()), Some(2));
        run.job_finished();
        assert_eq!(run.jobs.as_ref().map(|b| b.position()), Some(1));
        // One job: no bar of jobs; no bars at all outside bar mode.
        assert!(RunProgress::new(OutputMode::Bars, 1).jobs.is_none());
        let plain = RunProgress::new(OutputMode::Plain, 4);
        assert!(plain.multi.is_none() && plain.jobs.is_none());
        assert!(plain.job("x", 3, 0).iterations.is_none());
    }
}
