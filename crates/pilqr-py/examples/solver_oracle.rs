//! The oracle of the Python solver tests (`tests/test_solvers.py`): a small random problem
//! solved through the Rust API — dynamics fits with and without the GMM prior, one LQR-FLM,
//! one PI2 and one PILQR update, the KL of the LQR-FLM step — with its inputs and outputs
//! written to a directory as raw little-endian f64 files (`NAME.f64`) listed with their numpy
//! shapes (row-major) in `manifest.txt`. The Python tests feed the same inputs to `pilqr` and
//! compare the outputs bit for bit.
//!
//! ```sh
//! cargo run -p pilqr-py --example solver_oracle -- DIR
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pilqr_core::{CostModel, LinearGaussianPolicy, SampleBatch, SampleDims};
use pilqr_dynamics::{DynamicsConfig, DynamicsFitter, LinearDynamics};
use pilqr_linalg::{MatStack, VecStack};
use pilqr_trajopt::{
    LqrFlm, LqrFlmConfig, Pi2Config, PilqrInputs, approximate_costs, pi2_update, pilqr_update,
    policy_kl,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const N: usize = 8;
const T: usize = 6;
const DX: usize = 2;
const DU: usize = 1;

/// The files of one run: raw f64 arrays and the manifest of their shapes.
struct Out {
    dir: PathBuf,
    manifest: String,
}

impl Out {
    fn array(&mut self, name: &str, shape: &[usize], data: &[f64]) -> std::io::Result<()> {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "{name}");
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(self.dir.join(format!("{name}.f64")), bytes)?;
        let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
        // Writing to a String cannot fail.
        let _ = writeln!(self.manifest, "{name} {}", dims.join(" "));
        Ok(())
    }

    /// A stack of column-major matrices as a row-major `[T, rows, cols]` array.
    fn stack(&mut self, name: &str, s: &MatStack) -> std::io::Result<()> {
        let mut data = Vec::new();
        for t in 0..s.len() {
            let m = s.at(t);
            for i in 0..s.rows() {
                for j in 0..s.cols() {
                    data.push(m[(i, j)]);
                }
            }
        }
        self.array(name, &[s.len(), s.rows(), s.cols()], &data)
    }

    fn vecs(&mut self, name: &str, s: &VecStack) -> std::io::Result<()> {
        self.array(name, &[s.len(), s.dim()], s.as_slice())
    }

    fn policy(&mut self, name: &str, p: &LinearGaussianPolicy) -> std::io::Result<()> {
        self.stack(&format!("{name}_K"), p.gain())?;
        self.vecs(&format!("{name}_k"), p.offset())?;
        self.stack(&format!("{name}_cov"), p.cov())
    }

    fn dynamics(&mut self, name: &str, d: &LinearDynamics) -> std::io::Result<()> {
        self.stack(&format!("{name}_fm"), &d.fm)?;
        self.vecs(&format!("{name}_fv"), &d.fv)?;
        self.stack(&format!("{name}_dyn_covar"), &d.dyn_covar)?;
        self.array(&format!("{name}_x0mu"), &[DX], &d.x0mu)?;
        self.stack(&format!("{name}_x0sigma"), &d.x0sigma)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: solver_oracle DIR")?;
    std::fs::create_dir_all(&dir)?;
    let mut out = Out {
        dir: Path::new(&dir).to_path_buf(),
        manifest: String::new(),
    };
    let mut rng = StdRng::seed_from_u64(19);
    let mut uniform = |scale: f64| scale * (2.0 * rng.random::<f64>() - 1.0);

    // The previous controller.
    let gain = MatStack::from_fn(T, DU, DX, |_, mut m| {
        for j in 0..DX {
            m[(0, j)] = uniform(0.5);
        }
    });
    let offset = VecStack::from_vec(T, DU, (0..T * DU).map(|_| uniform(0.3)).collect())?;
    let cov = MatStack::from_fn(T, DU, DU, |_, mut m| m[(0, 0)] = 0.5 + uniform(0.2));
    let previous = LinearGaussianPolicy::new(gain, offset, cov)?;
    out.policy("previous", &previous)?;

    // Samples of it on a noisy linear system, with their noise and a quadratic cost.
    let (mut x, mut u, mut noise, mut cost) = (vec![], vec![], vec![], vec![]);
    for _ in 0..N {
        let mut s = vec![1.0 + uniform(0.1), uniform(0.1)];
        for t in 0..T {
            let eps = [uniform(1.5)];
            let mut a = [0.0];
            previous.act_state(t, &s, &eps, &mut a)?;
            x.extend_from_slice(&s);
            u.extend_from_slice(&a);
            noise.extend_from_slice(&eps);
            cost.push(s[0] * s[0] + 0.1 * a[0] * a[0] + uniform(0.01));
            s = vec![
                s[0] + 0.1 * s[1] + uniform(0.01),
                0.95 * s[1] + 0.1 * a[0] + uniform(0.01),
            ];
        }
    }
    out.array("x", &[N, T, DX], &x)?;
    out.array("u", &[N, T, DU], &u)?;
    out.array("noise", &[N, T, DU], &noise)?;
    out.array("costs", &[N, T], &cost)?;
    let dims = SampleDims {
        horizon: T,
        dx: DX,
        du: DU,
        dobs: 0,
    };
    let batch = SampleBatch::new(dims, N, x, u, vec![], noise, cost)?;

    // The cost model.
    let mut model = CostModel::zeros(T, DX, DU);
    for t in 0..T {
        let mut cm = model.cm.at_mut(t);
        cm[(0, 0)] = 2.0 + uniform(0.5);
        cm[(1, 1)] = 0.1 + uniform(0.05);
        cm[(2, 2)] = 0.2 + uniform(0.05);
        for v in model.cv.at_mut(t) {
            *v = uniform(0.2);
        }
        model.cc[t] = uniform(1.0);
    }
    out.stack("cost_cm", &model.cm)?;
    out.vecs("cost_cv", &model.cv)?;
    out.array("cost_cc", &[T], &model.cc)?;

    // Dynamics fits.
    let plain = DynamicsFitter::new(DynamicsConfig::without_prior(), DX, DU)?.update(&batch, 0)?;
    out.dynamics("dyn_plain", &plain)?;
    let gmm = DynamicsFitter::new(DynamicsConfig::default(), DX, DU)?.update(&batch, 3)?;
    out.dynamics("dyn_gmm", &gmm)?;

    // LQR-FLM against the plain fit, and the KL of its step.
    let targets = vec![0.5; T];
    let lqr = LqrFlm::new(T, DX, DU).update(
        &plain,
        &model,
        &previous,
        &targets,
        &[1.0],
        &LqrFlmConfig::default(),
    )?;
    out.policy("lqr", &lqr.policy)?;
    out.array("lqr_eta", &[lqr.eta.len()], &lqr.eta)?;
    out.array("lqr_kl", &[T], &lqr.kl)?;
    let kl = policy_kl(&lqr.policy, &previous, &lqr.trajectory)?;
    out.array("kl", &[T], &kl)?;

    // PI2 on the samples.
    let pi2 = pi2_update(&previous, &batch, &Pi2Config::default())?;
    out.policy("pi2", &pi2.policy)?;
    out.array("pi2_eta", &[T], &pi2.eta)?;
    out.array("pi2_weight_kl", &[T], &pi2.weight_kl)?;

    // PILQR.
    let approximated = approximate_costs(&previous, &plain, &model, &batch)?;
    out.array("pilqr_approximated", &[N, T], &approximated)?;
    let pilqr = pilqr_update(
        &mut LqrFlm::new(T, DX, DU),
        PilqrInputs {
            previous: &previous,
            kl_reference: None,
            dynamics: &plain,
            cost: &model,
            batch: &batch,
            approximated: &approximated,
            kl_targets: &targets,
            eta_init: &[1.0],
        },
        &LqrFlmConfig::default(),
        &Pi2Config::default(),
    )?;
    out.policy("pilqr", &pilqr.policy)?;
    out.array("pilqr_pi2_eta", &[T], &pilqr.pi2.eta)?;

    std::fs::write(out.dir.join("manifest.txt"), &out.manifest)?;
    Ok(())
}
