"""Mutation tables over problems 1-3: every configured check judges the whole answer set at once.

Each row changes the reference answers in one way and runs every check the engine runs from the
notebook (all but the engine-only figure checks), in-process the way the engine does it: the probe
gets the key without the item's secret fields, its result travels as JSON, and the check reads the
full key with the settings of a private copy of grading.yml.

* MUTANTS: one real fault each; exactly the listed checks fail and every other check passes with
  full points, so the fault is caught by the check meant for it and by no other.
* ALTERNATIVES: valid answers written another way; every check passes with full points.

The expected sets come from the assignment's answer contract and the checks' stated properties,
not from running the checks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from checking import (
    alpha_cholesky,
    alpha_eigh,
    alpha_lstsq,
    alpha_normal_equations,
    alpha_pinv,
    gram_matrix_kernel,
    private_bundle,
    regress_of_difference,
    regress_of_gram_matrix,
)
from scipy.optimize import brentq
from sklearn.linear_model import Lasso, LassoCV, LinearRegression, lasso_path
from sklearn.model_selection import KFold, RepeatedKFold, cross_val_predict, cross_val_score

from autograder.checks.spec import CheckConfig
from autograder.data import problem1
from autograder.judging import judge as judge_observed
from autograder.judging import observation, observe
from autograder.misconceptions import detected
from autograder.results import CheckResult
from autograder.suite import ITEMS, MISCONCEPTIONS
from reference import p1_lasso as ref1
from reference import p2_bandwidth as ref2
from reference import p3_mercer as ref3

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Check ids, short.
S_FORMAT, S_RECOVERY = "q1_2_S.support_format", "q1_2_S.support_recovery"
BETA_FORMAT, BETA_VALUES = "q1_2_beta.beta_format", "q1_2_beta.beta_values"
RISK_FORMAT, RISK_BAND = "q1_2_risk.risk_format", "q1_2_risk.risk_band"
H_MIN, R_AT_H = "q2_1.bandwidth_minimizes_bound", "q2_1.risk_bound_at_bandwidth"
H_VALUES, R_VALUES = "q2_1.bandwidth_values", "q2_1.risk_bound_values"
EXP_FORMAT, EXP_VALUES = "q2_2.exponent_format", "q2_2.exponent_values"
N_SCALING = "q2_3.sample_size_scaling"
A_STATIONARY, A_OBJECTIVE = "q3_1.alpha_stationary", "q3_1.alpha_objective"
REG_SHAPE, REG_LIMITS, REG_VALUES = "q3_2.regress_shape", "q3_2.regress_limits", "q3_2.regress_values"
KERNELS, LAMBDAS, LAMBDA_RISK = "q3_2_kernels.kernels_valid", "q3_3.lambdas_chosen", "q3_3.lambda_risk"

REMOVED = object()  # an override that deletes the name from the notebook's namespace


@dataclass(frozen=True)
class Context:
    """What rows may build their answers from: the generated problem 1 data and the reference answers."""

    X: np.ndarray
    y: np.ndarray
    p1: Any  # reference.p1_lasso.P1Answer on (X, y)
    reference: dict


@dataclass(frozen=True)
class Setup:
    bundle: dict
    graded: tuple[str, ...]
    ctx: Context


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Setup:
    """Generated problem 1 data, every check's key and settings, and the reference answers (once)."""
    config, bundle = private_bundle(tmp_path_factory, "mutants")
    X, y = problem1.load_xy(problem1.data_path(config))
    p1 = ref1.solve(X, y)
    lambdas = ref3.chosen_lambdas()
    reference = {
        "S_hat": p1.S_hat,
        "beta_hat": p1.beta_hat,
        "risk_hat": p1.risk_hat,
        "optimal_bandwidth": ref2.optimal_bandwidth,
        "risk_bound": ref2.risk_bound,
        "bandwidth_exponent": ref2.bandwidth_exponent,
        "risk_exponent": ref2.risk_exponent,
        "sample_size": ref2.sample_size,
        "alpha_hat": ref3.alpha_hat,
        "mercer_kernel_regress": ref3.mercer_kernel_regress,
        "kernel1": ref3.kernel1,
        "kernel2": ref3.kernel2,
        "lambda_hat_1": lambdas.lambda_hat_1,
        "lambda_hat_2": lambdas.lambda_hat_2,
    }
    graded = tuple(i for i in bundle["keys"] if not ITEMS[i].engine_only and not ITEMS[i].file)
    return Setup(bundle, graded, Context(X, y, p1, reference))


def observe_and_judge(setup: Setup, overrides: dict) -> dict[str, tuple[Any, CheckResult]]:
    """Every graded check's observation and verdict on the reference answers with `overrides` applied, as
    the engine makes them: the probe sees the key without its secret fields, its data travels as JSON."""
    answers = {**setup.ctx.reference, **overrides}
    answers = {k: v for k, v in answers.items() if v is not REMOVED}
    out = {}
    for check_id in setup.graded:
        key = setup.bundle["keys"][check_id]
        observed = observation(check_id, observe(check_id, answers, key), {}, {})
        out[check_id] = (
            observed,
            judge_observed(check_id, observed, key, CheckConfig(**setup.bundle["configs"][check_id])),
        )
    return out


def grade(setup: Setup, overrides: dict) -> dict[str, CheckResult]:
    """Every graded check on the reference answers with `overrides` applied, as the engine runs them."""
    return {check_id: result for check_id, (_, result) in observe_and_judge(setup, overrides).items()}


def outcome_problems(results: dict[str, CheckResult], expected_fail: frozenset[str]) -> list[str]:
    """Where the results differ from "exactly `expected_fail` fails, the rest pass with full points"."""
    problems = []
    for check_id, r in results.items():
        if check_id in expected_fail:
            if r.status != "failed" or r.points >= r.max_points:
                problems.append(f"{check_id} should fail; got {r.status} with {r.points}/{r.max_points}: {r.message}")
        elif r.status != "passed" or r.points != pytest.approx(r.max_points):
            problems.append(f"{check_id} should pass; got {r.status} with {r.points}/{r.max_points}: {r.message}")
    return problems


def answers_of(make: dict | Callable[[Context], dict], ctx: Context) -> dict:
    return make(ctx) if callable(make) else make


# --- student-style answers: problem 1 ------------------------------------------------------------


def ols(X: np.ndarray, y: np.ndarray, S) -> np.ndarray:
    """Least-squares coefficients (with intercept, not returned) on the columns S."""
    return LinearRegression().fit(X[:, list(S)], y).coef_


def cv_mse(X: np.ndarray, y: np.ndarray, S, seed: int = 0) -> float:
    """10-fold cross-validated squared error of least squares on the columns S."""
    cv = KFold(10, shuffle=True, random_state=seed)
    return float(-cross_val_score(LinearRegression(), X[:, list(S)], y, cv=cv, scoring="neg_mean_squared_error").mean())


def strongest_column(ctx: Context) -> int:
    """The column of the reference S_hat with the largest |t| in its refit: surely a strong signal."""
    fit = ref1.refit(ctx.X, ctx.y, ctx.p1.S_hat)
    return int(ctx.p1.S_hat[int(np.argmax(np.abs(fit.coef / fit.stderr)))])


def bic_along_lasso_path(ctx: Context) -> dict:
    """Each distinct support on the lasso path refitted by least squares; the smallest BIC wins."""
    X, y = ctx.X, ctx.y
    n = len(y)
    _, coefs, _ = lasso_path(X, y)
    best_bic, best = math.inf, None
    for support in {tuple(np.flatnonzero(c)) for c in coefs.T}:
        if not support or len(support) > 20:
            continue
        Z = np.column_stack([np.ones(n), X[:, list(support)]])
        rss = float(np.sum((y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]) ** 2))
        bic = n * math.log(rss / n) + (len(support) + 1) * math.log(n)
        if bic < best_bic:
            best_bic, best = bic, list(support)
    return {"S_hat": np.array(best), "beta_hat": ols(X, y, best), "risk_hat": cv_mse(X, y, best)}


def stability_selection(ctx: Context) -> dict:
    """Columns the lasso picks on at least 70% of 100 random half-samples; least-squares refit; CV risk."""
    X, y = ctx.X, ctx.y
    rng = np.random.default_rng(1)
    counts = np.zeros(X.shape[1])
    for _ in range(100):
        rows = rng.choice(len(y), len(y) // 2, replace=False)
        counts += Lasso(alpha=0.1).fit(X[rows], y[rows]).coef_ != 0
    S = np.flatnonzero(counts >= 70)
    splits = RepeatedKFold(n_splits=5, n_repeats=4, random_state=0)
    risk = -cross_val_score(LinearRegression(), X[:, S], y, cv=splits, scoring="neg_mean_squared_error").mean()
    return {"S_hat": S, "beta_hat": ols(X, y, S), "risk_hat": float(risk)}


def lasso_cv_support(ctx: Context) -> dict:
    """The seed student's selection: every column LassoCV keeps (tuned for prediction, so many nulls)."""
    S = np.where(LassoCV(cv=5, random_state=0).fit(ctx.X, ctx.y).coef_ != 0)[0]
    assert len(S) > len(ctx.p1.S_hat) + 1  # precondition: LassoCV keeps noise columns here
    return {"S_hat": S, "beta_hat": ols(ctx.X, ctx.y, S)}


def seed_unsquared_risk(ctx: Context) -> dict:
    """The seed student's risk: mean of y - X_S beta over the training rows, unsquared (and no intercept)."""
    value = float(np.mean(ctx.y - ctx.X[:, ctx.p1.S_hat] @ ctx.p1.beta_hat))
    assert value < 0  # precondition: negative on this data, so the format check catches it too
    return {"risk_hat": value}


def cv_unsquared_risk(ctx: Context) -> dict:
    """Cross-validated residuals, averaged without squaring (positive on this data)."""
    S = ctx.p1.S_hat
    residuals = ctx.y - cross_val_predict(
        LinearRegression(), ctx.X[:, S], ctx.y, cv=KFold(5, shuffle=True, random_state=0)
    )
    value = float(np.mean(residuals))
    assert value > 0  # precondition: only the band can catch it
    return {"risk_hat": value}


def in_sample_mse_all_columns(ctx: Context) -> dict:
    fit = LinearRegression().fit(ctx.X, ctx.y)
    return {"risk_hat": float(np.mean((ctx.y - fit.predict(ctx.X)) ** 2))}


def one_based_support(ctx: Context) -> dict:
    """The reference's columns counted from 1, their coefficients unchanged."""
    assert max(ctx.p1.S_hat) < ctx.X.shape[1] - 1  # precondition: still valid indices, so only recovery can tell
    return {"S_hat": ctx.p1.S_hat + 1}


def lasso_values_as_beta(ctx: Context) -> dict:
    """The reference S_hat, but LassoCV's own (shrunken) coefficients on it instead of the least-squares refit."""
    coef = LassoCV(cv=5, random_state=0).fit(ctx.X, ctx.y).coef_
    assert np.all(coef[ctx.p1.S_hat] != 0)  # precondition: LassoCV keeps every selected column
    return {"beta_hat": coef[ctx.p1.S_hat]}


def in_sample_mse(X: np.ndarray, y: np.ndarray, S) -> float:
    """The training error of least squares on the columns S."""
    fit = LinearRegression().fit(X[:, list(S)], y)
    return float(np.mean((y - fit.predict(X[:, list(S)])) ** 2))


def lassocv_support_with_in_sample_risk(ctx: Context) -> dict:
    """The seed student's selection and refit, with the risk squared but measured on the training rows."""
    answers = lasso_cv_support(ctx)
    return {**answers, "risk_hat": in_sample_mse(ctx.X, ctx.y, answers["S_hat"])}


def lassocv_support_with_cv_risk(ctx: Context) -> dict:
    """The seed student's selection and refit, with the risk estimated honestly: 5-fold CV of the whole
    select-and-refit procedure, LassoCV rerun inside every fold."""
    answers = lasso_cv_support(ctx)
    squared = np.zeros(len(ctx.y))
    for train, test in KFold(5, shuffle=True, random_state=0).split(ctx.X):
        S = np.flatnonzero(LassoCV(cv=5, random_state=0).fit(ctx.X[train], ctx.y[train]).coef_)
        fit = LinearRegression().fit(ctx.X[np.ix_(train, S)], ctx.y[train])
        squared[test] = (ctx.y[test] - fit.predict(ctx.X[np.ix_(test, S)])) ** 2
    return {**answers, "risk_hat": float(squared.mean())}


def no_intercept_refit(ctx: Context) -> dict:
    """Least squares without an intercept (the assignment's model has none), risk by leave-one-out CV."""
    S = ctx.p1.S_hat
    beta = np.linalg.lstsq(ctx.X[:, S], ctx.y, rcond=None)[0]
    residuals = ctx.y - cross_val_predict(LinearRegression(fit_intercept=False), ctx.X[:, S], ctx.y, cv=len(ctx.y))
    return {"beta_hat": beta, "risk_hat": float(np.mean(residuals**2))}


def full_length_beta(ctx: Context) -> dict:
    beta = np.zeros(ctx.X.shape[1])
    beta[ctx.p1.S_hat] = ctx.p1.beta_hat
    return {"beta_hat": beta}


# --- student-style answers: problem 2 ------------------------------------------------------------


def textbook_bandwidth(c1, c2, n, p):
    return (p * c2 / (4 * c1 * n)) ** (1 / (p + 4))


def bound_at(bandwidth):
    """risk_bound written from the student's own bandwidth: c1 h^4 + c2 / (n h^p) at h = bandwidth(...)."""

    def risk_bound(c1, c2, n, p):
        h = bandwidth(c1, c2, n, p)
        return c1 * h**4 + c2 / (n * h**p)

    return risk_bound


def bandwidth_exponent_p_plus_2(c1, c2, n, p):
    return (p * c2 / (4 * c1 * n)) ** (1 / (p + 2))


def bandwidth_without_p(c1, c2, n, p):
    return (c2 / (4 * c1 * n)) ** (1 / (p + 4))


def swapped_bandwidth(c1, c2, n, p):
    return (p * c1 / (4 * c2 * n)) ** (1 / (p + 4))


def bias_only_risk_bound(c1, c2, n, p):
    return c1 * textbook_bandwidth(c1, c2, n, p) ** 4


def sample_size_by_counting(risk, p):
    """Counting n up until the bound reaches the risk: ~1e7 steps at p = 20; the probe limits stop it."""
    give_up = time.perf_counter() + 40  # a guard should the probe's limits not fire
    n = 1
    while True:
        h = (p / (4 * n)) ** (1 / (p + 4))
        if h**4 + 1 / (n * h**p) <= risk or time.perf_counter() > give_up:
            return n
        n += 1


def sample_size_by_root_finding(risk, p):
    """n solving risk_bound(1, 1, n, p) = risk numerically, in log n."""
    bound = bound_at(textbook_bandwidth)
    return math.exp(brentq(lambda logn: math.log(bound(1.0, 1.0, math.exp(logn), p) / risk), 0.0, 200.0, xtol=1e-12))


def sympy_answers(ctx: Context) -> dict:
    sympy = pytest.importorskip("sympy")
    c1, c2, n, p, risk = sympy.symbols("c1 c2 n p risk", positive=True)
    h = (p * c2 / (4 * c1 * n)) ** (1 / (p + 4))
    bound = c1 * h**4 + c2 / (n * h**p)
    constant = bound.subs({c1: 1, c2: 1, n: 1})
    return {
        "optimal_bandwidth": h,
        "risk_bound": bound,
        "bandwidth_exponent": -1 / (p + 4),
        "risk_exponent": -4 / (p + 4),
        "sample_size": (constant / risk) ** ((p + 4) / 4),
    }


# --- student-style answers: problem 3 ------------------------------------------------------------


def alpha_without_identity(K, Y, lmbda):
    return np.linalg.solve(K + lmbda, Y)


def alpha_without_penalty(K, Y, lmbda):
    return np.linalg.solve(K, Y)


def alpha_pseudo_inverse(K, Y, lmbda):
    return np.linalg.pinv(K) @ Y


def alpha_ridge_formula(K, Y, lmbda):
    """(K'K + lambda I)^-1 K'Y: the ridge penalty lambda ||a||^2 in place of lambda a'Ka."""
    return np.linalg.solve(K.T @ K + lmbda * np.eye(len(K)), K.T @ Y)


def alpha_fitted_values(K, Y, lmbda):
    """K (K + lambda I)^-1 Y: the fitted values at the data, not the coefficients."""
    return K @ np.linalg.solve(K + lmbda * np.eye(len(K)), Y)


def alpha_inverse(K, Y, lmbda):
    return np.linalg.inv(K + lmbda * np.eye(len(K))) @ Y


def alpha_column(K, Y, lmbda):
    return ref3.alpha_hat(K, Y, lmbda).reshape(-1, 1)


def regress_starter_inverse(kernel, X, y, x, lmbda):
    """The starter's loop kernel(X, xj) and an explicit inverse, as three real solutions do."""
    K = np.column_stack([kernel(X, xj) for xj in X])
    k = np.column_stack([kernel(x, xj) for xj in X])
    return k @ np.linalg.inv(K + lmbda * np.eye(len(X))) @ y


def regress_scalar_loops(kernel, X, y, x, lmbda):
    """Gram matrices by double loops over scalar kernel calls."""
    K = np.array([[kernel(a, b) for b in X] for a in X], dtype=float)
    k = np.array([[kernel(a, b) for b in X] for a in x], dtype=float)
    return k @ np.linalg.solve(K + lmbda * np.eye(len(X)), y)


def regress_column(kernel, X, y, x, lmbda):
    return ref3.mercer_kernel_regress(kernel, X, y, x, lmbda).reshape(-1, 1)


def regress_fixed_lambda(kernel, X, y, x, lmbda):
    return ref3.mercer_kernel_regress(kernel, X, y, x, 1.0)


def regress_eval_gram_at_x(kernel, X, y, x, lmbda):
    """K(x, x) where K(x, X) belongs: a shape error unless x has as many points as X."""
    K = np.column_stack([kernel(X, xj) for xj in X])
    k = np.column_stack([kernel(x, xj) for xj in x])
    return k @ np.linalg.solve(K + lmbda * np.eye(len(X)), y)


def regress_fitted_at_data(kernel, X, y, x, lmbda):
    """The fitted values K alpha at the training points, whatever x is."""
    K = np.column_stack([kernel(X, xj) for xj in X])
    return K @ np.linalg.solve(K + lmbda * np.eye(len(X)), y)


def regress_returns_alpha(kernel, X, y, x, lmbda):
    K = np.column_stack([kernel(X, xj) for xj in X])
    return np.linalg.solve(K + lmbda * np.eye(len(X)), y)


def gram_kernel(bandwidth):
    """A kernel written for whole Gram matrices k(X, Y)."""

    def kernel(A, B):
        A, B = np.atleast_1d(np.asarray(A, dtype=float)).ravel(), np.atleast_1d(np.asarray(B, dtype=float)).ravel()
        return np.exp(-((A[:, None] - B[None, :]) ** 2) / (2 * bandwidth**2))

    return kernel


def matern32(x, y, length=0.5):
    r = np.sqrt(3) * np.abs(x - y) / length
    return (1 + r) * np.exp(-r)


# --- the tables ----------------------------------------------------------------------------------

MUTANTS = [
    # Problem 1
    pytest.param(  # index 50 appended to S_hat (p = 50 columns: 0..49), with a zero coefficient for it
        lambda c: {"S_hat": [*c.p1.S_hat.tolist(), 50], "beta_hat": [*c.p1.beta_hat.tolist(), 0.0]},
        {S_FORMAT, S_RECOVERY},
        id="S_hat-index-out-of-range",
    ),
    pytest.param(  # the strongest signal dropped from S_hat with its coefficient; beta_values charges for the
        # strong coefficient that is then not estimated, and risk_band finds the reported risk (the reference's)
        # below the training error of any fit without that column (an honest risk of that model would be far
        # above the band instead)
        lambda c: {
            "S_hat": [j for j in c.p1.S_hat.tolist() if j != strongest_column(c)],
            "beta_hat": [b for j, b in zip(c.p1.S_hat.tolist(), c.p1.beta_hat) if j != strongest_column(c)],
        },
        {S_RECOVERY, BETA_VALUES, RISK_BAND},
        id="S_hat-misses-a-strong-signal",
    ),
    pytest.param(  # the right columns counted from 1: every strong signal missed, and the risk judged on the
        # columns as reported lies far below their own in-sample error
        one_based_support, {S_RECOVERY, BETA_VALUES, RISK_BAND}, id="S_hat-one-based"
    ),
    pytest.param(  # the seed student's S_hat: LassoCV's whole support, refitted by least squares
        lasso_cv_support, {S_RECOVERY}, id="S_hat-lassocv-support"
    ),
    pytest.param(  # the same, with the risk honestly cross-validated, LassoCV included: only the support is wrong
        lassocv_support_with_cv_risk, {S_RECOVERY}, id="S_hat-lassocv-support-cv-risk"
    ),
    pytest.param(  # the same, with the training error of that refit as the risk
        lassocv_support_with_in_sample_risk, {S_RECOVERY, RISK_BAND}, id="S_hat-lassocv-support-in-sample-risk"
    ),
    pytest.param(  # LassoCV's shrunken coefficients on the reference S_hat, not the least-squares refit
        lasso_values_as_beta, {BETA_VALUES}, id="beta_hat-lasso-shrunk"
    ),
    pytest.param(  # one coefficient short of S_hat
        lambda c: {"beta_hat": c.p1.beta_hat[:-1]}, {BETA_FORMAT, BETA_VALUES}, id="beta_hat-wrong-length"
    ),
    pytest.param(  # the seed student's risk: unsquared in-sample mean residual (negative here)
        seed_unsquared_risk, {RISK_FORMAT, RISK_BAND}, id="risk_hat-seed-unsquared-mean-residual"
    ),
    pytest.param(  # cross-validated residuals averaged without squaring (positive here)
        cv_unsquared_risk, {RISK_BAND}, id="risk_hat-cv-unsquared-mean-residual"
    ),
    pytest.param(  # training error of least squares on all 50 columns: far too optimistic
        in_sample_mse_all_columns, {RISK_BAND}, id="risk_hat-in-sample-ols-all-columns"
    ),
    pytest.param(  # training error of the refit on S_hat: below any honest out-of-sample estimate
        lambda c: {"risk_hat": in_sample_mse(c.X, c.y, c.p1.S_hat)}, {RISK_BAND}, id="risk_hat-in-sample-mse-of-S_hat"
    ),
    pytest.param(  # sklearn's neg_mean_squared_error reported as is: a negative risk
        lambda c: {"risk_hat": -cv_mse(c.X, c.y, c.p1.S_hat)},
        {RISK_FORMAT, RISK_BAND},
        id="risk_hat-neg-mean-squared-error",
    ),
    pytest.param({"risk_hat": float("nan")}, {RISK_FORMAT, RISK_BAND}, id="risk_hat-nan"),
    # Problem 2
    pytest.param(  # h* = (...)^(1/(p+2)), risk_bound computed at that h
        {"optimal_bandwidth": bandwidth_exponent_p_plus_2, "risk_bound": bound_at(bandwidth_exponent_p_plus_2)},
        {H_MIN, H_VALUES, R_VALUES},
        id="bandwidth-exponent-1/(p+2)",
    ),
    pytest.param(  # h* without the factor p, risk_bound computed at that h
        {"optimal_bandwidth": bandwidth_without_p, "risk_bound": bound_at(bandwidth_without_p)},
        {H_MIN, H_VALUES, R_VALUES},
        id="bandwidth-missing-p",
    ),
    pytest.param(  # h* without the factor p next to the reference risk_bound: the bound no longer matches the
        # student's own h, which risk_bound_at_bandwidth checks by design
        {"optimal_bandwidth": bandwidth_without_p},
        {H_MIN, H_VALUES, R_AT_H},
        id="bandwidth-missing-p-with-reference-risk-bound",
    ),
    pytest.param(  # c1 and c2 swapped in h*, risk_bound computed at that h
        {"optimal_bandwidth": swapped_bandwidth, "risk_bound": bound_at(swapped_bandwidth)},
        {H_MIN, H_VALUES, R_VALUES},
        id="bandwidth-swapped-c1-c2",
    ),
    pytest.param(  # the bound at h* without the variance term c2 / (n h^p)
        {"optimal_bandwidth": textbook_bandwidth, "risk_bound": bias_only_risk_bound},
        {R_AT_H, R_VALUES},
        id="risk-bound-missing-variance",
    ),
    pytest.param(  # a real mistake: the risk rate stated as n^(-1/(p+4))
        {"risk_exponent": lambda p: -1 / (p + 4)}, {EXP_VALUES}, id="risk-exponent-1/(p+4)"
    ),
    pytest.param(  # both exponents with the wrong sign
        {"bandwidth_exponent": lambda p: 1 / (p + 4), "risk_exponent": lambda p: 4 / (p + 4)},
        {EXP_FORMAT, EXP_VALUES},
        id="exponents-positive",
    ),
    pytest.param(  # n = R^(-p/4): the power misses the 4 of the bias
        {"sample_size": lambda risk, p: risk ** (-p / 4)}, {N_SCALING}, id="sample-size-wrong-power"
    ),
    pytest.param(  # n = R^-(p+4): the bandwidth's rate inverted, a power 4 times too large
        {"sample_size": lambda risk, p: risk ** (-(p + 4))}, {N_SCALING}, id="sample-size-bandwidth-rate-inverted"
    ),
    pytest.param(  # counting n up one at a time: times out at large p under grading.yml's probe limits
        {"sample_size": sample_size_by_counting}, {N_SCALING}, id="sample-size-while-loop"
    ),
    pytest.param(  # the number formatted as text
        {"sample_size": lambda risk, p: f"{risk ** (-(p + 4) / 4):.0f}"}, {N_SCALING}, id="sample-size-string"
    ),
    # Problem 3
    pytest.param({"alpha_hat": alpha_without_identity}, {A_STATIONARY, A_OBJECTIVE}, id="alpha-K-plus-lambda"),
    pytest.param({"alpha_hat": alpha_without_penalty}, {A_STATIONARY, A_OBJECTIVE}, id="alpha-solve-K-Y"),
    pytest.param({"alpha_hat": alpha_pseudo_inverse}, {A_STATIONARY, A_OBJECTIVE}, id="alpha-pinv-K-only"),
    pytest.param({"alpha_hat": alpha_ridge_formula}, {A_STATIONARY, A_OBJECTIVE}, id="alpha-ridge-formula"),
    pytest.param({"alpha_hat": alpha_fitted_values}, {A_STATIONARY, A_OBJECTIVE}, id="alpha-fitted-values"),
    pytest.param(  # right while K is invertible (the stationary check's inputs); raises on an exactly singular K
        {"alpha_hat": alpha_normal_equations}, {A_OBJECTIVE}, id="alpha-uncancelled-normal-equations"
    ),
    pytest.param(  # a (m, 1) column: right values, wrong shape (broadcasts into a grid in the starter code)
        {"mercer_kernel_regress": regress_column}, {REG_SHAPE, REG_VALUES}, id="regress-column-output"
    ),
    pytest.param({"mercer_kernel_regress": regress_fixed_lambda}, {REG_LIMITS, REG_VALUES}, id="regress-ignores-lmbda"),
    pytest.param(  # K(x, x) for K(x, X); the limits check evaluates at x = X, where the two coincide
        {"mercer_kernel_regress": regress_eval_gram_at_x}, {REG_SHAPE, REG_VALUES}, id="regress-K(x,x)"
    ),
    pytest.param(  # K alpha at the training points: the limits check evaluates at x = X, where that is right
        {"mercer_kernel_regress": regress_fitted_at_data},
        {REG_SHAPE, REG_VALUES},
        id="regress-fitted-at-training-points",
    ),
    pytest.param(
        {"mercer_kernel_regress": regress_returns_alpha},
        {REG_SHAPE, REG_LIMITS, REG_VALUES},
        id="regress-returns-alpha",
    ),
    pytest.param(  # kernel(X, X) and kernel(x, X) for whole Gram matrices, next to elementwise kernels of its own
        {"mercer_kernel_regress": regress_of_gram_matrix},
        {REG_SHAPE, REG_LIMITS, REG_VALUES},
        id="regress-gram-matrix-calls-with-elementwise-kernels",
    ),
    pytest.param({"kernel2": ref3.kernel1}, {KERNELS}, id="kernel2-same-as-kernel1"),
    pytest.param({"kernel2": lambda x, y: np.exp(-((x - 2 * y) ** 2))}, {KERNELS}, id="kernel-asymmetric"),
    # the reference's lambda no longer suits a (non-PSD) kernel 1, so the simulated risk check fails too
    pytest.param({"kernel1": lambda x, y: -np.abs(x - y)}, {KERNELS, LAMBDA_RISK}, id="kernel-not-psd"),
    pytest.param({"lambda_hat_1": 0}, {LAMBDAS, LAMBDA_RISK}, id="lambda-zero"),
    pytest.param({"lambda_hat_2": -0.5}, {LAMBDAS, LAMBDA_RISK}, id="lambda-negative"),
    pytest.param({"lambda_hat_1": ...}, {LAMBDAS, LAMBDA_RISK}, id="lambda-ellipsis"),
    pytest.param({"lambda_hat_1": 1.0, "lambda_hat_2": 8.0}, {LAMBDA_RISK}, id="lambdas-far-too-large"),
    # the smallest value of a grid that stopped too early: the risk is still falling beyond it
    pytest.param({"lambda_hat_1": 1e-6}, {LAMBDA_RISK}, id="lambda-at-the-end-of-its-grid"),
]

ALTERNATIVES = [
    pytest.param({}, id="reference"),
    # Problem 1
    pytest.param(bic_along_lasso_path, id="p1-bic-along-lasso-path-ols-refit"),
    pytest.param(stability_selection, id="p1-stability-selection"),
    pytest.param(full_length_beta, id="p1-beta-full-length-50"),
    pytest.param(no_intercept_refit, id="p1-no-intercept-refit-loo-risk"),
    pytest.param(  # plain Python list, list and float
        lambda c: {"S_hat": c.p1.S_hat.tolist(), "beta_hat": c.p1.beta_hat.tolist(), "risk_hat": float(c.p1.risk_hat)},
        id="p1-python-lists",
    ),
    # Problem 2
    pytest.param(sympy_answers, id="p2-sympy-expressions"),
    pytest.param(  # direct formulas on scalars, no logs
        {"optimal_bandwidth": textbook_bandwidth, "risk_bound": bound_at(textbook_bandwidth)},
        id="p2-textbook-formulas",
    ),
    pytest.param(  # other constants: c1 = c2 = 2
        {"sample_size": lambda risk, p: ref2.sample_size(risk, p, c1=2.0, c2=2.0)}, id="p2-sample-size-c1-c2-2"
    ),
    pytest.param(  # most students: no constants at all
        {"sample_size": lambda risk, p: risk ** (-(p + 4) / 4)}, id="p2-sample-size-without-constants"
    ),
    pytest.param(  # a whole number of samples
        {"sample_size": lambda risk, p: math.ceil(ref2.sample_size(risk, p))}, id="p2-sample-size-ceil"
    ),
    pytest.param({"sample_size": sample_size_by_root_finding}, id="p2-sample-size-root-finding"),
    # Problem 3
    pytest.param(
        {"alpha_hat": alpha_inverse, "mercer_kernel_regress": regress_starter_inverse}, id="p3-explicit-inverse"
    ),
    pytest.param({"alpha_hat": alpha_column}, id="p3-alpha-as-column"),
    pytest.param({"alpha_hat": alpha_pinv}, id="p3-alpha-pinv-of-K-plus-lambda-I"),
    pytest.param({"alpha_hat": alpha_lstsq}, id="p3-alpha-lstsq-on-K-plus-lambda-I"),
    pytest.param({"alpha_hat": alpha_cholesky}, id="p3-alpha-cholesky-of-K-plus-lambda-I"),
    pytest.param({"alpha_hat": alpha_eigh}, id="p3-alpha-eigendecomposition-of-K"),
    pytest.param({"mercer_kernel_regress": regress_scalar_loops}, id="p3-regress-scalar-loops"),
    pytest.param(  # the assignment's other spelling, and no mercer_kernel_regress at all
        {"mercer_kernel_regress": REMOVED, "mercere_kernel_regress": ref3.mercer_kernel_regress},
        id="p3-misspelled-regress-name",
    ),
    pytest.param(  # numpy kernels that broadcast: a narrow Gaussian and a cubic polynomial
        {
            "kernel1": lambda x, y: np.exp(-((x - y) ** 2) / (2 * 0.2**2)),
            "kernel2": lambda x, y: (1 + x * y) ** 3,
        },
        id="p3-broadcasting-kernels",
    ),
    pytest.param(  # scalar-only kernels k(x, y) with math.exp
        {
            "kernel1": lambda x, y: math.exp(-((x - y) ** 2) / 2),
            "kernel2": lambda x, y: math.exp(-abs(x - y) / 0.5),
        },
        id="p3-scalar-math-exp-kernels",
    ),
    pytest.param({"kernel1": gram_kernel(0.5), "kernel2": gram_kernel(0.1)}, id="p3-gram-matrix-kernels"),
    pytest.param(  # a real solution: kernels only for 1-D arrays, and a regression calling kernel(X, X), kernel(x, X)
        {
            "mercer_kernel_regress": regress_of_gram_matrix,
            "kernel1": gram_matrix_kernel(0.5),
            "kernel2": gram_matrix_kernel(0.1),
        },
        id="p3-gram-matrix-kernels-and-regression",
    ),
    pytest.param(  # Laplacian and Matern (nu = 3/2)
        {"kernel1": lambda x, y: np.exp(-np.abs(x - y) / 0.3), "kernel2": matern32}, id="p3-laplacian-matern"
    ),
    pytest.param(  # kernels of the difference k(d), next to the reference regression (probed with the grader's)
        {"kernel1": lambda d: np.exp(-(d**2) / 2), "kernel2": lambda d: np.exp(-np.abs(d))}, id="p3-difference-kernels"
    ),
    pytest.param(  # the regression written for those difference kernels: it calls kernel(x - y)
        {
            "mercer_kernel_regress": regress_of_difference,
            "kernel1": lambda d: np.exp(-(d**2) / 2),
            "kernel2": lambda d: np.exp(-np.abs(d)),
        },
        id="p3-difference-kernels-and-regression",
    ),
    pytest.param(  # a numpy scalar and a size-1 array, near the reference's choices
        {"lambda_hat_1": np.float64(0.01), "lambda_hat_2": np.array([0.1])}, id="p3-numpy-lambdas"
    ),
]


# --- the tests -----------------------------------------------------------------------------------


def test_every_configured_check_but_the_figures_and_model_files_is_graded(setup):
    """The tables cover what the engine grades from the notebook's answers; engine-only checks need recorded
    figures, and the P4 checks judge submitted model files (tests/engine/test_p4_models.py)."""
    configured = set(setup.bundle["configs"])
    assert set(setup.graded) == {i for i in configured if not ITEMS[i].engine_only and not ITEMS[i].file}
    assert {i for i in configured if ITEMS[i].engine_only} == {"q1_1.path_plot", "q2_3.cod_plot"}
    assert {i for i in configured if ITEMS[i].file} == {
        f"{q}.{c}" for q in ("q4_2", "q4_3") for c in ("accuracy", "architecture")
    }


GRADED: dict[str, dict[str, tuple[Any, CheckResult]]] = {}  # mutant id -> its observations and verdicts


def graded_mutant(setup: Setup, mutant_id: str) -> dict[str, tuple[Any, CheckResult]]:
    """A mutant's observations and verdicts, made once per session (the outcome and naming tests share them)."""
    if mutant_id not in GRADED:
        (make,) = [m.values[0] for m in MUTANTS if m.id == mutant_id]
        GRADED[mutant_id] = observe_and_judge(setup, answers_of(make, setup.ctx))
    return GRADED[mutant_id]


@pytest.mark.parametrize("make, expected", MUTANTS)
def test_mutant_fails_exactly_the_intended_checks(setup, make, expected, request):
    assert expected <= set(setup.graded), expected - set(setup.graded)
    results = {c: r for c, (_, r) in graded_mutant(setup, request.node.callspec.id).items()}
    assert outcome_problems(results, frozenset(expected)) == []


@pytest.mark.parametrize("make", ALTERNATIVES)
def test_alternative_gets_full_credit_on_every_check_and_no_mistake_detected(setup, make):
    graded = observe_and_judge(setup, answers_of(make, setup.ctx))
    assert outcome_problems({c: r for c, (_, r) in graded.items()}, frozenset()) == []
    fired = {c: detected(c, obs, setup.bundle["keys"][c], MISCONCEPTIONS) for c, (obs, _) in graded.items()}
    assert {c: ids for c, ids in fired.items() if ids} == {}


# --- named misconceptions ------------------------------------------------------------------------
# Each mutant's fault as the catalogue names it (autograder/checks/p*_mistakes.py), or None where the
# catalogue has no entry for it: then its failed checks must name nothing. A mutant is named correctly when
# its failed checks name exactly its entry; the ones without an entry count against the rate.

NAMES = {
    "S_hat-index-out-of-range": None,
    "S_hat-misses-a-strong-signal": None,
    "S_hat-one-based": "p1.one-based-indices",
    "S_hat-lassocv-support": "p1.support-lassocv-alone",
    "S_hat-lassocv-support-cv-risk": "p1.support-lassocv-alone",
    # two faults, each named
    "S_hat-lassocv-support-in-sample-risk": ("p1.support-lassocv-alone", "p1.risk-in-sample"),
    "risk_hat-in-sample-mse-of-S_hat": "p1.risk-in-sample",
    "beta_hat-wrong-length": None,
    "beta_hat-lasso-shrunk": "p1.beta-lasso-shrunk",
    "risk_hat-seed-unsquared-mean-residual": "p1.risk-unsquared-residual",
    "risk_hat-cv-unsquared-mean-residual": "p1.risk-unsquared-residual",
    "risk_hat-in-sample-ols-all-columns": "p1.risk-in-sample",
    "risk_hat-neg-mean-squared-error": "p1.risk-negative-cv-score",
    "risk_hat-nan": None,
    "bandwidth-exponent-1/(p+2)": "p2.bandwidth-wrong-power",
    "bandwidth-missing-p": "p2.bandwidth-missing-p",
    "bandwidth-missing-p-with-reference-risk-bound": "p2.bandwidth-missing-p",
    "bandwidth-swapped-c1-c2": "p2.bandwidth-c1-c2-swapped",
    "risk-bound-missing-variance": "p2.risk-bound-missing-variance",
    "risk-exponent-1/(p+4)": "p2.risk-rate-as-bandwidth-rate",
    "exponents-positive": "p2.exponent-sign",
    "sample-size-wrong-power": "p2.sample-size-wrong-power",
    "sample-size-bandwidth-rate-inverted": "p2.sample-size-wrong-power",
    "sample-size-while-loop": None,
    "sample-size-string": None,
    "alpha-K-plus-lambda": "p3.lambda-every-entry",
    "alpha-solve-K-Y": "p3.lambda-ignored",
    "alpha-pinv-K-only": "p3.lambda-ignored",
    "alpha-ridge-formula": "p3.alpha-ridge-penalty",
    "alpha-fitted-values": "p3.alpha-fitted-values",
    "alpha-uncancelled-normal-equations": "p3.closed-form-singular-k",
    "regress-column-output": "p3.column-output",
    "regress-ignores-lmbda": "p3.lambda-ignored",
    "regress-K(x,x)": None,
    "regress-fitted-at-training-points": "p3.fitted-at-training-points",
    "regress-returns-alpha": "p3.regress-returns-alpha",
    "regress-gram-matrix-calls-with-elementwise-kernels": "p3.one-kernel-convention",
    "kernel2-same-as-kernel1": "p3.kernels-identical",
    "kernel-asymmetric": "p3.kernel-asymmetric",
    "kernel-not-psd": "p3.kernel-not-psd",
    "lambda-zero": "p3.lambda-not-positive",
    "lambda-negative": "p3.lambda-not-positive",
    "lambda-ellipsis": "p3.lambda-unfilled",
    "lambdas-far-too-large": "p3.lambda-grid-edge",
    "lambda-at-the-end-of-its-grid": "p3.lambda-grid-edge",
}


def axes(curves: int, xscale: str = "log", xlabel: str = "alpha", ylabel: str = "coefficient") -> dict:
    """A recorded axes as the engine describes it, with `curves` monotone lines."""
    x = [0.1, 0.2, 0.3, 0.4, 0.5]
    lines = [[x, [v ** -(j + 1) for v in x]] for j in range(curves)]
    return {
        "xscale": xscale,
        "yscale": "linear",
        "xlabel": xlabel,
        "ylabel": ylabel,
        "title": "",
        "n_lines": curves,
        "line_collection_segments": 0,
        "n_collections": 0,
        "lines": lines,
    }


def figures(question: str, *all_axes: dict) -> dict:
    return {"question": question, "cells": [0], "figures": [{"axes": list(all_axes)}]}


BASELINE_LAYERS = [
    {"class": "Conv2D", "filters": 32, "kernel_size": [5, 5]},
    {"class": "MaxPooling2D", "pool_size": [4, 4]},
    {"class": "Flatten"},
    {"class": "Dense", "units": 2},
]
IMPROVED_LAYERS = [
    {"class": "Conv2D", "filters": 16, "kernel_size": [5, 5]},
    {"class": "MaxPooling2D", "pool_size": [4, 4]},
    {"class": "Conv2D", "filters": 32, "kernel_size": [3, 3]},
    {"class": "MaxPooling2D", "pool_size": [4, 4]},
    {"class": "Flatten"},
    {"class": "Dense", "units": 2},
]


def model(layers: list[dict], accuracy: str | float, reported: float | None = None, fake: float = 0.5):
    """A P4 observation: the grader's measurement of a model file and the accuracy the notebook reported.
    `accuracy` may name a point of the check's scale: "partial" (between its ends) or "full"."""

    def make(cfg: dict) -> dict:
        low, high = cfg["params"]["partial_from"], cfg["params"]["full_from"]
        acc = {"partial": (low + high) / 2, "full": high}.get(accuracy, accuracy)
        facts = {"params": 1000, "layers": layers, "weights_sha256": "0" * 64, "accuracy": acc}
        facts |= {"predicted_fake": fake, "images": 12288, "seconds": 1.0, "evaluated_with": "onnxruntime"}
        return {"answers": {"reported": reported}, "file": facts, "files": {}, "printed": {}}

    return make


# Faults only the engine observes (figures) or the grader measures (model files), as plain observations:
# (check, observation, the fault's entry or None).
OBSERVED_MUTANTS = [
    pytest.param(
        "q1_1.path_plot", figures("1.1", axes(50, xscale="linear")), "p1.path-linear-alpha", id="paths-linear-alpha"
    ),
    pytest.param("q1_1.path_plot", figures("1.1", axes(50, xlabel="")), "p1.path-unlabelled", id="paths-unlabelled"),
    pytest.param(  # the seed student's 2.3: one axes per risk level, each with a single curve over p
        "q2_3.cod_plot",
        figures("2.3", *[axes(1, "linear", "p", "n") for _ in range(5)]),
        "p2.cod-too-few-curves",
        id="cod-one-curve-per-axes",
    ),
    pytest.param(
        "q2_3.cod_plot", figures("2.3", axes(5, "log", "risk", "n")), "p2.cod-too-few-curves", id="cod-five-dimensions"
    ),
    pytest.param(
        "q4_2.accuracy", model(BASELINE_LAYERS, "partial", 0.9), "p4.baseline-architecture", id="p4-baseline-handed-in"
    ),
    pytest.param(
        "q4_3.accuracy", model(IMPROVED_LAYERS, 0.5, None, fake=1.0), "p4.one-class", id="p4-predicts-one-class"
    ),
    pytest.param(
        "q4_2.accuracy",
        model(IMPROVED_LAYERS, "partial", 0.999),
        "p4.reported-above-measured",
        id="p4-reported-above-measured",
    ),
    pytest.param(
        "q4_3.accuracy", model(IMPROVED_LAYERS, "partial", None), None, id="p4-weaker-model-reported-honestly"
    ),
]
OBSERVED_ALTERNATIVES = [
    pytest.param("q1_1.path_plot", figures("1.1", axes(50)), id="paths"),
    pytest.param("q2_3.cod_plot", figures("2.3", axes(20, "log", "risk R", "sample size n")), id="cod-curves"),
    pytest.param("q4_3.accuracy", model(IMPROVED_LAYERS, "full", 0.955), id="p4-improved-reported-honestly"),
]


def judge_observation(setup: Setup, check_id: str, observed) -> tuple[Any, CheckResult]:
    cfg = setup.bundle["configs"][check_id]
    observed = observed(cfg) if callable(observed) else observed
    return observed, judge_observed(check_id, observed, setup.bundle["keys"][check_id], CheckConfig(**cfg))


def names(graded: dict[str, tuple[Any, CheckResult]]) -> set[str]:
    """Every misconception the failed checks name."""
    return {m for _, result in graded.values() for m in result.misconceptions}


def expected_names(value: str | tuple[str, ...] | None) -> set[str]:
    """A NAMES entry as the set of names its mutant's failed checks must give."""
    return set(value) if isinstance(value, tuple) else {value} - {None}


def test_every_mutant_has_its_expected_name_listed_and_every_entry_a_mutant():
    assert set(NAMES) == {m.id for m in MUTANTS}
    expected = {n for v in NAMES.values() for n in expected_names(v)} | {m.values[2] for m in OBSERVED_MUTANTS} - {None}
    assert {m.id for m in MISCONCEPTIONS} - expected == set()


@pytest.mark.parametrize("mutant_id", list(NAMES))
def test_mutant_is_named_as_its_fault(setup, mutant_id):
    """Its failed checks name its entry, and nothing else; a fault without an entry is named nothing."""
    expected = expected_names(NAMES[mutant_id])
    graded = graded_mutant(setup, mutant_id)
    assert names(graded) == expected, {c: r.message for c, (_, r) in graded.items() if r.status == "failed"}


@pytest.mark.parametrize("check_id, observed, expected", OBSERVED_MUTANTS)
def test_observed_mutant_is_named_as_its_fault(setup, check_id, observed, expected):
    _, result = judge_observation(setup, check_id, observed)
    assert result.status == "failed", result.message
    assert set(result.misconceptions) == {expected} - {None}, result.message
    if expected:
        entry = next(m for m in MISCONCEPTIONS if m.id == expected)
        assert result.message.endswith(f"{entry.name}: {entry.hint}")


@pytest.mark.parametrize("check_id, observed", OBSERVED_ALTERNATIVES)
def test_no_detector_fires_on_a_valid_observation(setup, check_id, observed):
    observed, result = judge_observation(setup, check_id, observed)
    assert result.passed, result.message
    assert detected(check_id, observed, setup.bundle["keys"][check_id], MISCONCEPTIONS) == ()


def test_the_baseline_trained_better_passes_unnamed(setup):
    """The assignment's own "train on more data": the baseline's layers are a mistake only when the accuracy
    falls short, and a detector explains failed checks alone."""
    _, result = judge_observation(setup, "q4_2.accuracy", model(BASELINE_LAYERS, "full", None))
    assert result.passed and result.misconceptions == (), result.message


def test_naming_rate(setup):
    """At least 80 % of all single-fault mutants are named exactly as their fault (printed with -s)."""
    correct = [i for i, name in NAMES.items() if name and names(graded_mutant(setup, i)) == expected_names(name)]
    for m in OBSERVED_MUTANTS:
        check_id, observed, name = m.values
        _, result = judge_observation(setup, check_id, observed)
        correct += [m.id] if name and result.misconceptions == (name,) else []
    total = len(NAMES) + len(OBSERVED_MUTANTS)
    print(f"\nnamed correctly: {len(correct)} / {total} single-fault mutants ({100 * len(correct) / total:.0f} %)")
    assert len(correct) >= 0.8 * total
