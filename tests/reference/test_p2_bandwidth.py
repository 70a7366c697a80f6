"""Tests for the problem 2 reference: closed forms checked against numerical optimisation."""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

from reference import p2_bandwidth as p2


def numerical_optimum(c1: float, c2: float, n: float, p: float) -> tuple[float, float]:
    """(argmin, min) of c1 h^4 + c2 / (n h^p), found by Brent's method on t = log h."""

    def log_risk(t: float) -> float:
        return float(np.logaddexp(np.log(c1) + 4.0 * t, np.log(c2) - np.log(n) - p * t))

    result = minimize_scalar(log_risk, bounds=(-60.0, 20.0), method="bounded", options={"xatol": 1e-12})
    return float(np.exp(result.x)), float(np.exp(result.fun))


def random_cases(seed: int, count: int) -> list[tuple[float, float, float, int]]:
    """(c1, c2, n, p) drawn log-uniformly over wide ranges, p from 1 to 100."""
    rng = np.random.default_rng(seed)
    c1 = 10.0 ** rng.uniform(-3, 3, count)
    c2 = 10.0 ** rng.uniform(-3, 3, count)
    n = 10.0 ** rng.uniform(1, 12, count)
    p = rng.integers(1, 101, count)
    return [(float(a), float(b), float(m), int(q)) for a, b, m, q in zip(c1, c2, n, p)]


CASES = random_cases(seed=2022, count=40)


@pytest.mark.parametrize("c1, c2, n, p", CASES)
def test_optimal_bandwidth_matches_numerical_minimiser(c1: float, c2: float, n: float, p: int) -> None:
    h_numeric, _ = numerical_optimum(c1, c2, n, p)
    assert p2.optimal_bandwidth(c1, c2, n, p) == pytest.approx(h_numeric, rel=1e-6)


@pytest.mark.parametrize("c1, c2, n, p", CASES)
def test_risk_bound_matches_numerical_minimum(c1: float, c2: float, n: float, p: int) -> None:
    _, r_numeric = numerical_optimum(c1, c2, n, p)
    assert p2.risk_bound(c1, c2, n, p) == pytest.approx(r_numeric, rel=1e-9)


@pytest.mark.parametrize("p", [1, 2, 5, 20, 100])
def test_exponents_match_finite_difference_slopes_in_log_n(p: int) -> None:
    c1, c2 = 0.7, 3.0
    n_small, n_large = 1e4, 1e8
    h_small, r_small = numerical_optimum(c1, c2, n_small, p)
    h_large, r_large = numerical_optimum(c1, c2, n_large, p)
    d_log_n = np.log(n_large) - np.log(n_small)
    assert p2.bandwidth_exponent(p) == pytest.approx((np.log(h_large) - np.log(h_small)) / d_log_n, abs=1e-7)
    assert p2.risk_exponent(p) == pytest.approx((np.log(r_large) - np.log(r_small)) / d_log_n, abs=1e-9)


@pytest.mark.parametrize("p", [1, 3, 10, 20, 50, 100])
def test_sample_size_round_trips_through_risk_bound(p: int) -> None:
    rng = np.random.default_rng(p)
    risks = rng.uniform(0.01, 1.0, 10)
    c1, c2 = 10.0 ** rng.uniform(-1, 1, 2)
    n = p2.sample_size(risks, p, c1, c2)
    np.testing.assert_allclose(p2.risk_bound(c1, c2, n, p), risks, rtol=1e-10)


@pytest.mark.parametrize("risk, p, c1, c2", [(0.1, 1, 1.0, 1.0), (0.3, 4, 2.0, 0.5), (0.5, 20, 1.0, 1.0)])
def test_sample_size_matches_numerical_root(risk: float, p: int, c1: float, c2: float) -> None:
    def gap(log_n: float) -> float:
        return np.log(numerical_optimum(c1, c2, np.exp(log_n), p)[1]) - np.log(risk)

    n_numeric = np.exp(brentq(gap, 0.0, 200.0, xtol=1e-12))
    assert p2.sample_size(risk, p, c1, c2) == pytest.approx(n_numeric, rel=1e-6)


@pytest.mark.parametrize("p", [1, 7, 20, 100])
def test_sample_size_slope_in_log_risk_is_minus_p_plus_4_over_4(p: int) -> None:
    r_low, r_high = 0.1, 0.4
    slope = (np.log(p2.sample_size(r_high, p)) - np.log(p2.sample_size(r_low, p))) / (np.log(r_high) - np.log(r_low))
    assert slope == pytest.approx(-(p + 4) / 4, rel=1e-10)


def test_sample_size_for_large_p_is_instant_and_finite() -> None:
    start = time.perf_counter()
    n = p2.sample_size(0.1, 20)
    elapsed = time.perf_counter() - start
    assert np.isfinite(n) and n > 1e6
    assert elapsed < 0.05


def test_no_overflow_for_large_p_and_n() -> None:
    with np.errstate(all="raise"):
        h = p2.optimal_bandwidth(1.0, 1.0, 1e12, 100)
        r = p2.risk_bound(1.0, 1.0, 1e12, 100)
        n = p2.sample_size(np.linspace(0.1, 0.5, 50), 100)
    assert np.isfinite(h) and h > 0
    assert np.isfinite(r) and r > 0
    assert np.all(np.isfinite(n)) and np.all(n > 0)


def test_functions_broadcast_and_return_floats_for_scalars() -> None:
    risks = np.array([0.1, 0.2, 0.5])
    dims = np.array([[1], [5], [20], [100]])
    grid = p2.sample_size(risks, dims)
    assert grid.shape == (4, 3)
    for i, p in enumerate(dims[:, 0]):
        for j, risk in enumerate(risks):
            value = p2.sample_size(float(risk), int(p))
            assert isinstance(value, float)
            assert grid[i, j] == pytest.approx(value, rel=1e-12)
    ns = np.array([1e2, 1e6, 1e12])
    assert p2.optimal_bandwidth(1.0, 2.0, ns, 3).shape == (3,)
    assert p2.risk_bound(1.0, 2.0, ns, 3).shape == (3,)
    np.testing.assert_allclose(p2.risk_exponent(np.array([1, 4])), [-0.8, -0.5])
    np.testing.assert_allclose(p2.bandwidth_exponent(np.array([1, 4])), [-0.2, -0.125])


def test_non_positive_inputs_are_rejected() -> None:
    with pytest.raises(ValueError):
        p2.sample_size(0.0, 3)
    with pytest.raises(ValueError):
        p2.optimal_bandwidth(1.0, 1.0, -5.0, 3)


def test_curse_of_dimensionality_figure() -> None:
    risks = np.linspace(0.1, 0.5, 200)
    ax = p2.curse_of_dimensionality_figure()
    lines = ax.get_lines()
    assert len(lines) == 20
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel().strip() and ax.get_ylabel().strip() and ax.get_title().strip()
    has_key = ax.get_legend() is not None or len(ax.figure.axes) > 1
    assert has_key, "needs a legend or a colorbar to tell the dimensions apart"
    curves = []
    for line in lines:
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        np.testing.assert_allclose(x, risks)
        assert np.all(np.diff(y) < 0), "required sample size must fall as the target risk grows"
        curves.append(y)
    # Curse of dimensionality: at every target risk, more dimensions need more data.
    assert np.all(np.diff(np.array(curves), axis=0) > 0)
