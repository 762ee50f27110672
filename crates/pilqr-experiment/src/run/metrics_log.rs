//! Per-iteration metrics of a run, appended to `metrics.csv` and `metrics.jsonl`.
//!
//! One [`MetricsRow`] per (method, seed, iteration, condition). The JSON-lines file is the record
//! the tool reads back (plots, summaries, resume); the CSV holds the same rows for spreadsheets
//! and is regenerated from the JSON lines whenever rows are dropped. On resume, rows of
//! iterations after the checkpoint (written by the interrupted process after its last checkpoint)
//! and a half-written last line are dropped, so the resumed log equals an uninterrupted one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::ops::AddAssign;
use std::path::{Path, PathBuf};

use pilqr_core::Split;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Wall time of one iteration split by where it went, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSplit {
    /// Rolling out samples (simulation or robot).
    pub physics: f64,
    /// Evaluating costs and building the cost model.
    pub cost: f64,
    /// Fitting dynamics (GMM prior and regression).
    pub dynamics: f64,
    /// The controller update (LQR-FLM / PI2 / PILQR).
    pub update: f64,
    /// Neural-network training and linearisation (MDGPS).
    pub nn: f64,
}

impl TimeSplit {
    /// Everything.
    pub fn total(&self) -> f64 {
        self.physics + self.cost + self.dynamics + self.update + self.nn
    }

    /// Everything that is not physics, as a fraction of the physics time (0 when no physics).
    pub fn overhead_ratio(&self) -> f64 {
        if self.physics > 0.0 {
            (self.total() - self.physics) / self.physics
        } else {
            0.0
        }
    }
}

impl AddAssign for TimeSplit {
    fn add_assign(&mut self, o: TimeSplit) {
        self.physics += o.physics;
        self.cost += o.cost;
        self.dynamics += o.dynamics;
        self.update += o.update;
        self.nn += o.nn;
    }
}

fn train_split() -> Split {
    Split::Train
}

/// The metrics of one condition after one iteration of one method.
///
/// Quantities a method does not have (PI2 has no KL-constrained η from LQR, LQR-FLM has no
/// residual ratio) are `None`, written as an empty CSV cell and a JSON `null`. A JSON line has
/// the keys of the CSV columns ([`CSV_COLUMNS`]); lines of older runs, with the times nested
/// under `time` and the success metric under `metric`, are read too.
///
/// Rows of `split = test` (MDGPS) describe the global policy on a held-out condition: its
/// noise-free rollout's cost (`mean_cost`, `std_cost` 0), success and success metric; the
/// optimiser's columns are empty there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "RowRecord", into = "RowRecord")]
pub struct MetricsRow {
    /// Method name (`pilqr`, `lqr-flm`, `pi2`…).
    pub method: String,
    /// Run seed.
    pub seed: u64,
    /// Iteration, from 0.
    pub iteration: usize,
    /// Condition index.
    pub condition: usize,
    /// Condition name.
    pub condition_name: String,
    /// Samples of this condition used so far (including this iteration's).
    pub samples: usize,
    /// Mean total cost of this iteration's samples.
    pub mean_cost: f64,
    /// Standard deviation of the samples' total costs.
    pub std_cost: f64,
    /// Fraction of this iteration's samples that succeeded.
    pub success_rate: f64,
    /// KL divergence between the new and the previous controller (summed over time).
    pub kl: Option<f64>,
    /// The LQR dual variable η (mean over time steps in per-step mode).
    pub eta: Option<f64>,
    /// Step multiplier (mean over time steps when it varies with t).
    pub step_mult: Option<f64>,
    /// Ratio of summed |residual cost| to summed |cost| (PILQR).
    pub residual_ratio: Option<f64>,
    /// Where this iteration's time went, seconds (this condition's share).
    pub time: TimeSplit,
    /// `train` for a condition trained on, `test` for a held-out one (MDGPS).
    pub split: Split,
    /// The task's success metric of the evaluated rollout (e.g. final distance to the target);
    /// the `success_metric` column.
    pub metric: Option<f64>,
}

/// A metrics row as a JSON line stores it: the CSV's columns, plus the keys of older runs.
#[derive(Serialize, Deserialize)]
struct RowRecord {
    method: String,
    seed: u64,
    iteration: usize,
    condition: usize,
    condition_name: String,
    samples: usize,
    mean_cost: f64,
    std_cost: f64,
    success_rate: f64,
    kl: Option<f64>,
    eta: Option<f64>,
    step_mult: Option<f64>,
    residual_ratio: Option<f64>,
    #[serde(default)]
    time_physics: f64,
    #[serde(default)]
    time_cost: f64,
    #[serde(default)]
    time_dynamics: f64,
    #[serde(default)]
    time_update: f64,
    #[serde(default)]
    time_nn: f64,
    /// Written for readers of the file; recomputed from the parts when read.
    #[serde(default)]
    time_total: f64,
    #[serde(default = "train_split")]
    split: Split,
    #[serde(default, alias = "metric")]
    success_metric: Option<f64>,
    /// Older runs: the times as one object.
    #[serde(default, skip_serializing)]
    time: Option<TimeSplit>,
}

impl From<RowRecord> for MetricsRow {
    fn from(r: RowRecord) -> Self {
        let time = r.time.unwrap_or(TimeSplit {
            physics: r.time_physics,
            cost: r.time_cost,
            dynamics: r.time_dynamics,
            update: r.time_update,
            nn: r.time_nn,
        });
        MetricsRow {
            method: r.method,
            seed: r.seed,
            iteration: r.iteration,
            condition: r.condition,
            condition_name: r.condition_name,
            samples: r.samples,
            mean_cost: r.mean_cost,
            std_cost: r.std_cost,
            success_rate: r.success_rate,
            kl: r.kl,
            eta: r.eta,
            step_mult: r.step_mult,
            residual_ratio: r.residual_ratio,
            time,
            split: r.split,
            metric: r.success_metric,
        }
    }
}

impl From<MetricsRow> for RowRecord {
    fn from(r: MetricsRow) -> Self {
        RowRecord {
            time_physics: r.time.physics,
            time_cost: r.time.cost,
            time_dynamics: r.time.dynamics,
            time_update: r.time.update,
            time_nn: r.time.nn,
            time_total: r.time.total(),
            method: r.method,
            seed: r.seed,
            iteration: r.iteration,
            condition: r.condition,
            condition_name: r.condition_name,
            samples: r.samples,
            mean_cost: r.mean_cost,
            std_cost: r.std_cost,
            success_rate: r.success_rate,
            kl: r.kl,
            eta: r.eta,
            step_mult: r.step_mult,
            residual_ratio: r.residual_ratio,
            split: r.split,
            success_metric: r.metric,
            time: None,
        }
    }
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 21] = [
    "method",
    "seed",
    "iteration",
    "condition",
    "condition_name",
    "samples",
    "mean_cost",
    "std_cost",
    "success_rate",
    "kl",
    "eta",
    "step_mult",
    "residual_ratio",
    "time_physics",
    "time_cost",
    "time_dynamics",
    "time_update",
    "time_nn",
    "time_total",
    "split",
    "success_metric",
];

fn csv_text(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// `train` or `test`.
pub fn split_name(split: Split) -> &'static str {
    match split {
        Split::Train => "train",
        Split::Test => "test",
    }
}

impl MetricsRow {
    /// The row as one CSV line (no newline), columns as in [`CSV_COLUMNS`].
    pub fn csv_line(&self) -> String {
        let t = &self.time;
        [
            csv_text(&self.method),
            self.seed.to_string(),
            self.iteration.to_string(),
            self.condition.to_string(),
            csv_text(&self.condition_name),
            self.samples.to_string(),
            self.mean_cost.to_string(),
            self.std_cost.to_string(),
            self.success_rate.to_string(),
            csv_opt(self.kl),
            csv_opt(self.eta),
            csv_opt(self.step_mult),
            csv_opt(self.residual_ratio),
            t.physics.to_string(),
            t.cost.to_string(),
            t.dynamics.to_string(),
            t.update.to_string(),
            t.nn.to_string(),
            t.total().to_string(),
            split_name(self.split).to_string(),
            csv_opt(self.metric),
        ]
        .join(",")
    }

    /// The row without its wall times: what must be identical between a resumed run and an
    /// uninterrupted one.
    pub fn without_times(&self) -> MetricsRow {
        MetricsRow {
            time: TimeSplit::default(),
            ..self.clone()
        }
    }
}

/// What can go wrong with the metrics files.
#[derive(Debug, Error)]
pub enum MetricsError {
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A complete line of the JSON-lines file does not parse.
    #[error("{}:{line}: not a metrics row: {message}", path.display())]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The parser's message.
        message: String,
    },
}

/// The pair of metrics files of a run directory.
#[derive(Debug, Clone)]
pub struct MetricsLog {
    csv: PathBuf,
    jsonl: PathBuf,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> MetricsError + '_ {
    move |source| MetricsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl MetricsLog {
    /// The files `metrics.csv` and `metrics.jsonl` in `dir` (nothing is touched yet).
    pub fn in_dir(dir: &Path) -> Self {
        MetricsLog {
            csv: dir.join("metrics.csv"),
            jsonl: dir.join("metrics.jsonl"),
        }
    }

    /// Path of the CSV file.
    pub fn csv_path(&self) -> &Path {
        &self.csv
    }

    /// Path of the JSON-lines file.
    pub fn jsonl_path(&self) -> &Path {
        &self.jsonl
    }

    /// Start empty files (the CSV with its header), replacing any.
    pub fn create(&self) -> Result<(), MetricsError> {
        self.rewrite(&[])
    }

    /// Append rows to both files and flush them.
    pub fn append(&self, rows: &[MetricsRow]) -> Result<(), MetricsError> {
        let open = |p: &Path| {
            OpenOptions::new()
                .append(true)
                .create(true)
                .open(p)
                .map_err(io_err(p))
        };
        let mut csv = BufWriter::new(open(&self.csv)?);
        let mut jsonl = BufWriter::new(open(&self.jsonl)?);
        for row in rows {
            writeln!(csv, "{}", row.csv_line()).map_err(io_err(&self.csv))?;
            let line = serde_json::to_string(row).map_err(|e| MetricsError::Io {
                path: self.jsonl.clone(),
                source: io::Error::other(e),
            })?;
            writeln!(jsonl, "{line}").map_err(io_err(&self.jsonl))?;
        }
        csv.flush().map_err(io_err(&self.csv))?;
        jsonl.flush().map_err(io_err(&self.jsonl))?;
        Ok(())
    }

    /// All rows of the JSON-lines file. A last line without its newline (an interrupted write)
    /// is ignored; any other unparsable line is an error. A missing file has no rows.
    pub fn read(&self) -> Result<Vec<MetricsRow>, MetricsError> {
        read_jsonl(&self.jsonl)
    }

    /// Keep only the rows for which `keep` holds, rewriting both files (each through a
    /// temporary file and a rename). Returns the rows kept.
    pub fn retain(
        &self,
        keep: impl Fn(&MetricsRow) -> bool,
    ) -> Result<Vec<MetricsRow>, MetricsError> {
        let rows: Vec<MetricsRow> = self.read()?.into_iter().filter(|r| keep(r)).collect();
        self.rewrite(&rows)?;
        Ok(rows)
    }

    /// Put the rows in the order of `key` (a stable sort: rows with equal keys keep their
    /// order), rewriting both files as [`MetricsLog::retain`] does. Returns the rows.
    pub fn sort_by_key<K: Ord>(
        &self,
        key: impl FnMut(&MetricsRow) -> K,
    ) -> Result<Vec<MetricsRow>, MetricsError> {
        let mut rows = self.read()?;
        rows.sort_by_key(key);
        self.rewrite(&rows)?;
        Ok(rows)
    }

    fn rewrite(&self, rows: &[MetricsRow]) -> Result<(), MetricsError> {
        let mut csv = CSV_COLUMNS.join(",");
        csv.push('\n');
        let mut jsonl = String::new();
        for row in rows {
            csv.push_str(&row.csv_line());
            csv.push('\n');
            let line = serde_json::to_string(row).map_err(|e| MetricsError::Io {
                path: self.jsonl.clone(),
                source: io::Error::other(e),
            })?;
            jsonl.push_str(&line);
            jsonl.push('\n');
        }
        replace_file(&self.jsonl, jsonl.as_bytes())?;
        replace_file(&self.csv, csv.as_bytes())
    }
}

/// Read every complete row of a JSON-lines metrics file.
pub fn read_jsonl(path: &Path) -> Result<Vec<MetricsRow>, MetricsError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(path)(e)),
    };
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| MetricsError::BadLine {
                path: path.to_path_buf(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

/// Replace `path` with `bytes` through a temporary file in the same directory and a rename.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), MetricsError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io_err(path))
}

#[cfg(test)]
impl MetricsRow {
    /// A training row of a synthetic run for tests: mean cost `cost`, success rate 1 when the
    /// cost is below `success_below` (else 0), the given physics and dynamics times, no optional
    /// columns.
    pub(crate) fn synthetic(
        (method, seed, iteration, condition): (&str, u64, usize, usize),
        cost: f64,
        success_below: f64,
        (physics, dynamics): (f64, f64),
    ) -> Self {
        MetricsRow {
            method: method.into(),
            seed,
            iteration,
            condition,
            condition_name: format!("c{condition}"),
            samples: 10 * (iteration + 1),
            mean_cost: cost,
            std_cost: 0.0,
            success_rate: if cost < success_below { 1.0 } else { 0.0 },
            kl: None,
            eta: None,
            step_mult: None,
            residual_ratio: None,
            time: TimeSplit {
                physics,
                cost: 0.0,
                dynamics,
                update: 0.0,
                nn: 0.0,
            },
            split: pilqr_core::Split::Train,
            metric: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    fn row(method: &str, iteration: usize, condition: usize) -> MetricsRow {
        MetricsRow {
            method: method.into(),
            seed: 1,
            iteration,
            condition,
            condition_name: format!("c{condition}"),
            samples: 20 * (iteration + 1),
            mean_cost: 100.0 / (iteration + 1) as f64,
            std_cost: 1.25,
            success_rate: 0.5,
            kl: Some(0.3),
            eta: None,
            step_mult: Some(1.0),
            residual_ratio: None,
            time: TimeSplit {
                physics: 1.0,
                cost: 0.25,
                dynamics: 0.5,
                update: 0.125,
                nn: 0.0,
            },
            split: Split::Train,
            metric: Some(0.5),
        }
    }

    #[test]
    fn appends_and_reads_back_both_files() {
        let dir = TestDir::new("metrics-append");
        let log = MetricsLog::in_dir(dir.path());
        log.create().unwrap();
        let rows = vec![row("pilqr", 0, 0), row("pilqr", 0, 1)];
        log.append(&rows).unwrap();
        log.append(&[row("pilqr", 1, 0)]).unwrap();
        let back = log.read().unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[..2], rows[..]);
        let csv = fs::read_to_string(log.csv_path()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].split(',').count(), CSV_COLUMNS.len());
        assert_eq!(lines[1].split(',').count(), CSV_COLUMNS.len());
        // Absent values are empty cells; the total time is the sum of the split.
        let cells: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(cells[10], "");
        assert_eq!(cells[18], "1.875");
        assert_eq!((cells[19], cells[20]), ("train", "0.5"));
    }

    #[test]
    fn retain_drops_rows_and_a_partial_last_line() {
        let dir = TestDir::new("metrics-retain");
        let log = MetricsLog::in_dir(dir.path());
        log.create().unwrap();
        log.append(&[row("pi2", 0, 0), row("pi2", 1, 0), row("pi2", 2, 0)])
            .unwrap();
        let mut f = OpenOptions::new()
            .append(true)
            .open(log.jsonl_path())
            .unwrap();
        write!(f, "{{\"method\":\"pi2\",\"se").unwrap();
        drop(f);
        let kept = log.retain(|r| r.iteration < 2).unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!(log.read().unwrap(), kept);
        let csv = fs::read_to_string(log.csv_path()).unwrap();
        assert_eq!(csv.lines().count(), 3);
    }

    /// Resume parses the JSON lines and writes them back: every float must survive that exactly,
    /// or earlier rows change in their last digit.
    #[test]
    fn rewriting_the_rows_changes_no_byte() {
        let dir = TestDir::new("metrics-roundtrip");
        let log = MetricsLog::in_dir(dir.path());
        log.create().unwrap();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Finite doubles from subnormals to 2, either sign.
            f64::from_bits(x >> 2) * if x & 1 == 0 { 1.0 } else { -1.0 }
        };
        let rows: Vec<MetricsRow> = (0..400)
            .map(|i| {
                let mut r = row("pilqr", i, 0);
                r.mean_cost = next();
                r.std_cost = next();
                r.kl = Some(next());
                r.eta = Some(next());
                r.metric = Some(next());
                r.time.physics = next();
                r
            })
            .collect();
        log.append(&rows).unwrap();
        let jsonl = fs::read(log.jsonl_path()).unwrap();
        let csv = fs::read(log.csv_path()).unwrap();
        let kept = log.retain(|_| true).unwrap();
        assert_eq!(kept.len(), rows.len());
        assert!(
            fs::read(log.jsonl_path()).unwrap() == jsonl,
            "metrics.jsonl changed"
        );
        assert!(
            fs::read(log.csv_path()).unwrap() == csv,
            "metrics.csv changed"
        );
    }

    #[test]
    fn a_corrupt_complete_line_is_an_error_with_its_line() {
        let dir = TestDir::new("metrics-corrupt");
        let log = MetricsLog::in_dir(dir.path());
        log.create().unwrap();
        log.append(&[row("pi2", 0, 0)]).unwrap();
        let mut f = OpenOptions::new()
            .append(true)
            .open(log.jsonl_path())
            .unwrap();
        writeln!(f, "not json").unwrap();
        drop(f);
        match log.read().unwrap_err() {
            MetricsError::BadLine { line, .. } => assert_eq!(line, 2),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn json_lines_use_the_csv_columns_and_old_lines_still_load() {
        let r = row("pilqr", 2, 1);
        let line = serde_json::to_string(&r).unwrap();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut columns = CSV_COLUMNS.to_vec();
        columns.sort_unstable();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        assert_eq!(keys_sorted, columns);
        assert_eq!(serde_json::from_str::<MetricsRow>(&line).unwrap(), r);
        // A line as older runs wrote it.
        let old = r#"{"method":"pilqr","seed":1,"iteration":2,"condition":1,"condition_name":"c1","samples":60,"mean_cost":33.333333333333336,"std_cost":1.25,"success_rate":0.5,"kl":0.3,"eta":null,"step_mult":1.0,"residual_ratio":null,"time":{"physics":1.0,"cost":0.25,"dynamics":0.5,"update":0.125,"nn":0.0},"split":"train","metric":0.5}"#;
        assert_eq!(serde_json::from_str::<MetricsRow>(old).unwrap(), r);
        let older = old.replace(r#","split":"train","metric":0.5"#, "");
        let back: MetricsRow = serde_json::from_str(&older).unwrap();
        assert_eq!((back.split, back.metric), (Split::Train, None));
    }

    #[test]
    fn time_split_sums_and_ratios() {
        let mut t = row("x", 0, 0).time;
        t += t;
        assert_eq!(t.total(), 3.75);
        assert_eq!(t.overhead_ratio(), 0.875);
        assert_eq!(TimeSplit::default().overhead_ratio(), 0.0);
        let quoted = csv_text("a,\"b\"");
        assert_eq!(quoted, "\"a,\"\"b\"\"\"");
    }
}
