//! What a results-page row's data support: for each pair of methods the difference of their
//! mean final cost and success rate with its 95 % bootstrap interval (paired by seed when both
//! ran the same seeds), as a table and as generated sentences that claim no more than the
//! intervals do.

use std::fmt::Write;

use crate::report::statistics::{Difference, Pairing, difference};
use crate::report::summary::MethodSummary;

/// Two methods of a row compared.
#[derive(Debug, Clone, PartialEq)]
pub struct PairComparison {
    /// The first method (earlier in the row).
    pub a: String,
    /// The second method.
    pub b: String,
    /// Final cost, `a − b` (negative: `a` is better).
    pub cost: Difference,
    /// Final success rate, `a − b` (positive: `a` is better).
    pub success: Difference,
}

/// Every pair of methods of a row, in row order (`(0, 1), (0, 2), …, (1, 2), …`).
pub fn compare_pairs(summaries: &[MethodSummary]) -> Vec<PairComparison> {
    let mut pairs = Vec::new();
    for (i, a) in summaries.iter().enumerate() {
        for b in &summaries[i + 1..] {
            pairs.push(compare(a.method.clone(), a, b.method.clone(), b));
        }
    }
    pairs
}

/// `a` against `b`, under the labels `a_label` and `b_label`.
fn compare(
    a_label: String,
    a: &MethodSummary,
    b_label: String,
    b: &MethodSummary,
) -> PairComparison {
    PairComparison {
        a: a_label,
        b: b_label,
        cost: difference(&a.seed_costs(), &b.seed_costs()),
        success: difference(&a.seed_successes(), &b.seed_successes()),
    }
}

/// An ablation row against the row it changes one setting of: each method of `summaries` (the
/// row named `row`) with the same method of `base_summaries` (the row named `base`), labelled
/// `"method (row)"` and `"method (base)"`. Methods only one of the rows ran are left out.
pub fn compare_with_base(
    row: &str,
    summaries: &[MethodSummary],
    base: &str,
    base_summaries: &[MethodSummary],
) -> Vec<PairComparison> {
    summaries
        .iter()
        .filter_map(|a| {
            let b = base_summaries.iter().find(|b| b.method == a.method)?;
            Some(compare(
                format!("{} ({row})", a.method),
                a,
                format!("{} ({base})", b.method),
                b,
            ))
        })
        .collect()
}

/// Which direction of a difference is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Better {
    Lower,
    Higher,
}

fn interval_text(d: &Difference, f: fn(f64) -> String) -> String {
    match d.interval {
        Some(i) => format!("[{}, {}]", f(i.lo), f(i.hi)),
        None => "no interval".to_string(),
    }
}

fn seeds_text(d: &Difference) -> String {
    match d.pairing {
        Pairing::BySeed => format!("n = {}, paired by seed", d.n_a),
        Pairing::Unpaired => format!("n = {} and {}, unpaired", d.n_a, d.n_b),
    }
}

fn signed_cost(v: f64) -> String {
    format!("{v:+.3}")
}

fn signed_percent(v: f64) -> String {
    // Percentage points of success rate.
    format!("{:+.0} pp", 100.0 * v)
}

/// The pairwise table: per pair, the difference of final cost and of success rate with their
/// intervals and whether each excludes 0.
pub fn pairwise_markdown(pairs: &[PairComparison]) -> String {
    let mut s = String::new();
    if pairs.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "| pair (a − b) | seeds | final cost a − b | 95% CI | excludes 0 | success a − b | 95% CI | excludes 0 |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    let yes_no = |d: &Difference| match (d.interval, d.excludes_zero()) {
        (None, _) => "–",
        (Some(_), true) => "yes",
        (Some(_), false) => "no",
    };
    for p in pairs {
        let _ = writeln!(
            s,
            "| {} − {} | {} | {} | {} | {} | {} | {} | {} |",
            p.a,
            p.b,
            seeds_text(&p.cost),
            signed_cost(p.cost.mean),
            interval_text(&p.cost, signed_cost),
            yes_no(&p.cost),
            signed_percent(p.success.mean),
            interval_text(&p.success, signed_percent),
            yes_no(&p.success),
        );
    }
    s
}

/// One sentence on one quantity of one pair.
fn finding(
    a: &str,
    b: &str,
    what: &str,
    d: &Difference,
    better: Better,
    f: fn(f64) -> String,
) -> String {
    let Some(i) = d.interval else {
        return format!(
            "{what}: {a} vs {b} cannot be told apart ({}; an interval needs at least 2 seeds).",
            seeds_text(d)
        );
    };
    if !i.excludes_zero() {
        let n = match d.pairing {
            Pairing::BySeed => format!("n = {}", d.n_a),
            Pairing::Unpaired => format!("n = {} and {}", d.n_a, d.n_b),
        };
        return format!(
            "{what}: no difference between {a} and {b} detectable at {n} \
             (gap {a} − {b} {}, 95 % CI {} includes 0).",
            f(d.mean),
            interval_text(d, f)
        );
    }
    let a_better = match better {
        Better::Lower => i.hi < 0.0,
        Better::Higher => i.lo > 0.0,
    };
    let (winner, loser) = if a_better { (a, b) } else { (b, a) };
    format!(
        "{what}: {winner} better than {loser}, gap {a} − {b} {}, 95 % CI of the gap {} ({}).",
        f(d.mean),
        interval_text(d, f),
        seeds_text(d)
    )
}

/// The generated notes of a row: per pair, one sentence on the final cost and one on the
/// success rate, each saying only what its interval supports.
pub fn findings(pairs: &[PairComparison]) -> Vec<String> {
    pairs
        .iter()
        .flat_map(|p| {
            [
                finding(
                    &p.a,
                    &p.b,
                    "Final cost",
                    &p.cost,
                    Better::Lower,
                    signed_cost,
                ),
                finding(
                    &p.a,
                    &p.b,
                    "Success rate",
                    &p.success,
                    Better::Higher,
                    signed_percent,
                ),
            ]
        })
        .collect()
}
