//! Tests of the metrics log: appending, reading back, dropping and sorting rows, exact
//! float round trips, old line formats.

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
fn sorting_keeps_the_order_of_equal_keys_and_rewrites_both_files() {
    let dir = TestDir::new("metrics-sort");
    let log = MetricsLog::in_dir(dir.path());
    log.create().unwrap();
    // Two jobs' iterations interleaved as concurrent jobs append them, two rows each.
    let (a, b) = ("lqr-flm", "pilqr");
    let appended = [(b, 0), (a, 0), (a, 1), (b, 1)];
    for (method, it) in appended {
        log.append(&[row(method, it, 1), row(method, it, 0)])
            .unwrap();
    }
    let rank = |r: &MetricsRow| (r.method != b, r.iteration);
    let sorted = log.sort_by_key(rank).unwrap();
    let order: Vec<(&str, usize, usize)> = sorted
        .iter()
        .map(|r| (r.method.as_str(), r.iteration, r.condition))
        .collect();
    assert_eq!(
        order,
        [
            (b, 0, 1),
            (b, 0, 0),
            (b, 1, 1),
            (b, 1, 0),
            (a, 0, 1),
            (a, 0, 0),
            (a, 1, 1),
            (a, 1, 0)
        ]
    );
    assert_eq!(log.read().unwrap(), sorted);
    let csv = fs::read_to_string(log.csv_path()).unwrap();
    let lines: Vec<String> = sorted.iter().map(MetricsRow::csv_line).collect();
    assert_eq!(csv.lines().skip(1).collect::<Vec<_>>(), lines);
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
