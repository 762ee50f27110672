//! The closing summary of a run: a Markdown table per method of the final cost and success
//! rate (mean over seeds with its 95 % bootstrap interval, see [`crate::report::statistics`]), and where
//! the time went. Printed to the terminal and saved as `summary.md`.

use std::collections::BTreeMap;
use std::fmt::Write;

use pilqr_core::Split;

use crate::report::statistics::{Estimate, mean_estimate};
use crate::run::metrics_log::{MetricsRow, TimeSplit};

/// The final results of one method, over seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodSummary {
    /// Method name.
    pub method: String,
    /// Seeds that reached at least one iteration.
    pub seeds: usize,
    /// Iterations completed (the minimum over seeds).
    pub iterations: usize,
    /// Samples per condition used by the last iteration.
    pub samples: usize,
    /// Final mean cost, averaged over conditions and seeds.
    pub final_cost: f64,
    /// Standard deviation over seeds of the final cost (0 with one seed).
    pub final_cost_std: f64,
    /// Final success rate, averaged over conditions and seeds.
    pub final_success: f64,
    /// Final success rate per condition name, averaged over seeds.
    pub per_condition: Vec<(String, f64)>,
    /// Per seed, in increasing seed order: the final cost and success rate, each averaged over
    /// the training conditions (the values the means and intervals are taken over).
    pub per_seed: Vec<SeedResult>,
    /// MDGPS: the global policy on the held-out conditions at the final iteration.
    pub held_out: Option<HeldOut>,
    /// Total time over all iterations, seeds and conditions.
    pub time: TimeSplit,
}

/// One seed's final results, averaged over the training conditions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedResult {
    /// The run seed.
    pub seed: u64,
    /// Final mean cost.
    pub cost: f64,
    /// Final success rate.
    pub success: f64,
}

impl MethodSummary {
    /// `(seed, final cost)` per seed.
    pub fn seed_costs(&self) -> Vec<(u64, f64)> {
        self.per_seed.iter().map(|r| (r.seed, r.cost)).collect()
    }

    /// `(seed, final success rate)` per seed.
    pub fn seed_successes(&self) -> Vec<(u64, f64)> {
        self.per_seed.iter().map(|r| (r.seed, r.success)).collect()
    }

    /// The final cost's mean over seeds with its 95 % interval.
    pub fn cost_estimate(&self) -> Estimate {
        mean_estimate(&self.per_seed.iter().map(|r| r.cost).collect::<Vec<_>>())
    }

    /// The final success rate's mean over seeds with its 95 % interval.
    pub fn success_estimate(&self) -> Estimate {
        mean_estimate(&self.per_seed.iter().map(|r| r.success).collect::<Vec<_>>())
    }
}

/// The global policy's results on the held-out conditions, averaged over them and the seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldOut {
    /// Success rate.
    pub success: f64,
    /// Mean success metric (e.g. final distance to the target; NaN when the task has none).
    pub metric: f64,
}

/// The held-out results of `rows` (one method) at `iteration`.
fn held_out(rows: &[&MetricsRow], iteration: usize) -> Option<HeldOut> {
    let last: Vec<&&MetricsRow> = rows
        .iter()
        .filter(|r| r.split == Split::Test && r.iteration == iteration)
        .collect();
    if last.is_empty() {
        return None;
    }
    let n = last.len() as f64;
    let metrics: Vec<f64> = last.iter().filter_map(|r| r.metric).collect();
    Some(HeldOut {
        success: last.iter().map(|r| r.success_rate).sum::<f64>() / n,
        metric: if metrics.is_empty() {
            f64::NAN
        } else {
            metrics.iter().sum::<f64>() / metrics.len() as f64
        },
    })
}

/// Summarise metrics rows by method (methods in order of first appearance).
pub fn summarise(rows: &[MetricsRow]) -> Vec<MethodSummary> {
    let mut order: Vec<&str> = Vec::new();
    for r in rows {
        if !order.contains(&r.method.as_str()) {
            order.push(&r.method);
        }
    }
    order
        .into_iter()
        .map(|method| {
            let mine: Vec<&MetricsRow> = rows.iter().filter(|r| r.method == method).collect();
            let mut time = TimeSplit::default();
            let mut last_iter: BTreeMap<u64, usize> = BTreeMap::new();
            for r in &mine {
                time += r.time;
                let e = last_iter.entry(r.seed).or_insert(r.iteration);
                *e = (*e).max(r.iteration);
            }
            // Compare seeds at the same iteration: the last one every seed reached.
            let final_it = last_iter.values().copied().min().unwrap_or(0);
            let last: Vec<&&MetricsRow> = mine
                .iter()
                .filter(|r| r.iteration == final_it && r.split == Split::Train)
                .collect();
            let mut per_seed: BTreeMap<u64, (f64, f64, usize)> = BTreeMap::new();
            let mut per_cond: BTreeMap<(usize, &str), (f64, usize)> = BTreeMap::new();
            let mut samples = 0;
            for r in &last {
                let e = per_seed.entry(r.seed).or_default();
                e.0 += r.mean_cost;
                e.1 += r.success_rate;
                e.2 += 1;
                let c = per_cond
                    .entry((r.condition, &r.condition_name))
                    .or_default();
                c.0 += r.success_rate;
                c.1 += 1;
                samples = samples.max(r.samples);
            }
            let seeds: Vec<SeedResult> = per_seed
                .iter()
                .map(|(&seed, &(c, s, n))| SeedResult {
                    seed,
                    cost: c / n as f64,
                    success: s / n as f64,
                })
                .collect();
            let costs: Vec<f64> = seeds.iter().map(|r| r.cost).collect();
            let successes: Vec<f64> = seeds.iter().map(|r| r.success).collect();
            let (final_cost, final_cost_std) = mean_std(&costs);
            MethodSummary {
                method: method.to_string(),
                seeds: per_seed.len(),
                iterations: final_it + 1,
                samples,
                final_cost,
                final_cost_std,
                final_success: mean_std(&successes).0,
                per_condition: per_cond
                    .into_iter()
                    .map(|((_, name), (s, n))| (name.to_string(), s / n as f64))
                    .collect(),
                per_seed: seeds,
                held_out: held_out(&mine, final_it),
                time,
            }
        })
        .collect()
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64;
    (m, var.sqrt())
}

/// Whether the time table's "non-physics / physics" ratio means anything: only when the
/// task's rollouts run a physics engine or a robot (see `Task::has_physics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollouts {
    /// A physics engine or a robot: the ratio is printed.
    Physics,
    /// Closed-form dynamics: the ratio column shows "—".
    ClosedForm,
}

impl Rollouts {
    /// From `Task::has_physics`.
    pub fn of(has_physics: bool) -> Self {
        if has_physics {
            Rollouts::Physics
        } else {
            Rollouts::ClosedForm
        }
    }
}

/// `mean [lo, hi]` with `f` formatting each number; "(n = 1, no interval)" without one.
pub fn format_estimate(e: &Estimate, f: impl Fn(f64) -> String) -> String {
    match e.interval {
        Some(i) => format!("{} [{}, {}]", f(e.mean), f(i.lo), f(i.hi)),
        None if e.n < 2 => format!("{} (n = {}, no interval)", f(e.mean), e.n),
        None => format!("{} (no interval: a value is not finite)", f(e.mean)),
    }
}

/// A cost to three decimals.
pub fn cost_text(v: f64) -> String {
    format!("{v:.3}")
}

/// A rate in [0, 1] as a whole percentage.
pub fn percent_text(v: f64) -> String {
    format!("{:.0}%", 100.0 * v)
}

/// The summaries as Markdown: a results table (final cost and success rate as mean over seeds
/// [95 % bootstrap interval]) and a time-breakdown table.
pub fn markdown(summaries: &[MethodSummary], rollouts: Rollouts) -> String {
    let mut s = String::new();
    let held = summaries.iter().any(|m| m.held_out.is_some());
    let _ = writeln!(
        s,
        "| method | seeds | iterations | samples/cond | final cost, mean [95% CI] | final success, mean [95% CI] | success per condition |{}",
        if held {
            " held-out success | held-out metric |"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "|---|---|---|---|---|---|---|{}",
        if held { "---|---|" } else { "" }
    );
    for m in summaries {
        let per = m
            .per_condition
            .iter()
            .map(|(n, v)| format!("{n}: {:.0}%", 100.0 * v))
            .collect::<Vec<_>>()
            .join(", ");
        let extra = match (held, m.held_out) {
            (false, _) => String::new(),
            (true, None) => " – | – |".to_string(),
            (true, Some(h)) => format!(" {:.0}% | {:.4} |", 100.0 * h.success, h.metric),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |{extra}",
            m.method,
            m.seeds,
            m.iterations,
            m.samples,
            format_estimate(&m.cost_estimate(), cost_text),
            format_estimate(&m.success_estimate(), percent_text),
            per
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| method | physics s | cost s | dynamics s | update s | NN s | non-physics / physics |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    for m in summaries {
        let t = &m.time;
        let ratio = match rollouts {
            Rollouts::Physics => format!("{:.1}%", 100.0 * t.overhead_ratio()),
            Rollouts::ClosedForm => "—".to_string(),
        };
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {ratio} |",
            m.method, t.physics, t.cost, t.dynamics, t.update, t.nn,
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: &str, seed: u64, iteration: usize, condition: usize, cost: f64) -> MetricsRow {
        MetricsRow::synthetic((method, seed, iteration, condition), cost, 1.0, (1.0, 0.25))
    }

    #[test]
    fn summarises_the_last_common_iteration() {
        let rows = vec![
            row("pilqr", 0, 0, 0, 5.0),
            row("pilqr", 0, 0, 1, 5.0),
            row("pilqr", 0, 1, 0, 0.5),
            row("pilqr", 0, 1, 1, 2.5),
            row("pilqr", 1, 0, 0, 4.0),
            row("pilqr", 1, 0, 1, 4.0),
            row("pilqr", 1, 1, 0, 0.5),
            row("pilqr", 1, 1, 1, 0.5),
            // A seed that stopped early pulls the comparison back to iteration 0.
            row("pi2", 0, 0, 0, 3.0),
            row("pi2", 0, 1, 0, 2.0),
            row("pi2", 1, 0, 0, 1.0),
        ];
        let s = summarise(&rows);
        assert_eq!(s.len(), 2);
        let p = &s[0];
        assert_eq!((p.seeds, p.iterations, p.samples), (2, 2, 20));
        assert_eq!(p.final_cost, 1.0); // seed 0: 1.5, seed 1: 0.5
        assert_eq!(p.final_cost_std, 0.5);
        assert_eq!(p.final_success, 0.75);
        assert_eq!(
            p.per_condition,
            vec![("c0".into(), 1.0), ("c1".into(), 0.5)]
        );
        assert_eq!(p.time.physics, 8.0);
        let q = &s[1];
        assert_eq!((q.iterations, q.final_cost), (1, 2.0));
        let md = markdown(&s, Rollouts::Physics);
        // Two seeds: the resample means are 1.5, 1.0 or 0.5 (and 0.5, 0.75 or 1.0 for success),
        // so the 95 % interval spans the two seeds.
        assert!(
            md.contains(
                "| pilqr | 2 | 2 | 20 | 1.000 [0.500, 1.500] | 75% [50%, 100%] | c0: 100%, c1: 50% |"
            ),
            "{md}"
        );
        assert!(md.contains("| pilqr | 8.00 | 0.00 | 2.00 | 0.00 | 0.00 | 25.0% |"));
        // pi2 ran one seed to iteration 1 and one to 0: both count, at iteration 0.
        assert!(
            md.contains("| pi2 | 2 | 1 | 10 | 2.000 [1.000, 3.000] |"),
            "{md}"
        );
        assert!(!md.contains("held-out"));
    }

    #[test]
    fn held_out_rows_get_their_own_columns() {
        let mut rows = vec![
            row("mdgps-pilqr", 0, 0, 0, 2.0),
            row("mdgps-pilqr", 0, 1, 0, 0.5),
        ];
        for (it, d) in [(0, 0.3), (1, 0.01)] {
            let mut t = row("mdgps-pilqr", 0, it, 5, 0.2);
            t.split = Split::Test;
            t.success_rate = if d < 0.03 { 1.0 } else { 0.0 };
            t.metric = Some(d);
            rows.push(t);
        }
        let s = summarise(&rows);
        assert_eq!(s[0].final_cost, 0.5); // held-out rows are not training costs
        assert_eq!(
            s[0].held_out,
            Some(HeldOut {
                success: 1.0,
                metric: 0.01
            })
        );
        let md = markdown(&s, Rollouts::Physics);
        assert!(md.contains("| 100% | 0.0100 |"), "{md}");
        assert!(md.contains("| 0.500 (n = 1, no interval) | 100% (n = 1, no interval) |"));
    }

    #[test]
    fn the_time_ratio_is_a_dash_without_physics() {
        // A closed-form task spends microseconds in its rollouts; the ratio against them
        // printed as "53811 %" before. It must be a dash, and only there.
        let mut rows = vec![row("pilqr", 0, 0, 0, 2.0)];
        rows[0].time = TimeSplit {
            physics: 1e-4,
            cost: 0.0,
            dynamics: 0.05,
            update: 0.0,
            nn: 0.0,
        };
        let s = summarise(&rows);
        let closed = markdown(&s, Rollouts::of(false));
        assert!(
            closed.contains("| pilqr | 0.00 | 0.00 | 0.05 | 0.00 | 0.00 | — |"),
            "{closed}"
        );
        let physics = markdown(&s, Rollouts::of(true));
        assert!(physics.contains("| 50000.0% |"), "{physics}");
    }
}
