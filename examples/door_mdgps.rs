//! The door-opening experiment of the paper: a network policy trained by MDGPS on three door
//! positions and tested on the held-out `centre` one (MDGPS-PILQR vs MDGPS-LQR-FLM). Needs
//! libtorch (`scripts/with-libtorch`).
//!
//! Runs `experiments/door_mdgps.toml` through the library — `pilqr::cli::run_args_with`, the code of
//! `pilqr compare` — into `runs/example-door_mdgps/` (summary table, metrics, plots, renders):
//!
//! ```text
//! scripts/with-libtorch cargo run --release --example door_mdgps        # the experiment's own budget
//! scripts/with-libtorch cargo run --release --example door_mdgps -- 3   # 3 iterations per method and seed
//! PILQR_EXAMPLE_ITERATIONS=3 scripts/with-libtorch cargo run --release --example door_mdgps
//! ```
//!
//! Its test (`cargo test --example door_mdgps`, part of `cargo test`) runs one iteration of 4
//! samples with seed 0, a smaller network and S-step and fewer conditions.

mod common;

// Under `cargo test` the example is built as a test harness, which does not call `main`.
#[cfg_attr(test, allow(dead_code))]
fn main() {
    common::main("door_mdgps", "door_mdgps.toml");
}

#[test]
fn runs_with_a_tiny_budget() {
    common::run_tiny(
        "door_mdgps",
        "door_mdgps.toml",
        &common::Budget::tiny(&[
            r#"conditions=["left"]"#,
            "mdgps.network.hidden=[16]",
            "mdgps.s_step.iterations=20",
        ]),
    );
}
