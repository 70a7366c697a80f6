"""Problem 3: nonparametric regression with Mercer kernels in one dimension.

The coefficients minimise g(a) = ||Y - K a||^2 + lambda a^T K a. With K symmetric, the gradient is
-2 K Y + 2 K K a + 2 lambda K a = 2 K [(K + lambda I) a - Y], which vanishes at a = (K + lambda I)^-1 Y;
g is convex (K is PSD), so this point is a minimiser. It is the unique one when K is nonsingular;
otherwise any null-space component of K can be added without changing K a or the objective.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Kernel = Callable[[Any, Any], Any]

X_MIN, X_MAX = -1.0, 1.0
GRID_SIZE = 100

__all__ = [
    "BiasVariance",
    "ChosenLambdas",
    "Draws",
    "alpha_hat",
    "bias_variance_figure",
    "bias_variance_from_draws",
    "choose_lambda",
    "chosen_lambdas",
    "default_lambda_grid",
    "draw_samples",
    "evaluation_grid",
    "gaussian_kernel",
    "gram",
    "gram_batch",
    "kernel1",
    "kernel2",
    "laplacian_kernel",
    "mercer_kernel_regress",
    "mercere_kernel_regress",
    "simulate_bias_variance",
    "true_fn",
]


@dataclass(frozen=True)
class BiasVariance:
    """Simulated squared bias, variance and risk (their sum) of the estimate, one entry per lambda."""

    lmbdas: np.ndarray
    sq_bias: np.ndarray
    variance: np.ndarray
    risk: np.ndarray


@dataclass(frozen=True)
class Draws:
    """Random inputs of a simulation: sorted design points and standard normal noise, one row per trial."""

    X: np.ndarray
    noise: np.ndarray


@dataclass(frozen=True)
class ChosenLambdas:
    """Regularisation levels selected for `kernel1` and `kernel2` by simulated risk."""

    lambda_hat_1: float
    lambda_hat_2: float


def alpha_hat(K: np.ndarray, Y: np.ndarray, lmbda: float) -> np.ndarray:
    """Coefficients (K + lambda I)^-1 Y of the penalised fit, by a linear solve.

    Works on a single system (n, n) or a stack of systems (..., n, n) with Y of shape (..., n).
    """
    K = np.asarray(K, dtype=float)
    Y = np.asarray(Y, dtype=float)
    shifted = K + lmbda * np.eye(K.shape[-1])
    return np.linalg.solve(shifted, Y[..., None])[..., 0]


def gram(kernel: Kernel, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Matrix G[i, j] = kernel(A[i], B[j]) for 1-D arrays A and B.

    Column j is kernel(A, B[j]), the starter's calling convention, so any kernel vectorised over its
    first argument works.
    """
    A = np.asarray(A, dtype=float).ravel()
    B = np.asarray(B, dtype=float).ravel()
    G = np.empty((A.size, B.size))
    for j, b in enumerate(B):
        G[:, j] = kernel(A, b)
    return G


def gram_batch(kernel: Kernel, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Stacked Gram matrices G[t, i, j] = kernel(A[t, i], B[t, j]) for A (T, n) and B (T, m).

    Needs a kernel built from element-wise numpy operations, so that it broadcasts.
    """
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    G = np.asarray(kernel(A[:, :, None], B[:, None, :]), dtype=float)
    return np.broadcast_to(G, (A.shape[0], A.shape[1], B.shape[1]))


def mercer_kernel_regress(kernel: Kernel, X: np.ndarray, y: np.ndarray, x: np.ndarray, lmbda: float) -> np.ndarray:
    """Kernel ridge estimate fitted on (X, y) and evaluated at x; shape (len(x),).

    The flat shape matters: a (len(x), 1) column broadcasts into a grid in the bias/variance code.
    """
    X = np.asarray(X, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    x = np.asarray(x, dtype=float).ravel()
    alpha = alpha_hat(gram(kernel, X, X), y, lmbda)
    return gram(kernel, x, X) @ alpha


mercere_kernel_regress = mercer_kernel_regress


def gaussian_kernel(bandwidth: float) -> Kernel:
    """Gaussian kernel exp(-(x - y)^2 / (2 h^2)) with bandwidth h; broadcasts over arrays."""

    def kernel(x: Any, y: Any) -> Any:
        return np.exp(-(np.subtract(x, y) ** 2) / (2.0 * bandwidth**2))

    return kernel


def laplacian_kernel(bandwidth: float) -> Kernel:
    """Laplacian kernel exp(-|x - y| / h) with bandwidth h; broadcasts over arrays."""

    def kernel(x: Any, y: Any) -> Any:
        return np.exp(-np.abs(np.subtract(x, y)) / bandwidth)

    return kernel


def kernel1(x: Any, y: Any) -> Any:
    """Gaussian kernel with bandwidth 0.5: smooth estimates, well suited to the quadratic truth."""
    return gaussian_kernel(0.5)(x, y)


def kernel2(x: Any, y: Any) -> Any:
    """Laplacian kernel with bandwidth 1: rougher estimates, kinked at every design point."""
    return laplacian_kernel(1.0)(x, y)


def true_fn(x: np.ndarray) -> np.ndarray:
    """Regression function of the simulation, 3 x^2."""
    return 3 * np.asarray(x, dtype=float) ** 2


def evaluation_grid() -> np.ndarray:
    """The starter's 100 evenly spaced evaluation points on [-1, 1]."""
    return np.linspace(X_MIN, X_MAX, GRID_SIZE)


def draw_samples(rng: np.random.Generator, trials: int, n: int) -> Draws:
    """All trials' sorted U(-1, 1) design points and standard normal noise, drawn at once."""
    X = np.sort(rng.uniform(X_MIN, X_MAX, size=(trials, n)), axis=1)
    noise = rng.standard_normal(size=(trials, n))
    return Draws(X=X, noise=noise)


def bias_variance_from_draws(kernel: Kernel, lmbdas: np.ndarray, draws: Draws, sigma: float = 0.25) -> BiasVariance:
    """Squared bias and variance of the estimate on the evaluation grid, over the given draws.

    The same draws serve every lambda, so the curves are smooth in lambda and comparable across it.
    """
    lmbdas = np.asarray(lmbdas, dtype=float).ravel()
    x = evaluation_grid()
    f = true_fn(x)
    y = true_fn(draws.X) + sigma * draws.noise
    K = gram_batch(kernel, draws.X, draws.X)
    K_eval = gram_batch(kernel, np.broadcast_to(x, (draws.X.shape[0], x.size)), draws.X)
    sq_bias = np.empty(lmbdas.size)
    variance = np.empty(lmbdas.size)
    for i, lmbda in enumerate(lmbdas):
        fhat = np.einsum("tmn,tn->tm", K_eval, alpha_hat(K, y, lmbda))
        sq_bias[i] = np.mean((np.mean(fhat, axis=0) - f) ** 2)
        variance[i] = np.mean(np.var(fhat, axis=0))
    return BiasVariance(lmbdas=lmbdas, sq_bias=sq_bias, variance=variance, risk=sq_bias + variance)


def simulate_bias_variance(
    kernel: Kernel,
    lmbdas: np.ndarray,
    trials: int = 500,
    n: int = 50,
    sigma: float = 0.25,
    seed: int = 0,
) -> BiasVariance:
    """The starter's bias/variance simulation, vectorised over trials and reproducible by seed."""
    draws = draw_samples(np.random.default_rng(seed), trials, n)
    return bias_variance_from_draws(kernel, lmbdas, draws, sigma)


def default_lambda_grid() -> np.ndarray:
    """Fine log-spaced grid of 36 values from 1e-6 to 10 (five per decade)."""
    return np.logspace(-6, 1, 36)


def choose_lambda(kernel: Kernel, lmbdas: np.ndarray, **sim_kwargs: Any) -> float:
    """The lambda of the grid with the smallest simulated risk (squared bias + variance)."""
    result = simulate_bias_variance(kernel, lmbdas, **sim_kwargs)
    return float(result.lmbdas[np.argmin(result.risk)])


def chosen_lambdas(seed: int = 0) -> ChosenLambdas:
    """Risk-minimising lambdas for `kernel1` and `kernel2` on the default grid."""
    grid = default_lambda_grid()
    return ChosenLambdas(
        lambda_hat_1=choose_lambda(kernel1, grid, seed=seed),
        lambda_hat_2=choose_lambda(kernel2, grid, seed=seed),
    )


def __getattr__(name: str) -> float:
    """Compute `lambda_hat_1` / `lambda_hat_2` on first access, keeping imports cheap."""
    if name in ("lambda_hat_1", "lambda_hat_2"):
        return getattr(chosen_lambdas(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def bias_variance_figure(result: BiasVariance, ax: Any = None) -> Any:
    """Plot squared bias, variance and risk against lambda on a log axis; returns the Axes."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(10, 6))
    ax.plot(result.lmbdas, result.sq_bias, linewidth=2, label="squared bias")
    ax.plot(result.lmbdas, result.variance, linewidth=2, label="variance")
    ax.plot(result.lmbdas, result.risk, linewidth=2, label="risk")
    ax.set_xscale("log")
    ax.set_xlabel("lambda")
    ax.set_ylabel("mean over the evaluation grid")
    ax.set_title("Bias-variance tradeoff")
    ax.legend()
    return ax
