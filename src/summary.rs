//! The closing summary of a run: a Markdown table per method of the final cost and success
//! rate, and where the time went. Printed to the terminal and saved as `summary.md`.

use std::collections::BTreeMap;
use std::fmt::Write;

use pilqr_core::Split;

use crate::metrics_log::{MetricsRow, TimeSplit};

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
    /// MDGPS: the global policy on the held-out conditions at the final iteration.
    pub held_out: Option<HeldOut>,
    /// Total time over all iterations, seeds and conditions.
    pub time: TimeSplit,
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
            let costs: Vec<f64> = per_seed.values().map(|&(c, _, n)| c / n as f64).collect();
            let successes: Vec<f64> = per_seed.values().map(|&(_, s, n)| s / n as f64).collect();
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

/// The summaries as Markdown: a results table and a time-breakdown table.
pub fn markdown(summaries: &[MethodSummary]) -> String {
    let mut s = String::new();
    let held = summaries.iter().any(|m| m.held_out.is_some());
    let _ = writeln!(
        s,
        "| method | seeds | iterations | samples/cond | final cost | final success | success per condition |{}",
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
        let cost = if m.seeds > 1 {
            format!("{:.3} ± {:.3}", m.final_cost, m.final_cost_std)
        } else {
            format!("{:.3}", m.final_cost)
        };
        let extra = match (held, m.held_out) {
            (false, _) => String::new(),
            (true, None) => " – | – |".to_string(),
            (true, Some(h)) => format!(" {:.0}% | {:.4} |", 100.0 * h.success, h.metric),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.0}% | {} |{extra}",
            m.method,
            m.seeds,
            m.iterations,
            m.samples,
            cost,
            100.0 * m.final_success,
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
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1}% |",
            m.method,
            t.physics,
            t.cost,
            t.dynamics,
            t.update,
            t.nn,
            100.0 * t.overhead_ratio()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: &str, seed: u64, iteration: usize, condition: usize, cost: f64) -> MetricsRow {
        MetricsRow {
            method: method.into(),
            seed,
            iteration,
            condition,
            condition_name: format!("c{condition}"),
            samples: 10 * (iteration + 1),
            mean_cost: cost,
            std_cost: 0.0,
            success_rate: if cost < 1.0 { 1.0 } else { 0.0 },
            kl: None,
            eta: None,
            step_mult: None,
            residual_ratio: None,
            time: TimeSplit {
                physics: 1.0,
                cost: 0.0,
                dynamics: 0.25,
                update: 0.0,
                nn: 0.0,
            },
            split: pilqr_core::Split::Train,
            metric: None,
        }
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
        let md = markdown(&s);
        assert!(md.contains("| pilqr | 2 | 2 | 20 | 1.000 ± 0.500 | 75% | c0: 100%, c1: 50% |"));
        assert!(md.contains("| pilqr | 8.00 | 0.00 | 2.00 | 0.00 | 0.00 | 25.0% |"));
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
        let md = markdown(&s);
        assert!(md.contains("| 100% | 0.0100 |"), "{md}");
    }
}
