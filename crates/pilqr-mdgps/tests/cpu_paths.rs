//! The network's numerics are the same bits on every CPU code path this machine can force.
//!
//! The parent tests re-run this test binary as a child process (selected by the environment
//! variable `PILQR_CPU_PATH_CHILD`) under environments that force libtorch's CPU-dependent
//! choices — `ATEN_CPU_CAPABILITY` (ATen's kernels), `MKL_CBWR` and `MKL_ENABLE_INSTRUCTIONS`
//! (MKL's code branch) — as a different CPU would make them. Each child prints hashes of its
//! results; the parent requires them to be equal.

mod common;

use std::process::Command;

use common::{Problem, conditions, controller, rollouts};
use pilqr_core::RunSeed;
use pilqr_mdgps::tch::{Kind, Tensor};
use pilqr_mdgps::{KernelPath, MlpConfig, NnPolicy, SStepBackend, SStepConfig, TorchMlp, s_step};

const CHILD_ROLE: &str = "PILQR_CPU_PATH_CHILD";
const RESULT_TAG: &str = "CPU-PATH-RESULT";

/// FNV-1a over the bit patterns of `values`.
fn hash_bits(values: impl IntoIterator<Item = f64>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for byte in v.to_bits().to_le_bytes() {
            h ^= byte as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// Three consecutive small S-steps with `backend` and `kernels` (the loss trajectory is their
/// initial, epoch and final losses) and a forward pass of the trained network on every
/// training observation.
fn s_step_hashes(backend: SStepBackend, kernels: KernelPath) -> String {
    let p = Problem {
        horizon: 30,
        dx: 7,
        du: 2,
        samples: 5,
    };
    let seed = RunSeed::new(16);
    let local = controller(p, 0.2, seed);
    let batches: Vec<_> = (0..2).map(|m| rollouts(p, &local, seed, m)).collect();
    let data = conditions(&batches, &local);
    let config = SStepConfig {
        iterations: 150,
        backend,
        kernels,
        ..SStepConfig::default()
    };
    let mut policy = NnPolicy::new(&MlpConfig::default(), p.dx, p.du, 0.1, seed).unwrap();
    let mut losses = Vec::new();
    for iteration in 0..3 {
        let r = s_step(&mut policy, &data, &config, seed, iteration).unwrap();
        losses.push(r.initial_loss);
        losses.extend(&r.epoch_losses);
        losses.push(r.final_loss);
    }
    let weights = policy.weights();
    let all = weights
        .layers
        .iter()
        .flat_map(|l| l.weight.iter().chain(&l.bias).copied());
    let net = TorchMlp::from_weights(weights).unwrap();
    let obs: Vec<f64> = batches.iter().flat_map(|b| b.obs_all().to_vec()).collect();
    let out = net.forward_rows(&obs, obs.len() / p.dx).unwrap();
    format!(
        "weights={:016x} losses={:016x} forward={:016x} last_loss={:e}",
        hash_bits(all),
        hash_bits(losses.iter().copied()),
        hash_bits(out),
        losses[losses.len() - 1]
    )
}

/// A raw libtorch probe (a long sum and a matrix product) without any call of ours before it
/// unless `pin` is set: what the environment alone selects.
fn raw_probe(pin: bool) -> String {
    if pin {
        pilqr_mdgps::pin_cpu_numerics().unwrap();
    }
    pilqr_mdgps::tch::set_num_threads(1);
    let x: Vec<f64> = (0..25 * 100 + 100 * 100)
        .map(|i| ((i as f64) * 0.618_033_988_749_895).fract() - 0.5)
        .collect();
    let a = Tensor::from_slice(&x[..2500]).view([25, 100]);
    let b = Tensor::from_slice(&x[2500..]).view([100, 100]);
    let m = a.matmul(&b);
    let s = Tensor::from_slice(&x).sum(Kind::Double);
    let m: Vec<f64> = Vec::try_from(&m.view([-1])).unwrap();
    format!(
        "matmul={:016x} sum={:016x} mkl_branch={}",
        hash_bits(m),
        s.double_value(&[]).to_bits(),
        pilqr_mdgps::mkl_branch()
    )
}

/// The child's work, when this process is a child; a no-op in a normal test run.
#[test]
fn cpu_path_child() {
    let Ok(role) = std::env::var(CHILD_ROLE) else {
        return;
    };
    let result = match role.as_str() {
        "s-step" => s_step_hashes(SStepBackend::Native, KernelPath::Auto),
        "s-step-portable" => s_step_hashes(SStepBackend::Native, KernelPath::Portable),
        "s-step-avx2" => s_step_hashes(SStepBackend::Native, KernelPath::Avx2Fma),
        "s-step-torch" => s_step_hashes(SStepBackend::Torch, KernelPath::Auto),
        "probe-pinned" => raw_probe(true),
        "probe-unpinned" => raw_probe(false),
        other => panic!("unknown child role {other}"),
    };
    println!("{RESULT_TAG} {result}");
}

/// Run the child `role` with `env` (`None` removes the variable) and return its result line.
fn run_child(role: &str, env: &[(&str, Option<&str>)]) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        "cpu_path_child",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ROLE, role);
    for var in ["ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS"] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child {role} {env:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split_once(RESULT_TAG).map(|(_, r)| r))
        .unwrap_or_else(|| panic!("child {role} {env:?} printed no result: {stdout}"))
        .trim()
        .to_string()
}

/// The code paths this machine can force: ATen's kernel sets it can run, crossed with MKL's
/// branch settings (on a CPU that MKL does not treat as Intel, `AVX2`/`AVX512` fall back to
/// MKL's automatic dispatch, which is itself another path), plus restricted MKL instruction
/// sets.
fn forced_paths() -> Vec<Vec<(&'static str, Option<&'static str>)>> {
    let mut aten = vec![None, Some("default")];
    if std::arch::is_x86_feature_detected!("avx2") {
        aten.push(Some("avx2"));
    }
    if std::arch::is_x86_feature_detected!("avx512f") {
        aten.push(Some("avx512"));
    }
    let mkl = [None, Some("COMPATIBLE"), Some("AUTO"), Some("AVX512")];
    let mut paths = Vec::new();
    for a in &aten {
        for m in mkl {
            paths.push(vec![("ATEN_CPU_CAPABILITY", *a), ("MKL_CBWR", m)]);
        }
    }
    for instructions in ["SSE4_2", "AVX2"] {
        paths.push(vec![("MKL_ENABLE_INSTRUCTIONS", Some(instructions))]);
    }
    paths
}

/// The default (native) S-step under every forced libtorch path and with each of its own
/// kernel paths forced, and the libtorch reference S-step under every forced path (each
/// backend against itself: the two agree only up to rounding).
#[test]
fn s_step_and_forward_pass_are_the_same_bits_on_every_forced_cpu_path() {
    let mut differing = Vec::new();
    for role in ["s-step", "s-step-torch"] {
        let reference = run_child(role, &[]);
        for env in forced_paths() {
            let got = run_child(role, &env);
            if got != reference {
                differing.push(format!("{role} {env:?}: {got} (reference {reference})"));
            }
        }
    }
    let native = run_child("s-step", &[]);
    let mut kernel_roles = vec!["s-step-portable"];
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        kernel_roles.push("s-step-avx2");
    }
    for role in kernel_roles {
        let got = run_child(role, &[]);
        if got != native {
            differing.push(format!("{role}: {got} (native {native})"));
        }
    }
    assert!(
        differing.is_empty(),
        "differing paths:\n{}",
        differing.join("\n")
    );
}

/// Setting the pinning from inside the process works: a pinned child, whatever its
/// environment says, computes what an unpinned child computes when its parent sets the pinned
/// values; and the probe does tell MKL's default path from the pinned one.
#[test]
fn pinning_from_inside_the_process_equals_pinning_by_the_environment() {
    let by_env = run_child(
        "probe-unpinned",
        &[
            ("ATEN_CPU_CAPABILITY", Some("default")),
            ("MKL_CBWR", Some("COMPATIBLE")),
        ],
    );
    for env in forced_paths() {
        assert_eq!(run_child("probe-pinned", &env), by_env, "{env:?}");
    }
    let unpinned = run_child("probe-unpinned", &[]);
    assert_ne!(
        unpinned.split(' ').next(),
        by_env.split(' ').next(),
        "the probe's matrix product should differ between MKL's default and COMPATIBLE paths"
    );
}
