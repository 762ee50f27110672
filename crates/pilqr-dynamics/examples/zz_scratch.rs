//! Scratch (temporary): fixed-iteration workloads for `perf stat`.
#[path = "../tests/common/mod.rs"]
mod common;
use pilqr_dynamics::{DynamicsConfig, DynamicsFitter, fit_linear_dynamics};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (dx, du): (usize, usize) = (a[1].parse().unwrap(), a[2].parse().unwrap());
    let reps: usize = a[4].parse().unwrap();
    let (b1, b2) = common::iterative_batches(dx, du, 100, 20);
    match a[3].as_str() {
        "p" => {
            let mut keep = Vec::new();
            for _ in 0..reps {
                keep.push(fit_linear_dynamics(&b2, 1e-6, 1e-6).unwrap());
                if keep.len() > 1 {
                    keep.remove(0);
                }
            }
        }
        "w" => {
            let mut f = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
            f.update(&b1, 1).unwrap();
            let s = std::time::Instant::now();
            for _ in 0..reps {
                let mut g = f.clone();
                std::hint::black_box(g.update(&b2, 2).unwrap());
            }
            eprintln!(
                "wall per update {:.2} ms",
                s.elapsed().as_secs_f64() * 1e3 / reps as f64
            );
        }
        _ => {}
    }
}
