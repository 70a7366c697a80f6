"""Problem 1's known mistakes: what a failed lasso answer most often is, told from the plain answers.

Detectors read the observation and key the check judged. The risk detectors recompute candidate
wrong answers from the data's Gram matrix in the risk key (`gram`: Z'Z, Z'y, y'y for Z = [1, X]), so an
in-sample error or an unsquared mean residual is recognised exactly, for the student's own columns.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.checks.figures import all_axes, curve_count
from autograder.checks.p1_lasso import Gram, _indices, beta_on_support, usable_columns
from autograder.misconceptions import Misconception

SUPPORT, BETA = "q1_2_S.support_recovery", "q1_2_beta.beta_values"
RISK_FORMAT, RISK_BAND = "q1_2_risk.risk_format", "q1_2_risk.risk_band"
PATH_PLOT = "q1_1.path_plot"
MATCH = 1e-5  # relative agreement that makes a recomputed wrong answer "the same number"
MANY_NULLS = 3  # extra columns from which a support looks like a prediction-tuned lasso's
SHRUNK_SE = 1.0  # standard errors short of the refit from which smaller coefficients read as the lasso's shrinkage


def _moments(key: dict) -> dict:
    """The key's sufficient statistics of least squares on any columns, with or without intercept."""
    g = key["gram"]
    return {"ZtZ": g["ztz"], "Zty": g["zty"], "yty": g["yty"], "n": g["n"]}


def _rss(key: dict, columns: list[int], intercept: bool, coef: np.ndarray | None = None) -> float:
    """Residual sum of squares of `coef` on `columns` (least squares when None; with `intercept` the
    intercept is always the best one for the given slopes)."""
    m = _moments(key)
    ZtZ, Zty, n = np.asarray(m["ZtZ"]), np.asarray(m["Zty"]), m["n"]
    idx = ([0] if intercept else []) + [j + 1 for j in columns]
    A, b = ZtZ[np.ix_(idx, idx)], Zty[idx]
    if coef is None:
        w = np.linalg.lstsq(A, b, rcond=None)[0]
    elif intercept:
        w = np.concatenate([[(Zty[0] - ZtZ[0, idx[1:]] @ coef) / n], coef])
    else:
        w = np.asarray(coef, dtype=float)
    return float(m["yty"] - 2 * w @ b + w @ A @ w)


def _same(value: float, candidate: float, scale: float) -> bool:
    return abs(value - candidate) <= MATCH * max(abs(candidate), scale)


def _risk_reading(observed: dict, key: dict) -> str | None:
    """What a risk_hat outside the band is: "in-sample", "unsquared", "negative-score", or None.

    Exact recomputations on the student's own columns come first; then a value smaller than the full
    model's training error (which no squared error of a least-squares fit here goes below) is taken as
    unsquared, and a negative value of a squared error's size as a score left negative."""
    value = observed.get("risk_hat")
    if value is None or not math.isfinite(value):
        return None
    n, s2 = _moments(key)["n"], key["s2"]
    floor = _rss(key, list(range(key["n_cols"])), True) / n
    estimates = beta_on_support(observed, key["n_cols"])
    if estimates:
        S, coef = list(estimates), np.array(list(estimates.values()))
        trained = [_rss(key, S, i, c) / n for i in (True, False) for c in (None, coef)]
        if any(_same(value, c, s2) for c in trained):
            return "in-sample"
        m = _moments(key)
        mean_residual = (m["Zty"][0] - np.asarray(m["ZtZ"])[0, [j + 1 for j in S]] @ coef) / n
        if _same(value, float(mean_residual), 1e-3 * s2):
            return "unsquared"
    if any(_same(value, _rss(key, list(range(key["n_cols"])), i) / n, s2) for i in (True, False)):
        return "in-sample"
    if abs(value) < floor:
        return "unsquared"
    if value < 0 and -value <= 10 * s2:
        return "negative-score"
    return None


def _path_axes(observed: dict, key: dict) -> list[dict]:
    """The recorded axes with a curve per coefficient: lasso paths, whatever else they lack."""
    return [ax for ax in all_axes(observed) if curve_count(ax) >= key["min_curves"]]


def _linear_alpha_axis(observed: dict, key: dict) -> bool:
    paths = _path_axes(observed, key)
    return bool(paths) and all(ax["xscale"] != "log" and "log" not in ax["xlabel"].lower() for ax in paths)


def _unlabelled(observed: dict, key: dict) -> bool:
    paths = [ax for ax in _path_axes(observed, key) if ax["xscale"] == "log"]
    return bool(paths) and all(not (ax["xlabel"].strip() and ax["ylabel"].strip()) for ax in paths)


def _support_errors(S: set[int], key: dict) -> tuple[int, int]:
    strong, plausible = set(key["strong"]), set(key["strong"]) | set(key["plausible"])
    return len(strong - S), len(S - plausible)


def _one_based(observed: dict, key: dict) -> bool:
    S = _indices(observed)
    if not S or min(S) < 1:
        return False
    shifted = {j - 1 for j in S}
    missed, extra = _support_errors(shifted, key)
    return missed == 0 and missed + extra < sum(_support_errors(set(S), key))


def _prediction_tuned_support(observed: dict, key: dict) -> bool:
    missed, extra = _support_errors(set(_indices(observed) or ()), key)
    return missed == 0 and extra >= MANY_NULLS


def _shrunken(observed: dict, key: dict) -> bool:
    """Every strong coefficient given has the sign of the least-squares refit on the student's own S_hat and a
    smaller size, and one lies more than a standard error short of it: the lasso's shrinkage."""
    estimates = beta_on_support(observed, key["n_cols"]) or {}
    present = [j for j in key["strong"] if j in estimates]
    if not present:
        return False
    refit, _ = Gram.from_key(key["gram"]).refit(usable_columns(observed, key["n_cols"]))
    pairs = [(estimates[j], refit[j], key["se"][str(j)]) for j in present]
    smaller = all(b * e > 0 and 0.1 * abs(b) < abs(e) < abs(b) for e, b, _ in pairs)
    return smaller and any(abs(e - b) > SHRUNK_SE * se for e, b, se in pairs)


MISCONCEPTIONS = (
    Misconception(
        "p1.path-linear-alpha",
        "lasso paths on a linear alpha axis",
        "The interesting part of a lasso path spans several decades of alpha; on a linear axis it is squeezed "
        "against one edge, so set the x axis to a log scale.",
        (PATH_PLOT,),
        _linear_alpha_axis,
    ),
    Misconception(
        "p1.path-unlabelled",
        "lasso paths without axis labels",
        "A reader cannot tell a path plot's regularisation axis from its coefficient axis unless both are "
        "labelled; name each axis.",
        (PATH_PLOT,),
        _unlabelled,
    ),
    Misconception(
        "p1.one-based-indices",
        "1-based column indices",
        "Python counts columns from 0, so column j of X is X[:, j]; indices copied from a 1-based count are "
        "all off by one.",
        (SUPPORT,),
        _one_based,
    ),
    Misconception(
        "p1.support-lassocv-alone",
        "the support of the cross-validated lasso taken as the answer",
        "Cross-validation tunes the lasso for prediction, and at that level it keeps many noise columns; "
        "use it as a screen, then decide which columns to keep with refitted least squares or a stricter rule.",
        (SUPPORT,),
        _prediction_tuned_support,
    ),
    Misconception(
        "p1.beta-lasso-shrunk",
        "lasso coefficients reported instead of a refit",
        "The lasso pulls every kept coefficient towards zero; once the columns are chosen, refit them by "
        "least squares to estimate their sizes.",
        (BETA,),
        _shrunken,
    ),
    Misconception(
        "p1.risk-in-sample",
        "training error reported as the predictive risk",
        "The error on the rows a model was fitted to is optimistic, the more so the more columns it has; "
        "estimate the risk on rows the fit did not see, e.g. by cross-validating the whole procedure.",
        (RISK_BAND,),
        lambda observed, key: _risk_reading(observed, key) == "in-sample",
    ),
    Misconception(
        "p1.risk-unsquared-residual",
        "the mean residual, not squared, as the risk",
        "Positive and negative residuals cancel in a plain mean; the risk E(Y - X beta)^2 averages squared errors.",
        (RISK_FORMAT, RISK_BAND),
        lambda observed, key: _risk_reading(observed, key) == "unsquared",
    ),
    Misconception(
        "p1.risk-negative-cv-score",
        "a negative cross-validation score left unflipped",
        "scikit-learn's `neg_mean_squared_error` is the negated error (so that larger is better); flip its "
        "sign to get a squared error, and pick models by the smallest error.",
        (RISK_FORMAT, RISK_BAND),
        lambda observed, key: _risk_reading(observed, key) == "negative-score",
    ),
)
