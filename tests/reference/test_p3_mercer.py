"""Tests for the Problem 3 instructor solution (Mercer kernel ridge regression)."""

from __future__ import annotations

import math
import subprocess
import sys
import zlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.optimize  # noqa: E402

from reference import p3_mercer as m  # noqa: E402

from conftest import PROJECT_ROOT


def objective(K: np.ndarray, Y: np.ndarray, lmbda: float, a: np.ndarray) -> float:
    """||Y - K a||^2 + lambda a^T K a, written out from the problem statement."""
    r = Y - K @ a
    return float(r @ r + lmbda * a @ K @ a)


def objective_grad(K: np.ndarray, Y: np.ndarray, lmbda: float, a: np.ndarray) -> np.ndarray:
    return -2 * K.T @ (Y - K @ a) + lmbda * (K + K.T) @ a


def psd_matrix(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random symmetric PSD matrix with a prescribed spectrum."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    if kind == "well_conditioned":
        eig = rng.uniform(1.0, 3.0, n)
    elif kind == "ill_conditioned":
        eig = np.logspace(0, -8, n)
    elif kind == "singular":
        eig = np.concatenate([rng.uniform(0.5, 2.0, n // 2), np.zeros(n - n // 2)])
    else:
        raise ValueError(kind)
    K = (Q * eig) @ Q.T
    return (K + K.T) / 2


def objective_hess(K: np.ndarray, lmbda: float) -> np.ndarray:
    return 2 * (K.T @ K + lmbda * (K + K.T) / 2)


def numerical_minimum(K: np.ndarray, Y: np.ndarray, lmbda: float) -> float:
    """Smallest objective value found by a generic trust-region optimiser from a zero start."""
    res = scipy.optimize.minimize(
        lambda a: objective(K, Y, lmbda, a),
        np.zeros(len(Y)),
        jac=lambda a: objective_grad(K, Y, lmbda, a),
        hess=lambda a: objective_hess(K, lmbda),
        method="trust-exact",
        options={"gtol": 1e-12, "maxiter": 10_000},
    )
    return float(res.fun)


@pytest.mark.parametrize("kind", ["well_conditioned", "ill_conditioned", "singular"])
@pytest.mark.parametrize("lmbda", [1e-3, 0.1, 2.0])
def test_alpha_hat_attains_numerical_minimum(kind: str, lmbda: float) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{kind}-{lmbda}".encode()))
    n = 10
    K = psd_matrix(kind, n, rng)
    Y = rng.standard_normal(n)
    a = m.alpha_hat(K, Y, lmbda)
    closed_form = objective(K, Y, lmbda, a)
    numeric = numerical_minimum(K, Y, lmbda)
    # alpha is not unique for singular K, so compare objective values, not coefficients.
    assert closed_form <= numeric + 1e-9 * max(1.0, numeric)
    assert closed_form == pytest.approx(numeric, rel=1e-7, abs=1e-10)


def test_alpha_hat_singular_minimiser_is_not_unique_but_value_is() -> None:
    rng = np.random.default_rng(7)
    K = psd_matrix("singular", 8, rng)
    Y = rng.standard_normal(8)
    a = m.alpha_hat(K, Y, 0.3)
    null_vec = np.linalg.eigh(K)[1][:, 0]
    assert np.linalg.norm(K @ null_vec) < 1e-10
    assert objective(K, Y, 0.3, a + 5 * null_vec) == pytest.approx(objective(K, Y, 0.3, a), rel=1e-10)


def test_alpha_hat_never_calls_explicit_inverse(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("np.linalg.inv was called")

    monkeypatch.setattr(np.linalg, "inv", forbidden)
    rng = np.random.default_rng(1)
    K = psd_matrix("well_conditioned", 6, rng)
    Y = rng.standard_normal(6)
    a = m.alpha_hat(K, Y, 0.5)
    np.testing.assert_allclose((K + 0.5 * np.eye(6)) @ a, Y, atol=1e-12)
    X = np.sort(rng.uniform(-1, 1, 12))
    fhat = m.mercer_kernel_regress(m.kernel1, X, m.true_fn(X), np.linspace(-1, 1, 5), 0.1)
    assert fhat.shape == (5,)


def test_alpha_hat_solves_a_stack_of_systems() -> None:
    rng = np.random.default_rng(2)
    Ks = np.stack([psd_matrix("well_conditioned", 5, rng) for _ in range(4)])
    Ys = rng.standard_normal((4, 5))
    stacked = m.alpha_hat(Ks, Ys, 0.2)
    for K, Y, a in zip(Ks, Ys, stacked):
        np.testing.assert_allclose(a, scipy.linalg.solve(K + 0.2 * np.eye(5), Y), rtol=1e-12)


def direct_fit(kernel, X: np.ndarray, y: np.ndarray, x: np.ndarray, lmbda: float) -> np.ndarray:
    """Kernel ridge regression with scalar kernel calls and scipy's solver."""
    K = np.array([[float(kernel(a, b)) for b in X] for a in X])
    K_eval = np.array([[float(kernel(a, b)) for b in X] for a in x])
    alpha = scipy.linalg.solve(K + lmbda * np.eye(len(X)), y, assume_a="sym")
    return K_eval @ alpha


def gaussian(x, y, h=0.3):
    return np.exp(-((x - y) ** 2) / (2 * h**2))


def laplacian(x, y, h=0.5):
    return np.exp(-np.abs(x - y) / h)


def polynomial(x, y, degree=3):
    return (1 + x * y) ** degree


@pytest.mark.parametrize("kernel", [gaussian, laplacian, polynomial], ids=["gaussian", "laplacian", "polynomial"])
@pytest.mark.parametrize("lmbda", [1e-3, 0.1, 1.0, 10.0])
def test_mercer_kernel_regress_matches_direct_computation(kernel, lmbda: float) -> None:
    rng = np.random.default_rng(3)
    X = np.sort(rng.uniform(-1, 1, 30))
    y = 3 * X**2 + 0.25 * rng.standard_normal(30)
    x = np.linspace(-1, 1, 100)
    fhat = m.mercer_kernel_regress(kernel, X, y, x, lmbda)
    expected = direct_fit(kernel, X, y, x, lmbda)
    np.testing.assert_allclose(fhat, expected, rtol=1e-7, atol=1e-8 * np.max(np.abs(expected)))


def test_mercer_kernel_regress_accepts_starter_style_kernel() -> None:
    """The starter's convention: kernel(X, xj) vectorised over X only, xj a scalar."""

    def starter_kernel(X, xj):
        h = 0.1
        return (1 / h) * np.exp(-((X - float(xj)) ** 2) / (2 * h**2))

    rng = np.random.default_rng(4)
    X = np.sort(rng.uniform(-1, 1, 20))
    y = 3 * X**2 + 0.25 * rng.standard_normal(20)
    x = np.linspace(-1, 1, 50)
    np.testing.assert_allclose(
        m.mercer_kernel_regress(starter_kernel, X, y, x, 0.01),
        direct_fit(starter_kernel, X, y, x, 0.01),
        rtol=1e-8,
    )


@pytest.mark.parametrize("m_eval", [1, 7, 100])
def test_mercer_kernel_regress_returns_flat_vector(m_eval: int) -> None:
    rng = np.random.default_rng(5)
    X = np.sort(rng.uniform(-1, 1, 50))
    y = m.true_fn(X)
    x = np.linspace(-1, 1, m_eval)
    fhat = m.mercer_kernel_regress(m.kernel1, X, y, x, 0.01)
    assert fhat.shape == (m_eval,)


def test_misspelled_alias_is_the_same_function() -> None:
    assert m.mercere_kernel_regress is m.mercer_kernel_regress


def test_kernel_factories_match_their_formulas() -> None:
    g = m.gaussian_kernel(0.4)
    lap = m.laplacian_kernel(0.7)
    assert g(0.3, -0.1) == pytest.approx(math.exp(-(0.4**2) / (2 * 0.4**2)))
    assert lap(0.3, -0.1) == pytest.approx(math.exp(-0.4 / 0.7))
    grid = np.linspace(-1, 1, 5)
    expected = np.exp(-(np.subtract.outer(grid, grid) ** 2) / (2 * 0.4**2))
    np.testing.assert_allclose(g(grid[:, None], grid[None, :]), expected)


@pytest.mark.parametrize(
    "kernel",
    [m.kernel1, m.kernel2, m.gaussian_kernel(0.1), m.laplacian_kernel(0.3)],
    ids=["kernel1", "kernel2", "gaussian0.1", "laplacian0.3"],
)
def test_kernels_symmetric_and_gram_psd(kernel) -> None:
    rng = np.random.default_rng(6)
    A = rng.uniform(-1, 1, 40)
    B = rng.uniform(-1, 1, 25)
    for a, b in zip(A[:10], B[:10]):
        assert kernel(a, b) == pytest.approx(kernel(b, a), rel=1e-14)
    G = m.gram(kernel, A, A)
    np.testing.assert_allclose(G, G.T, rtol=1e-14)
    eig = np.linalg.eigvalsh(G)
    assert eig.min() >= -1e-10 * eig.max()
    G_ab = m.gram(kernel, A, B)
    assert G_ab.shape == (40, 25)
    assert G_ab[3, 7] == pytest.approx(float(kernel(A[3], B[7])))


def test_gram_batch_matches_gram_per_trial() -> None:
    rng = np.random.default_rng(8)
    A = rng.uniform(-1, 1, (3, 6))
    B = rng.uniform(-1, 1, (3, 4))
    batch = m.gram_batch(m.kernel2, A, B)
    for t in range(3):
        np.testing.assert_allclose(batch[t], m.gram(m.kernel2, A[t], B[t]), rtol=1e-14)


def per_trial_bias_variance(kernel, lmbdas, X, noise, sigma):
    """The starter's run_simulation bookkeeping, one trial at a time, on given draws."""
    x = np.linspace(-1, 1, 100)
    f = 3 * x**2
    estimates = []
    for lmbda in lmbdas:
        estimates_lambda = []
        for Xt, et in zip(X, noise):
            y = 3 * Xt**2 + sigma * et
            estimates_lambda.append(m.mercer_kernel_regress(kernel, Xt, y, x, lmbda))
        estimates.append(estimates_lambda)
    fhat = np.array(estimates)
    sq_bias = np.zeros(len(lmbdas))
    variance = np.zeros(len(lmbdas))
    for i in range(len(lmbdas)):
        sq_bias[i] = np.mean((np.mean(fhat[i], axis=0) - f) ** 2)
        variance[i] = np.mean(np.var(fhat[i], axis=0))
    return sq_bias, variance


@pytest.mark.parametrize("kernel", [m.kernel1, m.kernel2], ids=["kernel1", "kernel2"])
def test_vectorised_simulation_matches_per_trial_loop(kernel) -> None:
    rng = np.random.default_rng(9)
    trials, n, sigma = 40, 20, 0.25
    X = np.sort(rng.uniform(-1, 1, (trials, n)), axis=1)
    noise = rng.standard_normal((trials, n))
    lmbdas = np.array([1e-4, 1e-2, 1.0])
    result = m.bias_variance_from_draws(kernel, lmbdas, m.Draws(X=X, noise=noise), sigma)
    sq_bias, variance = per_trial_bias_variance(kernel, lmbdas, X, noise, sigma)
    np.testing.assert_allclose(result.sq_bias, sq_bias, rtol=1e-8)
    np.testing.assert_allclose(result.variance, variance, rtol=1e-8)
    np.testing.assert_allclose(result.risk, sq_bias + variance, rtol=1e-8)
    np.testing.assert_array_equal(result.lmbdas, lmbdas)


def test_simulate_bias_variance_uses_seeded_draws() -> None:
    lmbdas = [1e-3, 0.1]
    result = m.simulate_bias_variance(m.kernel1, lmbdas, trials=30, n=15, sigma=0.5, seed=11)
    rng = np.random.default_rng(11)
    X = np.sort(rng.uniform(-1, 1, (30, 15)), axis=1)
    noise = rng.standard_normal((30, 15))
    sq_bias, variance = per_trial_bias_variance(m.kernel1, lmbdas, X, noise, 0.5)
    np.testing.assert_allclose(result.sq_bias, sq_bias, rtol=1e-8)
    np.testing.assert_allclose(result.variance, variance, rtol=1e-8)
    again = m.simulate_bias_variance(m.kernel1, lmbdas, trials=30, n=15, sigma=0.5, seed=11)
    np.testing.assert_array_equal(result.risk, again.risk)


def test_draw_samples_shapes_and_ranges() -> None:
    draws = m.draw_samples(np.random.default_rng(12), trials=200, n=50)
    assert draws.X.shape == draws.noise.shape == (200, 50)
    assert np.all(np.diff(draws.X, axis=1) >= 0)
    assert draws.X.min() >= -1 and draws.X.max() <= 1
    assert abs(draws.noise.mean()) < 0.05 and abs(draws.noise.std() - 1) < 0.05


def test_choose_lambda_picks_grid_minimum() -> None:
    grid = np.logspace(-5, 1, 13)
    result = m.simulate_bias_variance(m.kernel2, grid, trials=60, seed=4)
    expected = grid[np.argmin(result.sq_bias + result.variance)]
    assert m.choose_lambda(m.kernel2, grid, trials=60, seed=4) == expected


def test_default_lambda_grid_is_fine_and_log_spaced() -> None:
    grid = m.default_lambda_grid()
    ratios = grid[1:] / grid[:-1]
    np.testing.assert_allclose(ratios, ratios[0])
    assert ratios[0] <= 10**0.25
    assert grid[0] <= 1e-6 and grid[-1] >= 10


def test_chosen_lambdas_are_interior_grid_minima() -> None:
    grid = m.default_lambda_grid()
    chosen = m.chosen_lambdas(seed=0)
    for kernel, lam in [(m.kernel1, chosen.lambda_hat_1), (m.kernel2, chosen.lambda_hat_2)]:
        risk = m.simulate_bias_variance(kernel, grid, seed=0).risk
        i = int(np.argmin(risk))
        assert lam == grid[i]
        assert 0 < i < len(grid) - 1, "optimum at the edge of the grid: widen it"
    assert m.lambda_hat_1 == chosen.lambda_hat_1
    assert m.lambda_hat_2 == chosen.lambda_hat_2


def test_import_runs_no_simulation() -> None:
    code = (
        "import numpy as np\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError('solve at import')\n"
        "np.linalg.solve = boom\n"
        "import reference.p3_mercer\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True)


def test_bias_variance_figure_labels_three_curves_on_log_axis() -> None:
    result = m.BiasVariance(
        lmbdas=np.array([1e-3, 1e-2, 1e-1]),
        sq_bias=np.array([0.01, 0.02, 0.05]),
        variance=np.array([0.04, 0.02, 0.01]),
        risk=np.array([0.05, 0.04, 0.06]),
    )
    fig, ax = plt.subplots()
    returned = m.bias_variance_figure(result, ax=ax)
    assert returned is ax
    assert ax.get_xscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["squared bias", "variance", "risk"]
    np.testing.assert_allclose(ax.get_lines()[2].get_ydata(), result.risk)
    assert ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == labels
    plt.close(fig)
    own = m.bias_variance_figure(result)
    assert len(own.get_lines()) == 3
    plt.close(own.figure)
