"""Tests for the problem 1 reference: selection, refit, predictive risk and the path plot."""

from __future__ import annotations

import dataclasses
import pickle

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from reference import p1_lasso as p1

from conftest import SHARED_PROBLEM1 as REAL_DATA

SIGMA = 0.37
N_ROWS, N_COLS = 100, 50


@dataclasses.dataclass(frozen=True)
class Synthetic:
    """A data set shaped like the course data, with its known truth."""

    X: np.ndarray
    y: np.ndarray
    beta: np.ndarray
    strong: frozenset[int]
    weak: frozenset[int]


def make_synthetic(seed: int, with_weak: bool) -> Synthetic:
    """X ~ N(0, 1); 3-5 strong coefficients of size 0.3-0.75, random signs; optionally one weak of 0.15-0.2."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_ROWS, N_COLS))
    n_strong = int(rng.integers(3, 6))
    columns = rng.choice(N_COLS, n_strong + 1, replace=False)
    beta = np.zeros(N_COLS)
    beta[columns[:n_strong]] = rng.uniform(0.3, 0.75, n_strong) * rng.choice([-1.0, 1.0], n_strong)
    weak = frozenset()
    if with_weak:
        beta[columns[n_strong]] = rng.uniform(0.15, 0.2) * rng.choice([-1.0, 1.0])
        weak = frozenset({int(columns[n_strong])})
    y = X @ beta + SIGMA * rng.standard_normal(N_ROWS)
    return Synthetic(X, y, beta, frozenset(int(c) for c in columns[:n_strong]), weak)


def true_risk(data: Synthetic, fit: p1.Fit, draws: int = 200_000, seed: int = 12345) -> float:
    """E(Y - prediction)^2 for the fitted model, by Monte Carlo on fresh draws from the known model."""
    rng = np.random.default_rng(seed)
    X_new = rng.standard_normal((draws, N_COLS))
    y_new = X_new @ data.beta + SIGMA * rng.standard_normal(draws)
    prediction = fit.intercept + X_new[:, fit.support] @ fit.coef
    return float(np.mean((y_new - prediction) ** 2))


SYNTHETIC_SEEDS = range(6)


@pytest.fixture(scope="module", params=SYNTHETIC_SEEDS)
def synthetic(request: pytest.FixtureRequest) -> Synthetic:
    return make_synthetic(request.param, with_weak=request.param % 2 == 0)


@pytest.fixture(scope="module")
def real_data() -> tuple[np.ndarray, np.ndarray]:
    with REAL_DATA.open("rb") as handle:
        X, y = pickle.load(handle)
    return np.asarray(X, dtype=float), np.asarray(y, dtype=float)


@pytest.fixture(scope="module")
def real_answer(real_data: tuple[np.ndarray, np.ndarray]) -> p1.P1Answer:
    return p1.solve(*real_data, seed=0)


needs_real_data = pytest.mark.skipif(not REAL_DATA.exists(), reason=f"course data not found at {REAL_DATA}")


# Selection and refit on synthetic look-alikes.


def test_select_support_recovers_strong_signals_with_few_false_positives(synthetic: Synthetic) -> None:
    support = p1.select_support(synthetic.X, synthetic.y, seed=0)
    assert support.dtype.kind == "i"
    assert np.all(np.diff(support) > 0), "support must be sorted and without repeats"
    selected = set(support.tolist())
    assert synthetic.strong <= selected
    false_positives = selected - synthetic.strong - synthetic.weak
    assert len(false_positives) <= 1, f"false positives {sorted(false_positives)}"


def test_refit_coefficients_within_four_standard_errors_of_truth(synthetic: Synthetic) -> None:
    support = p1.select_support(synthetic.X, synthetic.y, seed=0)
    fit = p1.refit(synthetic.X, synthetic.y, support)
    np.testing.assert_array_equal(fit.support, support)
    assert np.all(np.abs(fit.coef - synthetic.beta[support]) <= 4 * fit.stderr)


def test_refit_agrees_with_sklearn_and_uses_n_minus_k_minus_1_dof() -> None:
    data = make_synthetic(10, with_weak=True)
    support = np.array(sorted(data.strong | data.weak))
    fit = p1.refit(data.X, data.y, support)
    reference = LinearRegression().fit(data.X[:, support], data.y)
    np.testing.assert_allclose(fit.coef, reference.coef_, rtol=1e-10)
    assert fit.intercept == pytest.approx(reference.intercept_, abs=1e-10)
    residuals = data.y - reference.predict(data.X[:, support])
    dof = N_ROWS - len(support) - 1
    assert fit.sigma == pytest.approx(np.sqrt(residuals @ residuals / dof), rel=1e-10)


def test_refit_standard_errors_match_sampling_spread() -> None:
    data = make_synthetic(11, with_weak=False)
    support = np.array(sorted(data.strong))
    rng = np.random.default_rng(7)
    coefs, stderrs = [], []
    for _ in range(400):
        y = data.X @ data.beta + SIGMA * rng.standard_normal(N_ROWS)
        fit = p1.refit(data.X, y, support)
        coefs.append(fit.coef)
        stderrs.append(fit.stderr)
    np.testing.assert_allclose(np.mean(stderrs, axis=0), np.std(coefs, axis=0, ddof=1), rtol=0.15)


def test_refit_on_empty_support_is_the_mean() -> None:
    data = make_synthetic(12, with_weak=False)
    fit = p1.refit(data.X, data.y, np.array([], dtype=int))
    assert fit.coef.shape == (0,) and fit.stderr.shape == (0,)
    assert fit.intercept == pytest.approx(data.y.mean())


# Predictive risk.


@pytest.fixture(scope="module", params=[0, 1])
def risk_case(request: pytest.FixtureRequest) -> tuple[Synthetic, p1.P1Answer, p1.RiskEstimate]:
    data = make_synthetic(request.param, with_weak=True)
    answer = p1.solve(data.X, data.y, seed=0)
    return data, answer, p1.predictive_risk_cv(data.X, data.y, seed=0)


def test_predictive_risk_cv_is_close_to_the_true_risk(risk_case) -> None:
    data, answer, estimate = risk_case
    truth = true_risk(data, p1.refit(data.X, data.y, answer.S_hat))
    assert truth > SIGMA**2
    assert answer.risk_hat == pytest.approx(estimate.estimate)
    assert 0.6 * truth <= estimate.estimate <= 1.6 * truth
    assert abs(estimate.estimate - truth) <= 3 * estimate.stderr
    assert 0 < estimate.stderr < 0.5 * estimate.estimate


def test_predictive_risk_cv_exceeds_in_sample_error_of_an_overfit_model(risk_case) -> None:
    data, _, estimate = risk_case
    overfit = LinearRegression().fit(data.X, data.y)
    training_mse = np.mean((data.y - overfit.predict(data.X)) ** 2)
    assert estimate.estimate > 1.5 * training_mse


def test_select_support_is_deterministic_given_seed() -> None:
    data = make_synthetic(3, with_weak=False)
    first = p1.select_support(data.X, data.y, seed=4)
    second = p1.select_support(data.X, data.y, seed=4)
    np.testing.assert_array_equal(first, second)


def test_answer_contract(risk_case) -> None:
    _, answer, _ = risk_case
    assert [f.name for f in dataclasses.fields(answer)] == ["S_hat", "beta_hat", "risk_hat"]
    assert answer.beta_hat.shape == answer.S_hat.shape
    assert isinstance(answer.risk_hat, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.risk_hat = 0.0  # type: ignore[misc]


# Plot.


def test_lasso_path_figure() -> None:
    data = make_synthetic(0, with_weak=True)
    ax = p1.lasso_path_figure(data.X, data.y)
    lines = ax.get_lines()
    assert len(lines) >= N_COLS
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel().strip() and ax.get_ylabel().strip() and ax.get_title().strip()
    alphas = np.asarray(lines[0].get_xdata())
    assert np.all(alphas > 0) and alphas.max() / alphas.min() >= 100
    at_largest_alpha = [np.asarray(line.get_ydata())[np.argmax(line.get_xdata())] for line in lines]
    assert np.allclose(at_largest_alpha, 0.0), "the path must start from the empty model"


def test_lasso_path_figure_draws_on_given_axes() -> None:
    from matplotlib.figure import Figure

    data = make_synthetic(1, with_weak=False)
    ax = Figure().add_subplot()
    assert p1.lasso_path_figure(data.X, data.y, ax=ax) is ax


# The course data.


@needs_real_data
def test_real_data_selects_the_strong_signals(real_answer: p1.P1Answer) -> None:
    selected = set(real_answer.S_hat.tolist())
    assert {3, 5, 6} <= selected <= {3, 5, 6, 42}


@needs_real_data
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_real_data_selection_is_stable_across_fold_seeds(real_data, seed: int) -> None:
    selected = set(p1.select_support(*real_data, seed=seed).tolist())
    assert {3, 5, 6} <= selected <= {3, 5, 6, 42}


@needs_real_data
def test_real_data_coefficients(real_data, real_answer: p1.P1Answer) -> None:
    fit = p1.refit(*real_data, real_answer.S_hat)
    np.testing.assert_allclose(real_answer.beta_hat, fit.coef)
    position = {int(j): i for i, j in enumerate(real_answer.S_hat)}
    for column, expected in [(6, 0.75), (5, 0.61), (3, 0.32)]:
        i = position[column]
        assert abs(fit.coef[i] - expected) <= 2 * fit.stderr[i], f"column {column}"
    assert 0.35 <= fit.sigma <= 0.42


@needs_real_data
def test_real_data_risk(real_answer: p1.P1Answer) -> None:
    assert 0.1 <= real_answer.risk_hat <= 0.3


def test_predictive_risk_cv_redoes_selection_inside_each_training_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_synthetic(2, with_weak=True)
    training_sizes = []
    original = p1.select_support

    def spy(X: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
        training_sizes.append(len(y))
        return original(X, y, seed=seed, n_repeats=1)

    monkeypatch.setattr(p1, "select_support", spy)
    p1.predictive_risk_cv(data.X, data.y, seed=0, n_splits=5, n_repeats=2)
    assert training_sizes == [N_ROWS - N_ROWS // 5] * 10
