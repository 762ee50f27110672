//! The hockey experiment of the paper: hit the puck into the goal from the `left` condition,
//! PILQR vs LQR-FLM vs PI2.
//!
//! Runs `experiments/hockey.toml` through the library — `pilqr::cli::run_args_with`, the code of
//! `pilqr compare` — into `runs/example-hockey/` (summary table, metrics, plots, renders):
//!
//! ```text
//! cargo run --release --example hockey        # the experiment's own budget
//! cargo run --release --example hockey -- 3   # 3 iterations per method and seed
//! PILQR_EXAMPLE_ITERATIONS=3 cargo run --release --example hockey
//! ```
//!
//! Its test (`cargo test --example hockey`, part of `cargo test`) runs one iteration of 4
//! samples with seed 0.

mod common;

// Under `cargo test` the example is built as a test harness, which does not call `main`.
#[cfg_attr(test, allow(dead_code))]
fn main() {
    common::main("hockey", "hockey.toml");
}

#[test]
fn runs_with_a_tiny_budget() {
    common::run_tiny("hockey", "hockey.toml", &common::Budget::tiny(&[]));
}
