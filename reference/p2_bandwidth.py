"""Problem 2 reference solution: optimal bandwidth, risk rate and the curse of dimensionality.

With bias^2 <= c1 h^4 and var <= c2 / (n h^p) the risk bound is
R(h) = c1 h^4 + c2 / (n h^p). Setting R'(h) = 4 c1 h^3 - p c2 / (n h^(p+1)) = 0 gives

    h* = (p c2 / (4 c1 n))^(1 / (p + 4)),

and at h* the variance term equals (4 / p) times the bias term, so

    R(h*) = c1 h*^4 (1 + 4 / p) = C(p, c1, c2) n^(-4 / (p + 4)).

Inverting the last identity gives the sample size needed for a target risk in
closed form, n = (C / R)^((p + 4) / 4). Everything is computed on the log
scale because for large p the powers overflow float64 long before the
answers do. All functions broadcast over numpy arrays and return a float for
scalar input.
"""

from __future__ import annotations

from collections.abc import Iterable

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn: the grader's keys need none
    from matplotlib.axes import Axes

ArrayLike = float | np.ndarray


def _positive(*values: ArrayLike) -> list[np.ndarray]:
    """Inputs as float64 arrays, rejecting non-positive entries (the formulas need logs)."""
    arrays = [np.asarray(v, dtype=np.float64) for v in values]
    if any(np.any(~(a > 0)) for a in arrays):
        raise ValueError("c1, c2, n, p and the target risk must all be positive")
    return arrays


def _output(value: np.ndarray) -> ArrayLike:
    """A float for 0-d results, the array otherwise."""
    return float(value) if np.ndim(value) == 0 else value


def log_optimal_bandwidth(c1: ArrayLike, c2: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray:
    """log h* = (log p + log c2 - log 4 - log c1 - log n) / (p + 4)."""
    c1, c2, n, p = _positive(c1, c2, n, p)
    return (np.log(p) + np.log(c2) - np.log(4.0) - np.log(c1) - np.log(n)) / (p + 4.0)


def log_risk_bound(c1: ArrayLike, c2: ArrayLike, n: ArrayLike, p: ArrayLike) -> np.ndarray:
    """log R(h*) = log c1 + 4 log h* + log(1 + 4 / p)."""
    c1, c2, n, p = _positive(c1, c2, n, p)
    return np.log(c1) + 4.0 * log_optimal_bandwidth(c1, c2, n, p) + np.log1p(4.0 / p)


def optimal_bandwidth(c1: ArrayLike, c2: ArrayLike, n: ArrayLike, p: ArrayLike) -> ArrayLike:
    """Bandwidth minimising c1 h^4 + c2 / (n h^p): (p c2 / (4 c1 n))^(1 / (p + 4))."""
    return _output(np.exp(log_optimal_bandwidth(c1, c2, n, p)))


def risk_bound(c1: ArrayLike, c2: ArrayLike, n: ArrayLike, p: ArrayLike) -> ArrayLike:
    """Smallest value of the risk bound c1 h^4 + c2 / (n h^p), attained at h*."""
    return _output(np.exp(log_risk_bound(c1, c2, n, p)))


def bandwidth_exponent(p: ArrayLike) -> ArrayLike:
    """Exponent a in h* proportional to n^a: -1 / (p + 4)."""
    (p,) = _positive(p)
    return _output(-1.0 / (p + 4.0))


def risk_exponent(p: ArrayLike) -> ArrayLike:
    """Exponent b in R(h*) proportional to n^b: -4 / (p + 4), the fastest achievable rate."""
    (p,) = _positive(p)
    return _output(-4.0 / (p + 4.0))


def sample_size(risk: ArrayLike, p: ArrayLike, c1: ArrayLike = 1.0, c2: ArrayLike = 1.0) -> ArrayLike:
    """Sample size n at which the optimal risk bound equals `risk`: n = (C / risk)^((p + 4) / 4)."""
    risk, p, c1, c2 = _positive(risk, p, c1, c2)
    log_c = log_risk_bound(c1, c2, 1.0, p)
    return _output(np.exp((p + 4.0) / 4.0 * (log_c - np.log(risk))))


def curse_of_dimensionality_figure(
    ax: Axes | None = None,
    risks: np.ndarray = np.linspace(0.1, 0.5, 200),
    dims: Iterable[int] = range(1, 21),
) -> Axes:
    """Plot the sample size needed to reach each target risk, one curve per dimension p (c1 = c2 = 1)."""
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(8, 5)).add_subplot()
    dims = list(dims)
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    norm = Normalize(vmin=min(dims), vmax=max(dims))
    cmap = colormaps["viridis"]
    for p in dims:
        ax.plot(risks, sample_size(risks, p), color=cmap(norm(p)), label=f"p = {p}")
    ax.set_yscale("log")
    ax.set_xlabel("target risk R")
    ax.set_ylabel("required sample size n (log scale)")
    ax.set_title("Curse of dimensionality: sample size for a target risk (c1 = c2 = 1)")
    ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="dimension p")
    return ax
