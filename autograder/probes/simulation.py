"""The grader's own bias-variance simulation of problem 3, run with the student's kernel.

Grader-side knowledge (it contains the closed form of 3.1): the engine ships it into the grading
kernel, but the student template does not include it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograder.probes.calls import call, time_limit
from autograder.probes.p3_mercer import BY_NAME


def risk_curve(
    kernel: Any,
    convention: str,
    lmbdas: Sequence[float],
    trials: int,
    seed: int,
    budget_s: float,
    n: int = 50,
    sigma: float = 0.25,
) -> dict:
    """Simulated squared bias + variance of the Mercer fit of 3 x^2 at each lambda (the starter's bookkeeping).

    The kernel is called in `convention`, one of `p3_mercer.CONVENTIONS`, as the probes found it works.
    """
    rng = np.random.default_rng(seed)
    x = np.linspace(-1, 1, 100)
    f = 3 * x**2
    X = np.sort(rng.uniform(-1, 1, (trials, n)), axis=1)
    y = 3 * X**2 + sigma * rng.standard_normal((trials, n))
    gram = BY_NAME[convention].gram

    def grams():
        return np.stack([gram(kernel, Xt, Xt) for Xt in X]), np.stack([gram(kernel, x, Xt) for Xt in X])

    result = call(grams, timeout_s=budget_s)
    if result["error"]:
        return {"error": result["error"]}
    K, K_eval = result["value"]
    with time_limit(budget_s):
        fits = (
            _fits_by_eigen(K, K_eval, y, lmbdas)
            if np.allclose(K, np.swapaxes(K, 1, 2))
            else _fits_by_solve(K, K_eval, y, lmbdas)
        )
        risks = [float(np.mean((fhat.mean(axis=0) - f) ** 2) + np.mean(fhat.var(axis=0))) for fhat in fits]
    return {"lmbdas": [float(v) for v in lmbdas], "risk": risks}


def _fits_by_eigen(K: np.ndarray, K_eval: np.ndarray, y: np.ndarray, lmbdas: Sequence[float]):
    """The fits K_eval (K + lambda I)^-1 y of every trial, for each lambda, from one eigendecomposition
    of each (symmetric) K: V diag(1 / (w + lambda)) V' y, so a lambda costs a product, not a solve."""
    w, V = np.linalg.eigh(K)
    projected, coords = np.einsum("tmn,tnk->tmk", K_eval, V), np.einsum("tnk,tn->tk", V, y)
    for lmbda in lmbdas:
        yield np.einsum("tmk,tk->tm", projected, coords / (w + lmbda))


def _fits_by_solve(K: np.ndarray, K_eval: np.ndarray, y: np.ndarray, lmbdas: Sequence[float]):
    """The same fits by a solve per lambda, for a kernel whose Gram matrices are not symmetric."""
    eye = np.eye(K.shape[-1])
    for lmbda in lmbdas:
        yield np.einsum("tmn,tn->tm", K_eval, np.linalg.solve(K + lmbda * eye, y[..., None])[..., 0])
