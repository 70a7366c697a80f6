"""Probes for problem 3: the student's alpha_hat, regression function and kernels on chosen inputs."""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Sequence

import numpy as np

from autograder.probes.calls import call, to_array


def grader_kernel(of_difference: Callable | None = None, of_pair: Callable | None = None) -> Callable:
    """A kernel the grader hands to a student's regression: k(a, b) with broadcasting (the starter's
    convention) or, when it depends on a - b alone, k(d) of the difference, as real solutions written
    for difference kernels call it. It counts one-argument calls in `k.difference_calls`, so a probe
    can tell such a regression from a broken one when the kernel has no difference form."""

    def k(a, b=None):
        if b is None:
            k.difference_calls += 1
            if of_difference is None:
                raise TypeError("this kernel is not a function of x - y alone; call it as kernel(a, b)")
            return of_difference(np.asarray(a))
        if of_pair is None:
            return of_difference(np.asarray(a) - np.asarray(b))
        return of_pair(np.asarray(a), np.asarray(b))

    k.difference_calls = 0
    k.of_difference = of_difference is not None
    return k


def gaussian(bandwidth: float) -> Callable:
    return grader_kernel(of_difference=lambda d: np.exp(-(d**2) / (2 * bandwidth**2)))


def laplacian(bandwidth: float) -> Callable:
    return grader_kernel(of_difference=lambda d: np.exp(-np.abs(d) / bandwidth))


def polynomial(degree: int) -> Callable:
    return grader_kernel(of_pair=lambda a, b: (1 + a * b) ** degree)


# Name -> maker: every probe call gets a fresh kernel, so its call count is its own.
GRADER_KERNELS = {
    "gaussian(0.3)": partial(gaussian, 0.3),
    "laplacian(0.5)": partial(laplacian, 0.5),
    "polynomial(2)": partial(polynomial, 2),
}


def probe_alpha(alpha_hat: Any, cases: Sequence[dict], timeout_s: float = 10.0) -> list[dict]:
    """alpha_hat(K, Y, lmbda) per case, as {"shape", "data"} or {"error"}."""
    if not callable(alpha_hat):
        return [{"error": "`alpha_hat` is not defined as a function"}] * len(cases)
    out = []
    for case in cases:
        result = call(alpha_hat, np.array(case["K"]), np.array(case["Y"]), case["lmbda"], timeout_s=timeout_s)
        out.append({"error": result["error"]} if result["error"] else to_array(result["value"]))
    return out


def probe_regress(
    regress: Any,
    make_kernel: Callable[[], Callable],
    cases: Sequence[dict],
    timeout_s: float = 10.0,
    own_kernels: Any = (),
) -> list[dict]:
    """regress(kernel, X, y, x, lmbda) per case with a fresh grader kernel, keeping the returned shape exactly.

    A regression written for difference kernels k(x - y) cannot take a kernel without that form: when
    it called such a kernel with one argument and the student's own kernels (`own_kernels`) are
    difference kernels too, the case is recorded as {"not_applicable": why} instead of an error.
    """
    if not callable(regress):
        return [{"error": "`mercer_kernel_regress` is not defined as a function"}] * len(cases)
    out = []
    own_of_difference = None  # the student's own kernel convention, worked out once when first needed
    for case in cases:
        X, y, x = (np.array(case[k], dtype=float) for k in ("X", "y", "x"))
        kernel = make_kernel()
        result = call(regress, kernel, X, y, x, case["lmbda"], timeout_s=timeout_s)
        form_missing = kernel.difference_calls and not kernel.of_difference
        if form_missing and own_of_difference is None:
            own_of_difference = _difference_kernels(own_kernels, timeout_s)
        if form_missing and own_of_difference:
            out.append(
                {"not_applicable": "it calls the kernel as k(x - y), and this kernel is not a function of x - y"}
            )
        else:
            out.append({"error": result["error"]} if result["error"] else to_array(result["value"]))
    return out


def _difference_kernels(kernels: Sequence[Any], timeout_s: float) -> bool:
    """Whether every given kernel is called as k(d) of the difference (and there is at least one)."""
    found = [gram(k, [0.0, 0.5], [0.0, 0.5], timeout_s).get("convention") for k in kernels]
    return bool(found) and all(c == "k(d)" for c in found)


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
