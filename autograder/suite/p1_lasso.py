"""Problem 1 items: S_hat, beta_hat and risk_hat against a key built from the data and its truth.

On generated data the truth is in the answer key: strong signals are true coefficients whose
least-squares t-statistic reaches `strong_t`, the other true ones are plausible. On the course's
real file the split comes from grading.yml (`data.problem1.course_key`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autograder.checks import p1_lasso as checks
from autograder.checks import p1_mistakes
from autograder.probes.p1_lasso import probe_answers
from autograder.suite.item import Item, KeyContext, Param


def _ols(X: np.ndarray, y: np.ndarray, support: list[int]) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Least squares with intercept on `support`: coefficients, standard errors, residual variance, dof."""
    design = np.column_stack([np.ones(len(y)), X[:, support]])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = len(y) - design.shape[1]
    s2 = float(resid @ resid / dof)
    se = np.sqrt(s2 * np.diag(np.linalg.inv(design.T @ design)))
    return coef[1:], se[1:], s2, dof


@dataclass(frozen=True)
class Problem1Data:
    """The data the keys are built from, and which of its columns carry signal (strong ones must be found)."""

    X: np.ndarray
    y: np.ndarray
    strong: list[int]
    plausible: list[int]

    @property
    def columns(self) -> list[int]:
        return sorted(self.strong + self.plausible)


def problem1_data(ctx: KeyContext) -> Problem1Data:
    """The data file and its strong and plausible columns: from the answer key on generated data, from
    grading.yml on the course's file."""
    from autograder.data import problem1
    from autograder.data.checksum import sha256_file
    from autograder.errors import DataError

    path = ctx.data_dir / ctx.problem1_file
    X, y = problem1.load_xy(path)
    digest = sha256_file(path)
    if digest == ctx.course_sha256:
        return Problem1Data(X, y, list(ctx.course_key["strong"]), list(ctx.course_key["plausible"]))
    truth = problem1.read_key(ctx.answer_key_dir / problem1.KEY_NAME)
    if truth.data_sha256 != digest:
        raise DataError(
            f"{ctx.answer_key_dir / problem1.KEY_NAME} was made for another {path.name} (sha256 {truth.data_sha256[:12]}…, "
            f"the file has {digest[:12]}…); run `assn1 data generate` to make both again, or `assn1 data fetch` for the course file."
        )
    support = list(truth.support)
    design = np.column_stack([np.ones(len(y)), X[:, support]])
    se_true = truth.sigma * np.sqrt(np.diag(np.linalg.inv(design.T @ design)))[1:]
    t = np.abs(np.array(truth.beta)[support]) / se_true
    strong = [j for j, tj in zip(support, t) if tj >= ctx.strong_t]
    return Problem1Data(X, y, strong, [j for j in support if j not in strong])


def truth_key(data: Problem1Data) -> dict:
    """Strong and plausible columns, their refit coefficients with standard errors, and the noise variance."""
    coef, se, s2, dof = _ols(data.X, data.y, data.columns)
    return {
        "n_cols": int(data.X.shape[1]),
        "strong": data.strong,
        "plausible": data.plausible,
        "beta": {str(j): float(b) for j, b in zip(data.columns, coef)},
        "se": {str(j): float(s) for j, s in zip(data.columns, se)},
        "s2": s2,
        "dof": dof,
    }


def problem1_key(ctx: KeyContext) -> dict:
    """The truth alone: what `support_recovery` needs."""
    return truth_key(problem1_data(ctx))


# The sampling model under a key: y = X beta + sigma eps on the key's columns, with the key's refit
# coefficients, no intercept (the assignment's model has none) and sigma^2 the key's residual variance.
FOLDS = (3, 5, 10)  # the K of the K-fold cross-validations an honest student runs
PARTITIONS, NOISE_DRAWS = 40, 25  # per fixed-support variant: fold partitions x noise draws each
PESSIMISTIC_DRAWS = 50
# The stand-in for the most pessimistic honest procedure (LassoCV or AIC selection, then least squares,
# cross-validated as a whole) freezes the lasso at this fraction of the universal level sigma sqrt(2 log p / n):
# under half the level LassoCV picks on these data, so the stand-in keeps more columns than LassoCV and AIC
# selection and errs on the generous side (docs/p1-tolerances.md).
PESSIMISTIC_LEVEL = 0.2


def _design(X: np.ndarray, columns: list[int], intercept: bool = True) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X[:, columns]]) if intercept else X[:, columns]


def _slopes(X: np.ndarray, columns: list[int], intercept: bool = True) -> np.ndarray:
    """The matrix taking y to the least-squares slopes on `columns`, one row per column, in that order."""
    inverse = np.linalg.pinv(_design(X, columns, intercept))
    return inverse[1:] if intercept else inverse


def _noise_draws(data: Problem1Data, key: dict, rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` re-draws of y under the key's model, as the columns of an (n, count) array."""
    beta = np.array([key["beta"][str(j)] for j in data.columns])
    noise = np.sqrt(key["s2"]) * rng.standard_normal((len(data.y), count))
    return (data.X[:, data.columns] @ beta)[:, None] + noise


def beta_spread(data: Problem1Data, key: dict) -> list[list[float]]:
    """How far honest estimates of the strong coefficients lie from the refit on their own support, as
    [mean, sd] in standard errors per strong column and variant: the refit on every signal column reported
    for the strong ones, and refits without an intercept. Each is linear in y, so normal under the model."""
    X, strong, columns = data.X, data.strong, data.columns
    on_all = _slopes(X, columns)[[columns.index(j) for j in strong]]
    no_intercept = _slopes(X, columns, intercept=False)[[columns.index(j) for j in strong]]
    variants = [on_all - _slopes(X, strong), no_intercept - on_all, _slopes(X, strong, False) - _slopes(X, strong)]
    beta = np.array([key["beta"][str(j)] for j in columns])
    mean_y, sigma = X[:, columns] @ beta, np.sqrt(key["s2"])
    se = np.array([key["se"][str(j)] for j in strong])
    return [
        [float(m), float(s)] for M in variants for m, s in zip(M @ mean_y / se, sigma * np.linalg.norm(M, axis=1) / se)
    ]


def _fitted(Z_train: np.ndarray, Y_train: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Least-squares predictions at the rows of Z from a fit on (Z_train, Y_train), for every column of Y_train."""
    return Z @ np.linalg.solve(Z_train.T @ Z_train, Z_train.T @ Y_train)


def _cv_over_in_sample(
    X: np.ndarray, columns: list[int], k: int, Y: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """K-fold cross-validated over in-sample squared error of least squares on `columns`, per column of Y."""
    Z = _design(X, columns)
    cv = np.zeros(Y.shape[1])
    for test in np.array_split(rng.permutation(len(Z)), k):
        train = np.ones(len(Z), dtype=bool)
        train[test] = False
        cv += np.sum((Y[test] - _fitted(Z[train], Y[train], Z[test])) ** 2, axis=0)
    return cv / np.sum((Y - _fitted(Z, Y, Z)) ** 2, axis=0)


def optimism_spread(data: Problem1Data, key: dict, rng: np.random.Generator) -> list[list[float]]:
    """[mean, sd] of (ratio - 1)^(1/3), the ratio of a K-fold cross-validated error to the in-sample error of
    the same least-squares fit, for each K in FOLDS, on every signal column and on the strong ones alone:
    the most optimistic honest estimates (a fixed support, no selection inside the folds)."""
    spread = []
    for columns in [data.columns] + [data.strong] * (data.strong != data.columns):
        for k in FOLDS:
            ratios = [
                _cv_over_in_sample(data.X, columns, k, _noise_draws(data, key, rng, NOISE_DRAWS), rng)
                for _ in range(PARTITIONS)
            ]
            c = np.cbrt(np.concatenate(ratios) - 1)
            spread.append([float(c.mean()), float(c.std(ddof=1))])
    return spread


def _lasso_refit_cv(X: np.ndarray, y: np.ndarray, level: float, rng: np.random.Generator) -> float:
    """5-fold cross-validated squared error of the lasso at `level` followed by least squares on its support."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso

    squared = 0.0
    for test in np.array_split(rng.permutation(len(y)), 5):
        train = np.setdiff1d(np.arange(len(y)), test)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            support = np.flatnonzero(Lasso(alpha=level, precompute=True).fit(X[train], y[train]).coef_).tolist()
        Z = _design(X, support)
        theta = np.linalg.lstsq(Z[train], y[train], rcond=None)[0]
        squared += float(np.sum((y[test] - Z[test] @ theta) ** 2))
    return squared / len(y)


def pessimism_spread(data: Problem1Data, key: dict, rng: np.random.Generator) -> list[float]:
    """[mean, sd] of log(estimate / residual variance) for the most pessimistic honest procedure (its stand-in:
    see PESSIMISTIC_LEVEL), cross-validated as a whole, over re-draws of y under the key's model."""
    n, p = data.X.shape
    level = PESSIMISTIC_LEVEL * np.sqrt(key["s2"] * 2 * np.log(p) / n)
    Z = _design(data.X, data.columns)
    logs = []
    for y in _noise_draws(data, key, rng, PESSIMISTIC_DRAWS).T:
        residual = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
        s2 = residual @ residual / (n - Z.shape[1])
        logs.append(np.log(_lasso_refit_cv(data.X, y, level, rng) / s2))
    return [float(np.mean(logs)), float(np.std(logs, ddof=1))]


def beta_key(data: Problem1Data) -> dict:
    """The truth, the data's Gram matrix (for the refit on S_hat) and the honest spread around that refit."""
    key = truth_key(data)
    return {**key, "gram": checks.Gram.of(data.X, data.y).to_key(), "beta_spread": beta_spread(data, key)}


def risk_key(data: Problem1Data, rng: np.random.Generator) -> dict:
    """The truth, the data's Gram matrix (for the in-sample error on S_hat) and where honest risk estimates lie."""
    key = truth_key(data)
    return {
        **key,
        "gram": checks.Gram.of(data.X, data.y).to_key(),
        "risk_lower": optimism_spread(data, key, rng),
        "risk_upper": pessimism_spread(data, key, rng),
    }


def _format_key(ctx: KeyContext) -> dict:
    return {"n_cols": 50}


def _probe(answers: dict, key: dict) -> dict:
    return probe_answers(**{k: v for k, v in answers.items() if k in ANSWERS})


def reference_paths(ctx: KeyContext):
    """The reference's 1.1 figure on this data file, for the feedback pages."""
    from autograder.data import problem1
    from reference.p1_lasso import lasso_path_figure

    return lasso_path_figure(*problem1.load_xy(ctx.data_dir / ctx.problem1_file)).figure


FIGURES = {"q1_1": reference_paths}  # question -> the reference's figure, beside the student's on the page

ANSWERS = ("S_hat", "beta_hat", "risk_hat")
MISCONCEPTIONS = p1_mistakes.MISCONCEPTIONS  # the known mistakes its failed checks are matched against

TRUTH = ("strong", "plausible", "beta", "se", "s2", "dof", "gram", "beta_spread", "risk_lower", "risk_upper")


def _p1(question: str, name: str, make_key, check, secret: tuple[str, ...] = (), params=None) -> Item:
    return Item(
        question, name, ANSWERS, make_key=make_key, probe=_probe, check=check, secret=secret, params=params or {}
    )


ITEMS = [
    Item(
        "q1_1",
        "path_plot",
        (),
        make_key=lambda ctx: {"min_curves": 50},
        probe=None,
        check=checks.check_path_plot,
        engine_only=True,
    ),
    _p1("q1_2_S", "support_format", _format_key, checks.check_support_format),
    _p1(
        "q1_2_S",
        "support_recovery",
        problem1_key,
        checks.check_support_recovery,
        TRUTH,
        {"per_error": Param(0.25, 0.0, 1.0, doc="share of the points each missed or extra column costs")},
    ),
    _p1("q1_2_beta", "beta_format", _format_key, checks.check_beta_format),
    _p1(
        "q1_2_beta",
        "beta_values",
        lambda ctx: beta_key(problem1_data(ctx)),
        checks.check_beta_values,
        TRUTH,
        {"alpha": Param(0.01, 1e-4, 0.2, doc="chance that an honest least-squares estimate is rejected")},
    ),
    _p1("q1_2_risk", "risk_format", _format_key, checks.check_risk_format),
    _p1(
        "q1_2_risk",
        "risk_band",
        lambda ctx: risk_key(problem1_data(ctx), ctx.rng),
        checks.check_risk_band,
        TRUTH,
        {"alpha": Param(0.01, 1e-4, 0.2, doc="chance that an honest out-of-sample risk estimate is rejected")},
    ),
]
