//! The power-plug experiment of the paper: insert the plug into the socket, PILQR vs LQR-FLM vs
//! PI2.
//!
//! Runs `experiments/power_plug.toml` through the library — `pilqr::cli::run_args_with`, the code of
//! `pilqr compare` — into `runs/example-power_plug/` (summary table, metrics, plots, renders):
//!
//! ```text
//! cargo run --release --example power_plug        # the experiment's own budget
//! cargo run --release --example power_plug -- 3   # 3 iterations per method and seed
//! PILQR_EXAMPLE_ITERATIONS=3 cargo run --release --example power_plug
//! ```
//!
//! Its test (`cargo test --example power_plug`, part of `cargo test`) runs one iteration of 4
//! samples with seed 0.

mod common;

// Under `cargo test` the example is built as a test harness, which does not call `main`.
#[cfg_attr(test, allow(dead_code))]
fn main() {
    common::main("power_plug", "power_plug.toml");
}

#[test]
fn runs_with_a_tiny_budget() {
    common::run_tiny("power_plug", "power_plug.toml", &common::Budget::tiny(&[]));
}
