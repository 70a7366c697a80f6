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
    risks = []
    with time_limit(budget_s):
        for lmbda in lmbdas:
            alpha = np.linalg.solve(K + lmbda * np.eye(n), y[..., None])[..., 0]
            fhat = np.einsum("tmn,tn->tm", K_eval, alpha)
            risks.append(float(np.mean((fhat.mean(axis=0) - f) ** 2) + np.mean(fhat.var(axis=0))))
    return {"lmbdas": [float(v) for v in lmbdas], "risk": risks}
