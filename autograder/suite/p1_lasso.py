"""Problem 1 items: S_hat, beta_hat and risk_hat against a key built from the data and its truth.

On generated data the truth is in the answer key: strong signals are true coefficients whose
least-squares t-statistic reaches `strong_t`, the other true ones are plausible. On the course's
real file the split comes from grading.yml (`data.problem1.course_key`).
"""

from __future__ import annotations

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


def problem1_key(ctx: KeyContext) -> dict:
    """Strong and plausible columns, refit coefficients with standard errors, and the noise variance."""
    from autograder.data import problem1
    from autograder.data.checksum import sha256_file
    from autograder.errors import DataError

    path = ctx.data_dir / ctx.problem1_file
    X, y = problem1.load_xy(path)
    digest = sha256_file(path)
    if digest == ctx.course_sha256:
        strong, plausible = list(ctx.course_key["strong"]), list(ctx.course_key["plausible"])
    else:
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
        plausible = [j for j in support if j not in strong]
    columns = sorted(strong + plausible)
    coef, se, s2, dof = _ols(X, y, columns)
    return {
        "n_cols": int(X.shape[1]),
        "strong": strong,
        "plausible": plausible,
        "beta": {str(j): float(b) for j, b in zip(columns, coef)},
        "se": {str(j): float(s) for j, s in zip(columns, se)},
        "s2": s2,
        "dof": dof,
    }


def problem1_risk_key(ctx: KeyContext) -> dict:
    """The truth, and the data's moments: the risk's known mistakes are recomputed from them."""
    from autograder.data import problem1

    return {**problem1_key(ctx), "moments": p1_mistakes.moments(*problem1.load_xy(ctx.data_dir / ctx.problem1_file))}


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

TRUTH = ("strong", "plausible", "beta", "se", "s2", "dof")


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
        problem1_key,
        checks.check_beta_values,
        TRUTH,
        {"z": Param(3.0, 0.1, 20.0, doc="standard errors an estimate may lie from the refit")},
    ),
    _p1("q1_2_risk", "risk_format", _format_key, checks.check_risk_format),
    _p1(
        "q1_2_risk",
        "risk_band",
        problem1_risk_key,
        checks.check_risk_band,
        (*TRUTH, "moments"),
        {
            "alpha": Param(0.01, 1e-6, 0.5, doc="significance level of the sampling band"),
            "selection_allowance": Param(0.5, 0.0, 10.0, doc="widening of the band's upper end for model selection"),
        },
    ),
]
