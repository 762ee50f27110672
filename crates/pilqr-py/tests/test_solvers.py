"""The numpy solver bindings against the Rust API: the same inputs give the same bits (the
oracle is the example ``solver_oracle``), and bad shapes or settings raise typed errors."""

import numpy as np
import pytest

import pilqr
from rust_oracle import example, load_arrays


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    import subprocess

    directory = tmp_path_factory.mktemp("oracle")
    subprocess.run([str(example("solver_oracle")), str(directory)], check=True)
    return load_arrays(directory)


def policy(o, name):
    return pilqr.LinearGaussianPolicy(o[f"{name}_K"], o[f"{name}_k"], o[f"{name}_cov"])


def cost(o):
    return pilqr.CostModel(o["cost_cm"], o["cost_cv"], o["cost_cc"], dx=o["x"].shape[2])


def assert_policy(p, o, name):
    assert np.array_equal(p.K, o[f"{name}_K"])
    assert np.array_equal(p.k, o[f"{name}_k"])
    assert np.array_equal(p.cov, o[f"{name}_cov"])


def assert_dynamics(d, o, name):
    for field in ["fm", "fv", "dyn_covar", "x0mu"]:
        assert np.array_equal(getattr(d, field), o[f"{name}_{field}"]), field
    assert np.array_equal(d.x0sigma, o[f"{name}_x0sigma"][0])


def test_policy_round_trips_its_arrays(oracle):
    p = policy(oracle, "previous")
    assert_policy(p, oracle, "previous")
    assert (p.horizon, p.du, p.dx) == oracle["previous_K"].shape  # K is [T, dU, dX]
    chol = p.chol
    assert np.allclose(chol @ np.swapaxes(chol, 1, 2), p.cov)


def test_act_is_gain_times_state_plus_offset_plus_chol_noise(oracle):
    p = policy(oracle, "previous")
    x, eps = np.array([0.3, -0.2]), np.array([0.7])
    t = 2
    mean = p.K[t] @ x + p.k[t]
    assert np.allclose(p.act(t, x), mean)
    assert np.allclose(p.act(t, x, eps), mean + p.chol[t] @ eps)
    with pytest.raises(pilqr.ShapeError, match="`t`"):
        p.act(p.horizon, x)


def test_fit_dynamics_without_prior_is_the_rust_fit(oracle):
    d = pilqr.fit_dynamics(oracle["x"], oracle["u"])
    assert_dynamics(d, oracle, "dyn_plain")


def test_fit_dynamics_with_the_gmm_prior_is_the_rust_fit(oracle):
    d = pilqr.fit_dynamics(oracle["x"], oracle["u"], prior="gmm", seed=3)
    assert_dynamics(d, oracle, "dyn_gmm")
    fitter = pilqr.DynamicsFitter(2, 1, prior={})
    assert fitter.has_prior
    assert_dynamics(fitter.update(oracle["x"], oracle["u"], seed=3), oracle, "dyn_gmm")


def test_lqr_flm_update_and_its_kl_are_the_rust_ones(oracle):
    d = pilqr.fit_dynamics(oracle["x"], oracle["u"])
    prev = policy(oracle, "previous")
    new, info = pilqr.lqr_flm_update(d, cost(oracle), prev, 0.5, eta_init=[1.0])
    assert_policy(new, oracle, "lqr")
    assert np.array_equal(info["eta"], oracle["lqr_eta"])
    assert np.array_equal(info["kl"], oracle["lqr_kl"])
    kl = pilqr.kl_divergence(new, prev, mu=info["traj_mu"], sigma=info["traj_sigma"])
    assert np.array_equal(kl, oracle["kl"])
    # A forward pass of its own through the model gives the update's KL up to rounding (the
    # update's marginals come from its own pass, summed in another order).
    np.testing.assert_allclose(pilqr.kl_divergence(new, prev, dynamics=d), oracle["kl"], rtol=1e-12)


def test_pi2_update_is_the_rust_one(oracle):
    prev = policy(oracle, "previous")
    new, info = pilqr.pi2_update(prev, oracle["x"], oracle["u"], oracle["costs"])
    assert_policy(new, oracle, "pi2")
    assert np.array_equal(info["eta"], oracle["pi2_eta"])
    assert np.array_equal(info["weight_kl"], oracle["pi2_weight_kl"])


def test_pilqr_update_is_the_rust_one(oracle):
    o = oracle
    d = pilqr.fit_dynamics(o["x"], o["u"])
    prev = policy(o, "previous")
    new, info = pilqr.pilqr_update(
        prev, d, cost(o), o["x"], o["u"], o["noise"], o["costs"], np.full(6, 0.5)
    )
    assert_policy(new, o, "pilqr")
    assert np.array_equal(info["approximated"], o["pilqr_approximated"])
    assert np.array_equal(info["pi2"]["eta"], o["pilqr_pi2_eta"])
    assert_policy(info["lqr"]["policy"], o, "lqr")


def test_inputs_of_other_dtypes_and_layouts_are_converted(oracle):
    x = np.asfortranarray(oracle["x"])
    u = oracle["u"].tolist()
    assert_dynamics(pilqr.fit_dynamics(x, u), oracle, "dyn_plain")


def test_shape_errors_name_the_argument_and_axis(oracle):
    x, u = oracle["x"], oracle["u"]
    with pytest.raises(pilqr.ShapeError, match=r"`u`: axis 1 \(T\) has length 5, expected 6"):
        pilqr.fit_dynamics(x, u[:, :5])
    with pytest.raises(pilqr.ShapeError, match=r"`x`: expected 3 axes"):
        pilqr.fit_dynamics(x[0], u)
    prev = policy(oracle, "previous")
    with pytest.raises(pilqr.ShapeError, match=r"`costs`: axis 0 \(N\)"):
        pilqr.pi2_update(prev, x, u, oracle["costs"][:3])
    with pytest.raises(pilqr.ShapeError, match=r"`x`: axis 2 \(dX\) has length 1, expected 2"):
        pilqr.pi2_update(prev, x[:, :, :1], u, oracle["costs"])
    with pytest.raises(pilqr.ShapeError, match="`kl_targets`"):
        pilqr.lqr_flm_update(pilqr.fit_dynamics(x, u), cost(oracle), prev, [0.5, 0.5])
    with pytest.raises(pilqr.ShapeError, match="`cov`"):
        pilqr.LinearGaussianPolicy(oracle["previous_K"], oracle["previous_k"], np.ones((6, 2, 2)))


def test_settings_and_rust_errors_are_typed(oracle):
    x, u = oracle["x"], oracle["u"]
    prev = policy(oracle, "previous")
    with pytest.raises(pilqr.SettingsError, match="kl_treshold"):
        pilqr.pi2_update(prev, x, u, oracle["costs"], kl_treshold=1.0)
    with pytest.raises(pilqr.SettingsError, match="strength"):
        pilqr.fit_dynamics(x, u, prior={"strength": 0.0})
    with pytest.raises(pilqr.SettingsError):
        pilqr.fit_dynamics(x, u, prior="wishart")
    bad = x.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(pilqr.SolverError, match="not finite"):
        pilqr.fit_dynamics(bad, u)
    with pytest.raises(pilqr.SolverError):
        pilqr.LinearGaussianPolicy(oracle["previous_K"], oracle["previous_k"], -oracle["previous_cov"])
    assert issubclass(pilqr.ShapeError, pilqr.PilqrError)


def test_init_lqr_and_init_pd_controllers():
    p = pilqr.LinearGaussianPolicy.init_lqr(20, 1, 0.05, [0.3, 0.0], (0, 1), (1, 2))
    assert p.K.shape == (20, 1, 2)
    assert p.act(0, np.array([1.0, 0.0]))[0] < 0.0
    pd = pilqr.LinearGaussianPolicy.init_pd(
        10, 1, [0.3, 0.0], (0, 1), (1, 2), pos_gain=2.0, vel_gain=0.5, init_var=0.1
    )
    assert abs(pd.act(0, np.array([0.3, 0.0]))[0]) < 1e-12
    assert np.allclose(pd.cov, 0.1)
