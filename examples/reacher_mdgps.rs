//! Fig. 4 of the paper: the reacher with a neural-network policy trained by MDGPS from the local
//! controllers of 16 targets and tested on 16 held-out ones (MDGPS-PILQR vs MDGPS-LQR-FLM vs
//! MDGPS-PI2). Needs libtorch (`scripts/with-libtorch`).
//!
//! Runs `experiments/reacher_mdgps.toml` through the library — `pilqr::cli::run_args_with`, the code of
//! `pilqr compare` — into `runs/example-reacher_mdgps/` (summary table, metrics, plots, renders):
//!
//! ```text
//! scripts/with-libtorch cargo run --release --example reacher_mdgps        # the experiment's own budget
//! scripts/with-libtorch cargo run --release --example reacher_mdgps -- 3   # 3 iterations per method and seed
//! PILQR_EXAMPLE_ITERATIONS=3 scripts/with-libtorch cargo run --release --example reacher_mdgps
//! ```
//!
//! Its test (`cargo test --example reacher_mdgps`, part of `cargo test`) runs one iteration of 4
//! samples with seed 0, a smaller network and S-step and fewer conditions.

mod common;

// Under `cargo test` the example is built as a test harness, which does not call `main`.
#[cfg_attr(test, allow(dead_code))]
fn main() {
    common::main("reacher_mdgps", "reacher_mdgps.toml");
}

#[test]
fn runs_with_a_tiny_budget() {
    common::run_tiny(
        "reacher_mdgps",
        "reacher_mdgps.toml",
        &common::Budget::tiny(&[
            r#"conditions=["train-0", "train-1"]"#,
            r#"test_conditions=["test-0"]"#,
            "mdgps.network.hidden=[16]",
            "mdgps.s_step.iterations=20",
        ]),
    );
}
