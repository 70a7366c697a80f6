"""Problem 3's known mistakes: wrong closed forms of alpha, wrong regression outputs, invalid kernels
and lambdas chosen at the edge of a search.

The alpha and regression detectors recompute a known wrong answer on the very inputs the check probed
(the key's matrices, or the grader's kernels by name) and ask whether the student's values are it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograder.checks.p3_mercer import _broke, objective
from autograder.misconceptions import Misconception

A_STATIONARY, A_OBJECTIVE = "q3_1.alpha_stationary", "q3_1.alpha_objective"
REG_SHAPE, REG_LIMITS, REG_VALUES = "q3_2.regress_shape", "q3_2.regress_limits", "q3_2.regress_values"
KERNELS, LAMBDAS, LAMBDA_RISK = "q3_2_kernels.kernels_valid", "q3_3.lambdas_chosen", "q3_3.lambda_risk"
MATCH = 1e-6  # relative agreement (in norm) that makes a recomputed wrong answer the student's
FACTOR = 1.5  # lambda_risk's default `factor`: a lambda this many times the best risk is off
Solver = Callable[[np.ndarray, np.ndarray, float], np.ndarray]  # (K, Y, lambda) -> alpha


def _ridge(K: np.ndarray, Y: np.ndarray, lmbda: float) -> np.ndarray:
    return np.linalg.solve(K + lmbda * np.eye(len(K)), Y)


def _close(values, expected: np.ndarray) -> bool:
    got = np.asarray(values, dtype=float).ravel()
    return got.shape == expected.shape and bool(
        np.linalg.norm(got - expected) <= MATCH * max(np.linalg.norm(expected), 1e-300)
    )


def _comparable(solver: Solver, K: np.ndarray, Y: np.ndarray, lmbda: float) -> np.ndarray | None:
    """The wrong answer on one input, or None where it is not one well-defined vector (a singular system)."""
    try:
        with np.errstate(all="ignore"):
            value = solver(K, Y, lmbda)
    except np.linalg.LinAlgError:
        return None
    return value if np.all(np.isfinite(value)) and np.linalg.norm(value) < 1e12 * (1 + np.linalg.norm(Y)) else None


def _alpha_is(solver: Solver) -> Callable[[list, dict], bool]:
    """A detector: on every probed matrix where `solver` is defined, alpha_hat returned what it returns."""

    def detect(observed: list, key: dict) -> bool:
        compared = 0
        for obs, case in zip(observed, key["cases"]):
            K, Y = np.asarray(case["K"], dtype=float), np.asarray(case["Y"], dtype=float)
            wrong = _comparable(solver, K, Y, case["lmbda"]) if not case.get("singular") else None
            if wrong is None or "error" in obs:
                continue
            if not _close(obs["data"], wrong):
                return False
            compared += 1
        return compared > 0

    return detect


def _singular_k_breaks(observed: list, key: dict) -> bool:
    """A minimizer on every invertible K (its objective the ridge solution's), and raised or non-finite on an
    exactly singular one."""
    right = 0
    for obs, case in zip(observed, key["cases"]):
        if case.get("singular"):
            continue
        K, Y, lmbda = np.asarray(case["K"], dtype=float), np.asarray(case["Y"], dtype=float), case["lmbda"]
        if _broke(obs):
            return False
        best = objective(K, Y, _ridge(K, Y, lmbda), lmbda)
        if objective(K, Y, np.asarray(obs["data"], dtype=float).ravel(), lmbda) > best + MATCH * abs(best):
            return False
        right += 1
    return right > 0 and any(_broke(obs) for obs, case in zip(observed, key["cases"]) if case.get("singular"))


def _grams(case: dict) -> tuple[np.ndarray, np.ndarray]:
    """K(X, X) and K(x, X) of a regression case, with the grader's kernel the case names."""
    from autograder.probes.p3_mercer import GRADER_KERNELS

    pair = GRADER_KERNELS[case["kernel"]].pair
    X, x = np.asarray(case["X"], dtype=float), np.asarray(case["x"], dtype=float)
    return pair(X[:, None], X[None, :]), pair(x[:, None], X[None, :])


def _regress_is(fit: Callable[[np.ndarray, np.ndarray, np.ndarray, float], np.ndarray]) -> Callable[[list, dict], bool]:
    """A detector: every regression output that was judged equals fit(K, K(x, X), y, lambda) of its case."""

    def detect(observed: list, key: dict) -> bool:
        compared = 0
        for obs, case in zip(observed, key["cases"]):
            if "data" not in obs:
                continue
            K, Kx = _grams(case)
            wrong = _comparable(
                lambda K_, y_, lmbda, Kx=Kx: fit(K_, Kx, y_, lmbda), K, np.asarray(case["y"]), case["lmbda"]
            )
            if wrong is None or not _close(obs["data"], wrong):
                return False
            compared += 1
        return compared > 0

    return detect


def _through(solver: Solver) -> Callable[[np.ndarray, np.ndarray, np.ndarray, float], np.ndarray]:
    """The regression fit K(x, X) alpha with alpha from `solver`."""
    return lambda K, Kx, y, lmbda: Kx @ solver(K, y, lmbda)


def _answer_is(solver: Solver) -> Callable[[list, dict], bool]:
    """A detector for alpha_hat's checks and the regression's alike: alpha from `solver`, or the fit made with it."""

    def detect(observed: list, key: dict) -> bool:
        if "K" in key["cases"][0]:
            return _alpha_is(solver)(observed, key)
        return _regress_is(_through(solver))(observed, key)

    return detect


def _same_fit_whatever_lambda(observed: list, key: dict) -> bool:
    """Cases on the same data with different lambdas (regress_limits') got one and the same fit."""
    cases = key["cases"]
    if "X" not in cases[0]:  # alpha_hat's inputs: one Y per matrix
        return False
    same_data = all(c["X"] == cases[0]["X"] and c["y"] == cases[0]["y"] and c["x"] == cases[0]["x"] for c in cases)
    if len(cases) < 2 or not same_data or len({c["lmbda"] for c in cases}) < 2:
        return False
    if not all("data" in obs for obs in observed):
        return False
    first = np.asarray(observed[0]["data"], dtype=float)
    return all(_close(obs["data"], first) for obs in observed[1:])


def _lambda_ignored(observed: list, key: dict) -> bool:
    return _same_fit_whatever_lambda(observed, key) or _answer_is(lambda K, Y, lmbda: np.linalg.solve(K, Y))(
        observed, key
    )


def _column(observed: list, key: dict) -> bool:
    return any(obs.get("shape") == [len(case["x"]), 1] for obs, case in zip(observed, key["cases"]))


def _one_convention(observed: list, key: dict) -> bool:
    """It raised with the kernels it was offered, and ran once the kernel answered in another convention."""
    return any("error" in obs and obs.get("works_in_another_convention") for obs in observed)


def _gram(observed: dict, name: str) -> np.ndarray:
    obs = observed[name]
    return np.asarray(obs["data"], dtype=float).reshape(obs["shape"])


def _asymmetric(observed: dict, key: dict) -> bool:
    for name in ("kernel1", "kernel2"):
        if "data" in observed[name]:
            G = _gram(observed, name)
            if not np.allclose(G, G.T, rtol=0, atol=1e-9 * max(float(np.max(np.abs(G))), 1e-300)):
                return True
    return False


def _not_psd(observed: dict, key: dict) -> bool:
    """A symmetric kernel whose Gram matrix on the probed points has a clearly negative eigenvalue."""
    for name in ("kernel1", "kernel2"):
        if "data" in observed[name]:
            G = _gram(observed, name)
            scale = max(float(np.max(np.abs(G))), 1e-300)
            if (
                np.allclose(G, G.T, rtol=0, atol=1e-9 * scale)
                and np.linalg.eigvalsh((G + G.T) / 2).min() < -1e-6 * scale
            ):
                return True
    return False


def _same_kernel(observed: dict, key: dict) -> bool:
    return all("data" in observed[n] for n in ("kernel1", "kernel2")) and np.allclose(
        _gram(observed, "kernel1"), _gram(observed, "kernel2"), rtol=1e-9, atol=0
    )


def _unimodal(risks: np.ndarray, noise: float) -> bool:
    """The curve falls to its minimum and rises after it, but for wiggles below `noise`: the shape of a
    valid kernel's risk against lambda (a kernel that is not PSD spikes where K + lambda I is singular)."""
    best = int(np.nanargmin(risks))
    return bool(np.all(np.diff(risks[: best + 1]) <= noise) and np.all(np.diff(risks[best:]) >= -noise))


def _at_grid_edge(observed: dict, key: dict) -> bool:
    """For a lambda far from the best on a well-shaped risk curve, the simulated risk keeps falling from it
    to the best one: what a search that stopped at its own grid's end leaves."""
    for curve in observed.values():
        if "risk" not in curve:
            continue
        lmbdas, risks = np.asarray(curve["lmbdas"][:-1], dtype=float), np.asarray(curve["risk"][:-1], dtype=float)
        chosen, mine = curve["lmbdas"][-1], curve["risk"][-1]
        best = int(np.nanargmin(risks))
        if not (np.all(np.isfinite(risks)) and np.isfinite(mine) and mine > FACTOR * risks[best]):
            continue
        order = np.argsort(np.concatenate([lmbdas, [chosen]]), kind="stable")
        if _unimodal(np.concatenate([risks, [mine]])[order], 0.02 * risks[best]):
            return True
    return False


def _not_positive(observed: dict, key: dict) -> bool:
    return any(observed.get(n) is not None and observed[n] <= 0 for n in ("lambda_hat_1", "lambda_hat_2"))


def _unfilled(observed: dict, key: dict) -> bool:
    return any(observed.get(n + "_repr") in ("Ellipsis", "None") for n in ("lambda_hat_1", "lambda_hat_2"))


MISCONCEPTIONS = (
    Misconception(
        "p3.lambda-every-entry",
        "lambda added to every entry of K",
        "In K + lambda I the penalty sits on the diagonal only; adding the scalar lambda to K changes every entry.",
        (A_STATIONARY, A_OBJECTIVE, REG_LIMITS, REG_VALUES),
        _answer_is(lambda K, Y, lmbda: np.linalg.solve(K + lmbda, Y)),
    ),
    Misconception(
        "p3.lambda-ignored",
        "lambda ignored (the fit interpolates)",
        "Without the penalty the fit passes through every noisy point; lambda must enter the solve, so that a "
        "larger lambda gives a smoother, smaller fit.",
        (A_STATIONARY, A_OBJECTIVE, REG_LIMITS, REG_VALUES),
        _lambda_ignored,
    ),
    Misconception(
        "p3.alpha-fitted-values",
        "the fitted values K alpha returned instead of alpha",
        "alpha_hat should return the coefficients alpha; the fitted values at the data are K times them.",
        (A_STATIONARY, A_OBJECTIVE),
        _alpha_is(lambda K, Y, lmbda: K @ _ridge(K, Y, lmbda)),
    ),
    Misconception(
        "p3.alpha-ridge-penalty",
        "the ridge penalty on alpha's length in place of lambda alpha' K alpha",
        "The penalty of 3.1 is the RKHS norm alpha' K alpha, so its gradient is 2 lambda K alpha, not 2 lambda alpha.",
        (A_STATIONARY, A_OBJECTIVE),
        _alpha_is(lambda K, Y, lmbda: np.linalg.solve(K.T @ K + lmbda * np.eye(len(K)), K.T @ Y)),
    ),
    Misconception(
        "p3.closed-form-singular-k",
        "a closed form that fails on a singular K",
        "Cancelling K from the normal equations only works where K is invertible; with lambda > 0, "
        "K + lambda I is invertible for every kernel matrix, so solve with it.",
        (A_OBJECTIVE,),
        _singular_k_breaks,
    ),
    Misconception(
        "p3.column-output",
        "the fit returned as an (m, 1) column",
        "A column of shape (m, 1) broadcasts against a vector of shape (m,) into an m x m grid, which silently "
        "breaks the bias and variance computed from it; return a flat vector.",
        (REG_SHAPE, REG_VALUES),
        _column,
    ),
    Misconception(
        "p3.fitted-at-training-points",
        "fitted values at the training points instead of at x",
        "The regression is evaluated at the new points x, so the matrix multiplying alpha has one row per "
        "point of x and one column per training point.",
        (REG_SHAPE, REG_VALUES),  # regress_limits evaluates at x = X, where it is right,
        _regress_is(lambda K, Kx, y, lmbda: K @ _ridge(K, y, lmbda)),
    ),
    Misconception(
        "p3.regress-returns-alpha",
        "the coefficients alpha returned instead of the fit",
        "alpha lives on the training points; the fitted function at x is the kernel between x and the "
        "training points times alpha.",
        (REG_SHAPE, REG_LIMITS, REG_VALUES),
        _regress_is(lambda K, Kx, y, lmbda: _ridge(K, y, lmbda)),
    ),
    Misconception(
        "p3.one-kernel-convention",
        "a regression that only works with one way of calling the kernel",
        "Your regression calls the kernel in a way your own kernels do not answer (e.g. expecting a whole "
        "matrix from kernel(X, X)); make the regression and the kernels agree, as the starter's kernel(X, xj) "
        "loop does.",
        (REG_SHAPE, REG_LIMITS, REG_VALUES),
        _one_convention,
    ),
    Misconception(
        "p3.kernel-asymmetric",
        "a kernel that is not symmetric",
        "A Mercer kernel measures similarity, so k(a, b) must equal k(b, a); check how each argument enters.",
        (KERNELS,),
        _asymmetric,
    ),
    Misconception(
        "p3.kernel-not-psd",
        "a kernel that is not positive semi-definite (a sign slip?)",
        "A Mercer kernel's Gram matrices have no negative eigenvalues; a Gaussian or Laplacian needs a minus sign "
        "in its exponent, and a distance itself is not a kernel.",
        (KERNELS,),
        _not_psd,
    ),
    Misconception(
        "p3.kernels-identical",
        "the same kernel twice",
        "The problem compares two different kernels; make kernel2 another family or a clearly different bandwidth.",
        (KERNELS,),
        _same_kernel,
    ),
    Misconception(
        "p3.lambda-grid-edge",
        "lambda at the edge of the searched grid",
        "The simulated risk is still falling beyond your lambda: extend the grid past that end until the "
        "minimum lies inside it, not on its boundary.",
        (LAMBDA_RISK,),
        _at_grid_edge,
    ),
    Misconception(
        "p3.lambda-not-positive",
        "lambda zero or negative",
        "lambda = 0 is interpolation and a negative lambda rewards rough fits; the penalty needs lambda > 0.",
        (LAMBDAS,),
        _not_positive,
    ),
    Misconception(
        "p3.lambda-unfilled",
        "the template's placeholder left in place",
        "The cell still holds the template's `...` (or None); set the lambda your simulation chose.",
        (LAMBDAS,),
        _unfilled,
    ),
)
