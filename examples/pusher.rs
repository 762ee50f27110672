//! Fig. 3 of the paper: the gripper pusher, hard condition (block far from the gripper and the
//! goal), PILQR vs LQR-FLM vs PI2 with the same budget of samples.
//!
//! Runs `experiments/gripper_pusher_hard.toml` through the library — `pilqr::cli::run_args_with`, the code of
//! `pilqr compare` — into `runs/example-pusher/` (summary table, metrics, plots, renders):
//!
//! ```text
//! cargo run --release --example pusher        # the experiment's own budget
//! cargo run --release --example pusher -- 3   # 3 iterations per method and seed
//! PILQR_EXAMPLE_ITERATIONS=3 cargo run --release --example pusher
//! ```
//!
//! Its test (`cargo test --example pusher`, part of `cargo test`) runs one iteration of 4
//! samples with seed 0.

mod common;

// Under `cargo test` the example is built as a test harness, which does not call `main`.
#[cfg_attr(test, allow(dead_code))]
fn main() {
    common::main("pusher", "gripper_pusher_hard.toml");
}

#[test]
fn runs_with_a_tiny_budget() {
    common::run_tiny(
        "pusher",
        "gripper_pusher_hard.toml",
        &common::Budget::tiny(&[]),
    );
}
