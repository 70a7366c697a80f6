"""Probes for problem 3: the student's alpha_hat, regression function and kernels on chosen inputs."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from autograder.probes.calls import call, to_array


def gaussian(bandwidth: float) -> Callable:
    def k(a, b):
        return np.exp(-((np.asarray(a) - np.asarray(b)) ** 2) / (2 * bandwidth**2))

    return k


def laplacian(bandwidth: float) -> Callable:
    def k(a, b):
        return np.exp(-np.abs(np.asarray(a) - np.asarray(b)) / bandwidth)

    return k


def polynomial(degree: int) -> Callable:
    def k(a, b):
        return (1 + np.asarray(a) * np.asarray(b)) ** degree

    return k


GRADER_KERNELS = {"gaussian(0.3)": gaussian(0.3), "laplacian(0.5)": laplacian(0.5), "polynomial(2)": polynomial(2)}


def probe_alpha(alpha_hat: Any, cases: Sequence[dict], timeout_s: float = 10.0) -> list[dict]:
    """alpha_hat(K, Y, lmbda) per case, as {"shape", "data"} or {"error"}."""
    if not callable(alpha_hat):
        return [{"error": "`alpha_hat` is not defined as a function"}] * len(cases)
    out = []
    for case in cases:
        result = call(alpha_hat, np.array(case["K"]), np.array(case["Y"]), case["lmbda"], timeout_s=timeout_s)
        out.append({"error": result["error"]} if result["error"] else to_array(result["value"]))
    return out


def probe_regress(regress: Any, kernel: Callable, cases: Sequence[dict], timeout_s: float = 10.0) -> list[dict]:
    """regress(kernel, X, y, x, lmbda) per case, keeping the returned shape exactly."""
    if not callable(regress):
        return [{"error": "`mercer_kernel_regress` is not defined as a function"}] * len(cases)
    out = []
    for case in cases:
        X, y, x = (np.array(case[k], dtype=float) for k in ("X", "y", "x"))
        result = call(regress, kernel, X, y, x, case["lmbda"], timeout_s=timeout_s)
        out.append({"error": result["error"]} if result["error"] else to_array(result["value"]))
    return out


def gram(kernel: Any, A: Sequence[float], B: Sequence[float], timeout_s: float = 10.0) -> dict:
    """The Gram matrix K[i, j] = kernel(A[i], B[j]), trying the calling conventions students use.

    Conventions, in order: k(array, scalar) one column at a time (the starter's), k(scalar, scalar),
    k(A, B) returning the whole matrix, and k(d) of the difference d = a - b. The first that gives
    a finite (len(A), len(B)) matrix wins.
    """
    if not callable(kernel):
        return {"error": "not defined as a function"}
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    attempts = {
        "k(X, xj)": lambda: np.column_stack([np.asarray(kernel(A, b), dtype=float).reshape(len(A)) for b in B]),
        "k(x, y)": lambda: np.array([[float(np.asarray(kernel(a, b)).reshape(())) for b in B] for a in A]),
        "k(X, Y)": lambda: np.asarray(kernel(A[:, None], B[None, :]), dtype=float).reshape(len(A), len(B)),
        "k(d)": lambda: np.asarray(kernel(A[:, None] - B[None, :]), dtype=float).reshape(len(A), len(B)),
    }
    errors = []
    for name, attempt in attempts.items():
        result = call(attempt, timeout_s=timeout_s)
        if result["error"] is None and np.all(np.isfinite(result["value"])):
            return {**to_array(result["value"]), "convention": name}
        errors.append(f"{name}: {result['error'] or 'non-finite values'}")
    return {"error": "no calling convention worked (" + "; ".join(errors) + ")"}
