//! MDGPS on the point mass with a tiny budget: a small network learns from the local controllers
//! of 4 starts (optimised by PILQR, LQR-FLM and PI2) and is tested after every iteration on 2
//! held-out starts. Runs `experiments/point_mass_mdgps_smoke.toml` through the library
//! (`pilqr::cli::run_args_with`, the code of `pilqr compare`) into `runs/example-mdgps_point_mass/`.
//!
//! Needs libtorch:
//!
//! ```text
//! scripts/with-libtorch cargo run --release --example mdgps_point_mass        # 3 iterations
//! scripts/with-libtorch cargo run --release --example mdgps_point_mass -- 6   # 6
//! ```
//!
//! Its test runs one iteration with a smaller S-step.

mod common;

// Under `cargo test` the example is built as a test harness, which does not call `main`.
#[cfg_attr(test, allow(dead_code))]
fn main() {
    common::main("mdgps_point_mass", "point_mass_mdgps_smoke.toml");
}

#[test]
fn runs_with_a_tiny_budget() {
    let budget = common::Budget::tiny(&["mdgps.s_step.iterations=50"]);
    common::run_tiny("mdgps_point_mass", "point_mass_mdgps_smoke.toml", &budget);
}
