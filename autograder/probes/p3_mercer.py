"""Probes for problem 3: the student's alpha_hat, regression function and kernels on chosen inputs.

Students call kernels in several conventions (`CONVENTIONS`). One table serves both directions: it
builds Gram matrices from the student's kernels, and it hands the grader's kernels to the student's
regression in the conventions the student's own kernels use, so that a regression written for its
own kernels is judged with kernels it can call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.probes.calls import call, to_array


@dataclass(frozen=True)
class GraderKernel:
    """A kernel of the grader's: `pair(a, b)` elementwise under numpy broadcasting, and `difference(d)`
    of d = a - b when the kernel depends on the difference alone (None otherwise)."""

    pair: Callable[[np.ndarray, np.ndarray], np.ndarray]
    difference: Callable[[np.ndarray], np.ndarray] | None = None


def difference_kernel(of_difference: Callable[[np.ndarray], np.ndarray]) -> GraderKernel:
    """A kernel of d = a - b alone: both of its forms from the one function of d."""
    return GraderKernel(lambda a, b: of_difference(np.subtract(a, b)), of_difference)


def gaussian(bandwidth: float) -> GraderKernel:
    """exp(-(a - b)^2 / (2 h^2))."""
    return difference_kernel(lambda d: np.exp(-(d**2) / (2 * bandwidth**2)))


def laplacian(bandwidth: float) -> GraderKernel:
    """exp(-|a - b| / h)."""
    return difference_kernel(lambda d: np.exp(-np.abs(d) / bandwidth))


def polynomial(degree: int) -> GraderKernel:
    """(1 + a b)^degree: no function of a - b alone, so it has no k(d) form."""
    return GraderKernel(lambda a, b: (1 + a * b) ** degree)


# The grader's kernels by the names the keys use.
GRADER_KERNELS = {
    "gaussian(0.3)": gaussian(0.3),
    "laplacian(0.5)": laplacian(0.5),
    "polynomial(2)": polynomial(2),
    "gaussian(0.05)": gaussian(0.05),
}


class MissingForm(TypeError):
    """A grader's kernel was called in a convention it has no form for (a polynomial kernel as k(d))."""


# --- calling conventions ---------------------------------------------------------------------------


def _gram_of_matrix_kernel(kernel: Callable, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    G = np.asarray(kernel(A, B), dtype=float)
    if G.shape != (len(A), len(B)):
        raise ValueError(f"kernel(A, B) returned shape {G.shape}, not ({len(A)}, {len(B)})")
    return G


def _gram_of_vectorised_kernel(kernel: Callable, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.column_stack([np.asarray(kernel(A, b), dtype=float).reshape(len(A)) for b in B])


def _gram_of_scalar_kernel(kernel: Callable, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.array([[float(np.asarray(kernel(a, b)).reshape(())) for b in B] for a in A])


def _gram_of_difference_kernel(kernel: Callable, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.asarray(kernel(A[:, None] - B[None, :]), dtype=float).reshape(len(A), len(B))


def _matrix_form(grader: GraderKernel, args: tuple[np.ndarray, ...]) -> np.ndarray:
    return grader.pair(args[0][:, None], args[1][None, :])


def _pair_form(grader: GraderKernel, args: tuple[np.ndarray, ...]) -> np.ndarray:
    return grader.pair(*args)


def _difference_form(grader: GraderKernel, args: tuple[np.ndarray, ...]) -> np.ndarray:
    if grader.difference is None:
        raise MissingForm("this kernel is not a function of x - y alone, so it has no k(d) form")
    return grader.difference(args[0])


@dataclass(frozen=True)
class Convention:
    """One way of calling a kernel: the dimensions of the arguments it takes (None: any), how a Gram
    matrix G[i, j] = k(A[i], B[j]) is built from a kernel called this way, and how a grader's kernel
    answers such a call."""

    name: str
    ndims: tuple[int | None, ...]
    gram: Callable[[Callable, np.ndarray, np.ndarray], np.ndarray]
    answer: Callable[[GraderKernel, tuple[np.ndarray, ...]], Any]

    def fits(self, args: tuple[np.ndarray, ...]) -> bool:
        """Whether a call with these arguments is a call in this convention."""
        return len(args) == len(self.ndims) and all(n is None or a.ndim == n for a, n in zip(args, self.ndims))


# In order of precedence: a call with two 1-D arrays is a Gram-matrix call where that convention is
# offered, and elementwise otherwise (a call with two scalars is elementwise either way); gram() tries
# them in the same order.
CONVENTIONS = (
    Convention("k(A, B)", (1, 1), _gram_of_matrix_kernel, _matrix_form),
    Convention("k(X, xj)", (None, None), _gram_of_vectorised_kernel, _pair_form),
    Convention("k(x, y)", (0, 0), _gram_of_scalar_kernel, _pair_form),
    Convention("k(d)", (None,), _gram_of_difference_kernel, _difference_form),
)
BY_NAME = {c.name: c for c in CONVENTIONS}
STARTER = "k(X, xj)"  # the starter code's convention: always offered to a regression

# Points on which a kernel's conventions are worked out: of different lengths, so that a kernel
# working elementwise cannot pass for one returning the whole Gram matrix.
_PROBE_A, _PROBE_B = (-0.5, 0.0, 0.5), (0.0, 0.25)


def _gram_in(convention: Convention, kernel: Any, A: np.ndarray, B: np.ndarray, timeout_s: float) -> dict:
    """{"value": G} when `kernel` called in `convention` gives a finite Gram matrix, else {"error"}."""
    result = call(convention.gram, kernel, A, B, timeout_s=timeout_s)
    if result["error"] is None and np.all(np.isfinite(result["value"])):
        return {"value": result["value"]}
    return {"error": result["error"] or "non-finite values"}


def gram(kernel: Any, A: Sequence[float], B: Sequence[float], timeout_s: float = 10.0) -> dict:
    """The Gram matrix K[i, j] = kernel(A[i], B[j]) in the first convention of `CONVENTIONS` that gives a
    finite (len(A), len(B)) matrix, as {"shape", "data", "convention"}, or {"error"}."""
    if not callable(kernel):
        return {"error": "not defined as a function"}
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    errors = []
    for convention in CONVENTIONS:
        found = _gram_in(convention, kernel, A, B, timeout_s)
        if "value" in found:
            return {**to_array(found["value"]), "convention": convention.name}
        errors.append(f"{convention.name}: {found['error']}")
    return {"error": "no calling convention worked (" + "; ".join(errors) + ")"}


def conventions_of(kernel: Any, timeout_s: float = 10.0) -> frozenset[str]:
    """The names of every convention in which `kernel` gives a finite Gram matrix."""
    A, B = np.asarray(_PROBE_A), np.asarray(_PROBE_B)
    return frozenset(c.name for c in CONVENTIONS if "value" in _gram_in(c, kernel, A, B, timeout_s))


def shared_conventions(kernels: Sequence[Any], timeout_s: float = 10.0) -> frozenset[str]:
    """The conventions every usable kernel supports (kernels that work in none are left out)."""
    found = [c for c in (conventions_of(k, timeout_s) for k in kernels) if c]
    return frozenset.intersection(*found) if found else frozenset()


@dataclass(frozen=True, eq=False)  # hashed by identity: student code may cache on its kernel
class OfferedKernel:
    """A grader's kernel handed to a student's regression, callable in the `offered` conventions only;
    `missing` records each call in an offered convention that this kernel has no form for."""

    grader: GraderKernel
    offered: tuple[Convention, ...]
    missing: list[str] = field(default_factory=list)

    def __call__(self, *args):
        arrays = tuple(np.asarray(a, dtype=float) for a in args)
        for convention in self.offered:
            if convention.fits(arrays):
                try:
                    return convention.answer(self.grader, arrays)
                except MissingForm as exc:
                    self.missing.append(str(exc))
                    raise
        names = ", ".join(c.name for c in self.offered)
        raise TypeError(f"the grader's kernel takes the calls {names} (the starter code's and your own kernels')")


def offer(grader: GraderKernel, own: frozenset[str]) -> OfferedKernel:
    """`grader` callable in the starter's convention and in each convention of the student's own kernels."""
    return OfferedKernel(grader, tuple(c for c in CONVENTIONS if c.name == STARTER or c.name in own))


# --- probes ----------------------------------------------------------------------------------------


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
    regress: Any, cases: Sequence[dict], timeout_s: float = 10.0, own_kernels: Sequence[Any] = ()
) -> list[dict]:
    """regress(kernel, X, y, x, lmbda) per case with the case's grader kernel, keeping the returned shape.

    The kernel takes the starter's calls and those of the conventions all the student's own kernels
    (`own_kernels`, worked out once) support. A case whose call failed after the regression called the
    kernel in such a convention that this kernel has no form for is {"not_applicable": why}.
    """
    if not callable(regress):
        return [{"error": "`mercer_kernel_regress` is not defined as a function"}] * len(cases)
    own = shared_conventions(own_kernels, timeout_s)
    out, retried = [], False
    for case in cases:
        X, y, x = (np.array(case[k], dtype=float) for k in ("X", "y", "x"))
        kernel = offer(GRADER_KERNELS[case["kernel"]], own)
        result = call(regress, kernel, X, y, x, case["lmbda"], timeout_s=timeout_s)
        if result["error"] and kernel.missing:
            out.append({"not_applicable": f"it calls the kernel as your own kernels take it, and {kernel.missing[0]}"})
        elif result["error"]:
            out.append({"error": result["error"]})
            if (
                not retried
            ):  # once: whether it needs a convention its own kernels do not answer (explains, never scores)
                retried = True
                again = call(
                    regress,
                    OfferedKernel(GRADER_KERNELS[case["kernel"]], CONVENTIONS),
                    X,
                    y,
                    x,
                    case["lmbda"],
                    timeout_s=timeout_s,
                )
                out[-1]["works_in_another_convention"] = again["error"] is None
        else:
            out.append(to_array(result["value"]))
    return out
