"""Problem 1 reference solution: lasso paths, support selection, refit, predictive risk.

Model: y = X beta + sigma * eps with beta sparse (n = 100 rows, p = 50 columns).

Method choice.

* Selection (S_hat): screen, rank, then choose the size by cross-validation.
  1. Screen with the lasso at the level chosen by ``LassoCV``. That support is
     tuned for prediction with *shrunken* coefficients, so it keeps every
     strong signal but also many noise columns (16 to 20 on the course data,
     depending on the folds); it is a screen, not the answer.
  2. Rank the screened columns by |t| of their least-squares refit. Among
     columns that survive the screen, the refit t-statistic separates strong
     signals from noise far more reliably than the order in which columns
     enter the lasso path.
  3. Keep the top k columns, with k chosen by repeated K-fold CV of the whole
     screen-rank-refit procedure (the lasso fit at the screening level and the
     ranking are redone inside every training fold) and the
     one-standard-error rule: the smallest k
     whose CV error is within one standard error of the minimum. Differences
     below one standard error are noise, so the rule favours the sparser,
     more stable model.
  Judging fixed supports that were picked from all the data (for instance
  every support along the full-data lasso path) by their CV error is
  optimistic: each extra noise column already looks useful on the held-out
  rows, so the minimum drifts towards large models and the rule admits
  spurious columns. Indexing the CV by model size avoids that. Folds are
  fixed by ``seed``.
* Estimation (beta_hat): ordinary least squares with an intercept on S_hat.
  Refitting removes the lasso's shrinkage bias and gives classical standard
  errors (conditional on the selected support).
* Predictive risk (risk_hat): E(Y - X beta_hat)^2 is estimated by repeated
  K-fold CV of the complete select-then-refit procedure: ``select_support`` is
  rerun inside every training fold, so the estimate pays for the selection
  step. The in-sample residual error would be optimistic.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np
from sklearn.linear_model import Lasso, LassoCV, lasso_path
from sklearn.model_selection import RepeatedKFold

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn: the grader's keys need none
    from matplotlib.axes import Axes

N_FOLDS = 5
N_ALPHAS = 100
SELECTION_REPEATS = 5
RISK_REPEATS = 2


@dataclass(frozen=True)
class Fit:
    """Least-squares refit (with intercept) on a fixed support."""

    support: np.ndarray
    coef: np.ndarray
    intercept: float
    sigma: float
    stderr: np.ndarray


@dataclass(frozen=True)
class RiskEstimate:
    """Cross-validated predictive risk and its standard error."""

    estimate: float
    stderr: float


@dataclass(frozen=True)
class P1Answer:
    """Answer to problem 1.2: selected support, its coefficients, predictive risk."""

    S_hat: np.ndarray
    beta_hat: np.ndarray
    risk_hat: float


def alpha_grid(X: np.ndarray, y: np.ndarray, n_alphas: int = N_ALPHAS, ratio: float = 1e-3) -> np.ndarray:
    """Log-spaced regularization levels from the smallest alpha giving the empty model down by `ratio`."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    alpha_max = np.max(np.abs(Xc.T @ yc)) / len(y)
    return np.geomspace(alpha_max, alpha_max * ratio, n_alphas)


def lasso_path_figure(X: np.ndarray, y: np.ndarray, ax: Axes | None = None) -> Axes:
    """Plot every coefficient's lasso path against alpha on a log scale."""
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(8, 5)).add_subplot()
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    alphas, coefs, _ = lasso_path(Xc, yc, alphas=alpha_grid(X, y))
    ax.plot(alphas, coefs.T, linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("regularization level alpha (log scale)")
    ax.set_ylabel("coefficient")
    ax.set_title(f"Lasso regularization paths ({X.shape[1]} coefficients)")
    return ax


def ols_with_intercept(X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Least-squares intercept and slopes; with no columns this is the mean of y."""
    Z = np.column_stack([np.ones(len(y)), X])
    theta, *_ = np.linalg.lstsq(Z, y, rcond=None)
    return float(theta[0]), theta[1:]


def screening_alpha(X: np.ndarray, y: np.ndarray, folds: list) -> float:
    """Regularization level chosen by LassoCV on the given folds (the screening level)."""
    return float(LassoCV(alphas=alpha_grid(X, y), cv=folds).fit(X, y).alpha_)


def ranked_screen(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """Lasso support at `alpha`, ordered by decreasing |t| of its least-squares refit."""
    coef = Lasso(alpha=alpha).fit(X, y).coef_
    screened = np.flatnonzero(coef)
    # The refit's t-statistics are only meaningful with far fewer columns than rows.
    cap = len(y) // 3
    if len(screened) > cap:
        screened = screened[np.argsort(-np.abs(coef[screened]), kind="stable")[:cap]]
    fit = refit(X, y, screened)
    return screened[np.argsort(-np.abs(fit.coef / fit.stderr), kind="stable")]


def kfold_repeats(n: int, seed: int, n_repeats: int, n_splits: int = N_FOLDS) -> list[list]:
    """`n_repeats` independent shuffled K-fold partitions of range(n), fixed by `seed`."""
    splits = list(RepeatedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed).split(np.arange(n)))
    return [splits[i : i + n_splits] for i in range(0, len(splits), n_splits)]


def size_cv_errors(X: np.ndarray, y: np.ndarray, alpha: float, max_size: int, repeats: list[list]) -> np.ndarray:
    """Squared CV error of the screen-rank-refit-top-k procedure: one row per size k, one column per data row.

    Screening and ranking are redone in every training fold; errors are averaged over the repeats.
    """
    errors = np.zeros((max_size + 1, len(y)))
    for folds in repeats:
        for train, test in folds:
            order = ranked_screen(X[train], y[train], alpha)
            for k in range(max_size + 1):
                intercept, coef = ols_with_intercept(X[np.ix_(train, order[:k])], y[train])
                errors[k, test] += (y[test] - intercept - X[np.ix_(test, order[:k])] @ coef) ** 2
    return errors / len(repeats)


def one_se_size(errors: np.ndarray) -> int:
    """Smallest model size whose mean CV error is within one standard error of the minimum."""
    means = errors.mean(axis=1)
    best = int(np.argmin(means))
    threshold = means[best] + errors[best].std(ddof=1) / np.sqrt(errors.shape[1])
    return int(np.flatnonzero(means <= threshold)[0])


def select_support(X: np.ndarray, y: np.ndarray, seed: int = 0, n_repeats: int = SELECTION_REPEATS) -> np.ndarray:
    """Estimate S: the top-k lasso-screened columns by refit |t|, with k by CV and the one-SE rule."""
    repeats = kfold_repeats(len(y), seed, n_repeats)
    alpha = screening_alpha(X, y, repeats[0])
    order = ranked_screen(X, y, alpha)
    errors = size_cv_errors(X, y, alpha, len(order), repeats)
    return np.sort(order[: one_se_size(errors)]).astype(int)


def refit(X: np.ndarray, y: np.ndarray, support: np.ndarray) -> Fit:
    """Least squares with intercept on `support`, with residual sigma and classical standard errors."""
    support = np.asarray(support, dtype=int)
    n, k = len(y), len(support)
    Z = np.column_stack([np.ones(n), X[:, support]])
    theta, *_ = np.linalg.lstsq(Z, y, rcond=None)
    sigma = float(np.sqrt(np.sum((y - Z @ theta) ** 2) / (n - k - 1)))
    covariance = sigma**2 * np.linalg.inv(Z.T @ Z)
    return Fit(
        support=support,
        coef=theta[1:],
        intercept=float(theta[0]),
        sigma=sigma,
        stderr=np.sqrt(np.diag(covariance))[1:],
    )


def predict(fit: Fit, X: np.ndarray) -> np.ndarray:
    """Predictions of a refit at the rows of X."""
    return fit.intercept + X[:, fit.support] @ fit.coef


def predictive_risk_cv(
    X: np.ndarray, y: np.ndarray, seed: int = 0, n_splits: int = N_FOLDS, n_repeats: int = RISK_REPEATS
) -> RiskEstimate:
    """Repeated K-fold CV of the whole select-then-refit procedure, estimating E(Y - X beta_hat)^2."""
    splitter = RepeatedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    squared = np.zeros(len(y))
    for train, test in splitter.split(X):
        support = select_support(X[train], y[train], seed=seed)
        fit = refit(X[train], y[train], support)
        squared[test] += (y[test] - predict(fit, X[test])) ** 2
    # Each row is tested once per repeat; average per row before taking the standard error.
    per_row = squared / n_repeats
    return RiskEstimate(
        estimate=float(per_row.mean()),
        stderr=float(per_row.std(ddof=1) / np.sqrt(len(y))),
    )


def solve(X: np.ndarray, y: np.ndarray, seed: int = 0) -> P1Answer:
    """Full problem 1.2 answer: S_hat, beta_hat on S_hat (same order) and risk_hat."""
    support = select_support(X, y, seed=seed)
    fit = refit(X, y, support)
    risk = predictive_risk_cv(X, y, seed=seed)
    return P1Answer(S_hat=support, beta_hat=fit.coef, risk_hat=risk.estimate)
