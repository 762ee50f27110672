//! Explicit EM starts: initial labels and initial components, for `Gmm` and `DynamicsFitter`.

mod common;

use common::iterative_batches;
use faer::Mat;
use pilqr_dynamics::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Three noisy blobs in 2-D, `n` points (deterministic).
fn blobs(n: usize) -> Mat<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let nrm = Normal::new(0.0, 1.0).unwrap();
    let centres = [[-4.0, 0.0], [0.0, 3.0], [4.0, -1.0]];
    let mut m = Mat::zeros(2, n);
    for j in 0..n {
        let c = centres[j % 3];
        m[(0, j)] = c[0] + 0.7 * nrm.sample(&mut rng);
        m[(1, j)] = c[1] + 0.4 * nrm.sample(&mut rng) + 0.2 * m[(0, j)];
    }
    m
}

/// The components hard `labels` imply, computed directly: weight = share of points, mean =
/// average, covariance = biased sample covariance + `floor` on the diagonal.
fn components_of_labels(
    points: &Mat<f64>,
    labels: &[usize],
    k: usize,
    floor: f64,
) -> (Vec<f64>, Mat<f64>, MatStack) {
    let (d, n) = (points.nrows(), points.ncols());
    let mut count = vec![0usize; k];
    let mut means = Mat::<f64>::zeros(d, k);
    for (j, &l) in labels.iter().enumerate() {
        count[l] += 1;
        for a in 0..d {
            means[(a, l)] += points[(a, j)];
        }
    }
    for c in 0..k {
        for a in 0..d {
            means[(a, c)] /= count[c] as f64;
        }
    }
    let mut cov = MatStack::zeros(k, d, d);
    for (j, &l) in labels.iter().enumerate() {
        let mut s = cov.at_mut(l);
        for a in 0..d {
            for b in 0..d {
                s[(a, b)] += (points[(a, j)] - means[(a, l)]) * (points[(b, j)] - means[(b, l)])
                    / count[l] as f64;
            }
        }
    }
    for c in 0..k {
        let mut s = cov.at_mut(c);
        for a in 0..d {
            s[(a, a)] += floor;
        }
    }
    let weights = count.iter().map(|&c| c as f64 / n as f64).collect();
    (weights, means, cov)
}

/// Largest absolute difference between two mixtures' parameters.
fn mixture_distance(a: &Gmm, b: &Gmm) -> f64 {
    assert_eq!(a.num_components(), b.num_components());
    let mut m = 0.0f64;
    for c in 0..a.num_components() {
        m = m.max((a.weights()[c] - b.weights()[c]).abs());
        for (x, y) in a.mean(c).iter().zip(b.mean(c)) {
            m = m.max((x - y).abs());
        }
        let (ca, cb) = (a.covariance(c), b.covariance(c));
        for i in 0..ca.nrows() {
            for j in 0..ca.ncols() {
                m = m.max((ca[(i, j)] - cb[(i, j)]).abs());
            }
        }
    }
    m
}

/// Labels by position: point `j` gets `j % k` (a poor clustering EM has to repair).
fn striped_labels(n: usize, k: usize) -> Vec<usize> {
    (0..n).map(|j| (j * 7 / 3) % k).collect()
}

#[test]
fn em_from_labels_equals_em_from_the_components_they_imply() {
    let pts = blobs(300);
    let k = 3;
    let labels = striped_labels(300, k);
    let config = GmmConfig::default();
    let mut from_labels = Gmm::new(config);
    let rl = from_labels
        .fit_from_labels(pts.as_ref(), k, &labels)
        .unwrap();
    let (w, mu, cov) = components_of_labels(&pts, &labels, k, config.covariance_floor);
    let mut from_components = Gmm::from_components(config, w, mu, cov, 300).unwrap();
    let rc = from_components.update(pts.as_ref(), k, 0).unwrap();
    // A labelled start is a fresh start (not the model's previous state); the given
    // components are a warm one.
    assert!(rl.initialised && !rc.initialised);
    assert!(
        rl.iterations > 1,
        "the striped start must need EM iterations"
    );
    assert_eq!(rl.iterations, rc.iterations);
    for (a, b) in rl.log_likelihoods.iter().zip(&rc.log_likelihoods) {
        assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{a} vs {b}");
    }
    let dist = mixture_distance(&from_labels, &from_components);
    assert!(dist < 1e-9, "mixtures differ by {dist}");
    // The labelled start is monotone like any other.
    assert!(rl.log_likelihoods.windows(2).all(|p| p[1] >= p[0]));
}

#[test]
fn labels_of_a_clean_clustering_recover_the_clusters() {
    // Labels by blob (the generator's `j % 3`): the first M-step already gives the blobs'
    // moments, so EM converges to a mixture whose means are the blob centres.
    let pts = blobs(600);
    let labels: Vec<usize> = (0..600).map(|j| j % 3).collect();
    let mut g = Gmm::new(GmmConfig::default());
    g.fit_from_labels(pts.as_ref(), 3, &labels).unwrap();
    for (c, centre) in [[-4.0, 0.0], [0.0, 3.0], [4.0, -1.0]].iter().enumerate() {
        let m = g.mean(c);
        assert!((m[0] - centre[0]).abs() < 0.15, "component {c}: {m:?}");
        assert!(
            (m[1] - (centre[1] + 0.2 * centre[0])).abs() < 0.15,
            "component {c}: {m:?}"
        );
    }
}

#[test]
fn a_fitted_mixture_passed_back_converges_in_one_step() {
    let pts = blobs(300);
    let mut g = Gmm::new(GmmConfig::default());
    let first = g.fit(pts.as_ref(), 3, 9).unwrap();
    assert_eq!(first.stop, EmStop::Converged);
    let k = g.num_components();
    let w = g.weights().to_vec();
    let mu = Mat::from_fn(2, k, |a, c| g.mean(c)[a]);
    let cov = MatStack::from_fn(k, 2, 2, |c, mut m| m.copy_from(g.covariance(c)));
    let mut again = Gmm::from_components(*g.config(), w, mu, cov, 300).unwrap();
    let r = again.update(pts.as_ref(), k, 1).unwrap();
    assert!(!r.initialised);
    assert_eq!(r.stop, EmStop::Converged);
    assert!(r.iterations <= 1, "{} iterations", r.iterations);
    assert_eq!(r.log_likelihoods[0], first.log_likelihood());
}

#[test]
fn bad_labels_are_typed_errors() {
    let pts = blobs(30);
    let mut g = Gmm::new(GmmConfig::default());
    assert!(matches!(
        g.fit_from_labels(pts.as_ref(), 3, &[0; 29]),
        Err(DynamicsError::DimensionMismatch { .. })
    ));
    let mut labels = vec![0; 30];
    labels[4] = 3;
    assert!(matches!(
        g.fit_from_labels(pts.as_ref(), 3, &labels),
        Err(DynamicsError::InvalidConfig { .. })
    ));
    assert!(!g.is_fitted());
}

/// Largest absolute difference between two fits' transition matrices.
fn dynamics_distance(a: &LinearDynamics, b: &LinearDynamics) -> f64 {
    let mut m = 0.0f64;
    for t in 0..a.fm.len() {
        let (fa, fb) = (a.fm.at(t), b.fm.at(t));
        for i in 0..fa.nrows() {
            for j in 0..fa.ncols() {
                m = m.max((fa[(i, j)] - fb[(i, j)]).abs());
            }
        }
    }
    m
}

#[test]
fn fitter_from_labels_equals_fitter_from_the_implied_mixture() {
    let (dx, du) = (3, 2);
    let (batch, _) = iterative_batches(dx, du, 30, 8);
    let config = DynamicsConfig::default();
    let prior_config = config.prior.clone().unwrap();
    let mut a = DynamicsFitter::new(config.clone(), dx, du).unwrap();
    // The buffer after the batch is the batch itself: its points in `DynamicsPrior::points`
    // order.
    let mut probe = DynamicsPrior::new(prior_config.clone(), dx, du).unwrap();
    probe.update(&batch, 0).unwrap();
    let pts = probe.points();
    let k = prior_config.cluster_count(pts.ncols());
    let labels = striped_labels(pts.ncols(), k);
    let fa = a.update_from_labels(&batch, &labels).unwrap();

    let (w, mu, cov) = components_of_labels(&pts, &labels, k, prior_config.covariance_floor);
    let implied = Gmm::from_components(prior_config.gmm_config(), w, mu, cov, pts.ncols()).unwrap();
    let mut b = DynamicsFitter::new(config, dx, du).unwrap();
    b.set_prior_mixture(implied).unwrap();
    let fb = b.update(&batch, 0).unwrap();
    let (ra, rb) = (a.last_em_report().unwrap(), b.last_em_report().unwrap());
    assert!(ra.initialised && !rb.initialised);
    assert_eq!(ra.iterations, rb.iterations);
    let dist = dynamics_distance(&fa, &fb);
    assert!(dist < 1e-8, "fits differ by {dist}");
}

#[test]
fn fitter_warm_started_from_a_saved_mixture_starts_where_it_left_off() {
    let (dx, du) = (3, 2);
    let (batch, _) = iterative_batches(dx, du, 30, 8);
    let mut a = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
    a.update(&batch, 3).unwrap();
    let ra = a.last_em_report().unwrap().clone();
    let saved = a.prior().unwrap().gmm().clone();
    let pts = a.prior().unwrap().points();
    let mut b = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
    b.set_prior_mixture(saved.clone()).unwrap();
    b.update(&batch, 77).unwrap();
    let rb = b.last_em_report().unwrap();
    // EM starts from the saved mixture: its first log-likelihood is where `a` stopped, and
    // the tolerance is met after at most one more iteration.
    assert!(!rb.initialised);
    assert_eq!(rb.log_likelihoods[0], ra.log_likelihood());
    assert!(rb.iterations <= 1, "{} iterations", rb.iterations);
    // ... and it is exactly a warm `Gmm::update` of the saved mixture on the same points.
    let mut direct = saved;
    direct.update(pts.as_ref(), ra.components, 0).unwrap();
    assert_eq!(&direct, b.prior().unwrap().gmm());
}

#[test]
fn setting_a_mixture_checks_the_dimension_and_the_prior() {
    let (dx, du) = (3, 2);
    let g = Gmm::from_components(
        GmmConfig::default(),
        vec![1.0],
        Mat::zeros(4, 1),
        MatStack::repeat(1, Mat::<f64>::identity(4, 4).as_ref()),
        10,
    )
    .unwrap();
    let mut f = DynamicsFitter::new(DynamicsConfig::default(), dx, du).unwrap();
    assert!(matches!(
        f.set_prior_mixture(g.clone()),
        Err(DynamicsError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        f.set_prior_mixture(Gmm::new(GmmConfig::default())),
        Err(DynamicsError::NotFitted)
    ));
    let mut plain = DynamicsFitter::new(DynamicsConfig::without_prior(), dx, du).unwrap();
    assert!(matches!(
        plain.set_prior_mixture(g),
        Err(DynamicsError::InvalidConfig { .. })
    ));
}
