"""Problem 1 checks on generated look-alike data: the reference passes, planted faults fail as intended.

The data and its answer key are generated into a private copy of grading.yml's folder, so nothing
depends on the developer's data/. The truth the expectations rest on (which columns are strong, the
refit coefficients and their standard errors, the risk band) is rederived here from the answer-key
file with a QR least-squares fit, independently of the key builder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2
from sklearn.linear_model import Lasso, LinearRegression
from sklearn.model_selection import KFold, cross_val_predict

from autograder.data import problem1
from reference import p1_lasso as ref

from checking import expect, judge, private_bundle

PROJECT_ROOT = Path(__file__).resolve().parents[2]

ALL_P1 = (
    "q1_2_S.support_format",
    "q1_2_S.support_recovery",
    "q1_2_beta.beta_format",
    "q1_2_beta.beta_values",
    "q1_2_risk.risk_format",
    "q1_2_risk.risk_band",
)
HIDDEN = ("q1_2_S.support_recovery", "q1_2_beta.beta_values", "q1_2_risk.risk_band")


@dataclass(frozen=True)
class Truth:
    """What the checks should know, derived here: strong and weak columns, refit, noise variance."""

    X: np.ndarray
    y: np.ndarray
    support: list[int]
    strong: list[int]
    plausible: list[int]
    beta: dict[int, float]  # least-squares refit (with intercept) on the true support
    se: dict[int, float]
    s2: float
    dof: int


@dataclass(frozen=True)
class Setup:
    config: object
    bundle: dict
    truth: Truth
    strong_t: float


def derive_truth(config) -> tuple[Truth, float]:
    raw = json.loads(problem1.key_path(config).read_text(encoding="utf-8"))
    X, y = problem1.load_xy(problem1.data_path(config))
    support = sorted(raw["support"])
    Q, R = np.linalg.qr(np.column_stack([np.ones(len(y)), X[:, support]]))
    R_inv = np.linalg.inv(R)
    unit_se = np.sqrt(np.sum(R_inv**2, axis=1))[1:]  # sqrt(diag((Z'Z)^-1)) = row norms of R^-1
    coef = np.linalg.solve(R, Q.T @ y)[1:]
    dof = len(y) - len(support) - 1
    s2 = float(np.sum((y - Q @ (Q.T @ y)) ** 2) / dof)
    t_true = np.abs(np.array(raw["beta"])[support]) / (raw["sigma"] * unit_se)
    strong_t = config.data.problem1.strong_t
    strong = [j for j, t in zip(support, t_true) if t >= strong_t]
    truth = Truth(
        X=X,
        y=y,
        support=support,
        strong=strong,
        plausible=[j for j in support if j not in strong],
        beta=dict(zip(support, coef.tolist())),
        se=dict(zip(support, (np.sqrt(s2) * unit_se).tolist())),
        s2=s2,
        dof=dof,
    )
    return truth, strong_t


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> Setup:
    """Generated data, its key and all checks' settings, from a private grading.yml."""
    config, bundle = private_bundle(tmp_path_factory, "p1_checks")
    truth, strong_t = derive_truth(config)
    return Setup(config, bundle, truth, strong_t)


@pytest.fixture(scope="module")
def truth(setup) -> Truth:
    return setup.truth


@pytest.fixture(scope="module")
def run(setup):
    """run(check_id, **answers): probe the answers and judge them, as the engine does."""

    return lambda check_id, **answers: judge(setup.bundle, check_id, answers)


@pytest.fixture(scope="module")
def reference_answer(truth):
    return ref.solve(truth.X, truth.y)


@pytest.fixture(scope="module")
def band(setup, truth) -> tuple[float, float]:
    """The (1 - alpha) chi-square band of the residual variance, upper end widened by the allowance."""
    params = setup.bundle["configs"]["q1_2_risk.risk_band"]["params"]
    alpha, allowance = params["alpha"], params["selection_allowance"]
    return (
        truth.s2 * chi2.ppf(alpha / 2, truth.dof) / truth.dof,
        truth.s2 * chi2.ppf(1 - alpha / 2, truth.dof) / truth.dof * (1 + allowance),
    )


def leaks(message: str, truth: Truth, extra=()) -> list[str]:
    """Hidden facts in `message`: a true support index, or a refit coefficient, standard error or
    band edge to 3 decimals (as a number, or the start of a longer one)."""
    numbers = re.findall(r"\d+(?:\.\d+)?", message)
    found = [str(j) for j in truth.support if str(j) in numbers]
    for v in [*truth.beta.values(), *truth.se.values(), truth.s2, *extra]:
        found += [t for t in numbers if t.startswith(f"{abs(v):.3f}")]
    return found


def null_columns(truth: Truth, count: int) -> list[int]:
    return [j for j in range(truth.X.shape[1]) if j not in truth.support][:count]


# --- the data behind the expectations ------------------------------------------------------------


def test_generated_truth_has_strong_and_weak_signals(truth):
    """The planted faults below need at least two strong columns and one merely plausible one."""
    assert len(truth.strong) >= 2 and len(truth.plausible) >= 1


def test_key_agrees_with_an_independent_refit(setup, truth):
    key = setup.bundle["keys"]["q1_2_beta.beta_values"]
    assert sorted(key["strong"]) == truth.strong and sorted(key["plausible"]) == truth.plausible
    assert {int(j): b for j, b in key["beta"].items()} == pytest.approx(truth.beta, rel=1e-9)
    assert {int(j): s for j, s in key["se"].items()} == pytest.approx(truth.se, rel=1e-9)
    assert key["s2"] == pytest.approx(truth.s2, rel=1e-9) and key["dof"] == truth.dof


# --- the reference passes ------------------------------------------------------------------------


@pytest.mark.parametrize("check_id", ALL_P1)
def test_reference_passes_with_full_points(run, setup, truth, reference_answer, check_id):
    a = reference_answer
    result = run(check_id, S_hat=a.S_hat, beta_hat=a.beta_hat, risk_hat=a.risk_hat, X=truth.X)
    expect(result, "passed", setup.bundle["configs"][check_id]["points"])
    assert leaks(result.message, truth) == []


def test_leaving_out_the_weak_signal_is_fine(run, truth):
    beta = [truth.beta[j] for j in truth.strong]  # OLS on all true columns, reported for the strong ones
    expect(run("q1_2_S.support_recovery", S_hat=truth.strong, X=truth.X), "passed", 3.0, "no clear null")
    expect(run("q1_2_beta.beta_values", S_hat=truth.strong, beta_hat=beta), "passed", 2.0)


# --- S_hat ---------------------------------------------------------------------------------------


def test_duplicate_index_fails_the_format(run, truth):
    S = truth.support + truth.support[:1]
    expect(run("q1_2_S.support_format", S_hat=S), "failed", 0.0, "`S_hat` lists a column more than once")


def test_index_past_the_last_column_fails_the_format(run, truth):
    p = truth.X.shape[1]
    S = truth.support + [p]
    expect(
        run("q1_2_S.support_format", S_hat=S),
        "failed",
        0.0,
        f"0-based indices between 0 and {p - 1}",
        f"got {min(S)}..{p}",
    )


def test_empty_support_fails_both_checks(run, truth):
    expect(run("q1_2_S.support_format", S_hat=np.array([], dtype=int)), "failed", 0.0, "`S_hat` is empty")
    expect(run("q1_2_S.support_recovery", S_hat=[], X=truth.X), "failed", 0.0, "`S_hat` is missing or not a list")


def test_undefined_support_fails_the_format(run):
    expect(run("q1_2_S.support_format"), "failed", 0.0, "`S_hat` could not be read: not defined")


def test_missing_one_strong_signal_costs_one_error(run, setup, truth):
    S = [j for j in truth.support if j != truth.strong[0]]
    per_error = setup.bundle["configs"]["q1_2_S.support_recovery"]["params"]["per_error"]
    assert per_error == 0.25
    result = run("q1_2_S.support_recovery", S_hat=S, X=truth.X)
    expect(result, "failed", 0.75 * 3.0, "`S_hat` misses 1 strong signal.")
    assert leaks(result.message, truth) == []


def test_three_extra_null_columns_cost_three_errors(run, truth):
    result = run("q1_2_S.support_recovery", S_hat=truth.support + null_columns(truth, 3), X=truth.X)
    expect(result, "failed", (1 - 3 * 0.25) * 3.0, "`S_hat` includes 3 columns with no clear signal.")
    assert leaks(result.message, truth) == []


def test_one_based_indices_get_no_recovery_points(run, truth):
    S = [j + 1 for j in truth.support]
    missed = len(set(truth.strong) - set(S))
    extra = len(set(S) - set(truth.support))
    assert missed + extra >= 4  # the share floors at 0
    expect(run("q1_2_S.support_format", S_hat=S), "passed", 1.0)
    result = run("q1_2_S.support_recovery", S_hat=S, X=truth.X)
    expect(result, "failed", 0.0, f"misses {missed} strong signal", f"includes {extra} column")
    assert leaks(result.message, truth) == []


# --- beta_hat ------------------------------------------------------------------------------------


def test_beta_of_the_wrong_length_fails_format_and_values(run, truth):
    S, beta = truth.support, [truth.beta[j] for j in truth.support][:-1]
    expect(
        run("q1_2_beta.beta_format", S_hat=S, beta_hat=beta),
        "failed",
        0.0,
        f"one value per index of `S_hat` ({len(S)}) or 50 values; got shape ({len(S) - 1},)",
    )
    expect(run("q1_2_beta.beta_values", S_hat=S, beta_hat=beta), "failed", 0.0, "does not line up with `S_hat`")


def test_full_length_beta_with_zeros_off_the_support_passes(run, truth):
    full = np.zeros(truth.X.shape[1])
    full[truth.support] = [truth.beta[j] for j in truth.support]
    expect(run("q1_2_beta.beta_format", S_hat=truth.support, beta_hat=full), "passed", 1.0, "50 finite values")
    expect(run("q1_2_beta.beta_values", S_hat=truth.support, beta_hat=full), "passed", 2.0)


def test_beta_with_nan_fails_the_format(run, truth):
    beta = [truth.beta[j] for j in truth.support]
    beta[0] = float("nan")
    expect(run("q1_2_beta.beta_format", S_hat=truth.support, beta_hat=beta), "failed", 0.0, "NaN or infinite")


def test_shrunken_lasso_coefficients_get_partial_credit(run, truth):
    # At this level the lasso selects exactly the true support, and its shrinkage lies near 3 standard
    # errors: some strong coefficients are within z = 3 of the refit, others not.
    coef = Lasso(alpha=0.0765, tol=1e-10, max_iter=100_000).fit(truth.X, truth.y).coef_
    assert sorted(np.flatnonzero(coef)) == truth.support
    z_scores = {j: abs(coef[j] - truth.beta[j]) / truth.se[j] for j in truth.strong}
    assert all(abs(z - 3.0) > 0.02 for z in z_scores.values()), z_scores  # no borderline case
    good = sum(z <= 3.0 for z in z_scores.values())
    assert 0 < good < len(truth.strong)
    result = run("q1_2_beta.beta_values", S_hat=truth.support, beta_hat=coef[truth.support])
    expect(
        result,
        "failed",
        round(2.0 * good / len(truth.strong), 6),
        f"{len(truth.strong) - good} strong coefficient",
        "more than 3 standard errors from the least-squares estimate (shrunken lasso values?)",
    )
    assert leaks(result.message, truth) == []


# --- risk_hat ------------------------------------------------------------------------------------


def honest_cv_risk(truth: Truth, S) -> float:
    residuals = truth.y - cross_val_predict(
        LinearRegression(), truth.X[:, S], truth.y, cv=KFold(10, shuffle=True, random_state=0)
    )
    return float(np.mean(residuals**2))


def test_cross_validated_risk_passes(run, truth, band):
    value = honest_cv_risk(truth, truth.support)
    expect(run("q1_2_risk.risk_format", risk_hat=value), "passed", 0.5)
    expect(
        run("q1_2_risk.risk_band", risk_hat=value), "passed", 1.5, f"`risk_hat` = {value:.4g} is in the plausible range"
    )


def test_unsquared_mean_residual_fails_the_band(run, truth, band):
    residuals = truth.y - cross_val_predict(
        LinearRegression(), truth.X[:, truth.support], truth.y, cv=KFold(5, shuffle=True, random_state=0)
    )
    value = float(np.mean(residuals))
    assert 0 < value < band[0]  # positive here, so only the band can catch it
    expect(run("q1_2_risk.risk_format", risk_hat=value), "passed", 0.5)
    result = run("q1_2_risk.risk_band", risk_hat=value)
    expect(result, "failed", 0.0, "is below what any honest estimate", "unsquared mean residual")
    assert leaks(result.message, truth, extra=band) == []


def test_in_sample_error_of_ols_on_all_columns_fails_the_band(run, truth, band):
    fit = LinearRegression().fit(truth.X, truth.y)
    value = float(np.mean((truth.y - fit.predict(truth.X)) ** 2))  # about sigma^2 (n - 51) / n
    assert value < band[0]
    result = run("q1_2_risk.risk_band", risk_hat=value)
    expect(result, "failed", 0.0, f"`risk_hat` = {value:.4g} is below", "in-sample error of an over-fitted model")
    assert leaks(result.message, truth, extra=band) == []


def test_variance_of_y_fails_the_band_from_above(run, truth, band):
    value = float(np.var(truth.y))  # the risk of predicting the mean: no model at all
    assert value > band[1]
    result = run("q1_2_risk.risk_band", risk_hat=value)
    expect(result, "failed", 0.0, f"`risk_hat` = {value:.4g} is far above")
    assert leaks(result.message, truth, extra=band) == []


def test_negative_risk_from_neg_mean_squared_error_fails_the_format(run, truth):
    value = -honest_cv_risk(truth, truth.support)
    expect(
        run("q1_2_risk.risk_format", risk_hat=value), "failed", 0.0, "`risk_hat` should be positive", f"got {value:.4g}"
    )
    expect(run("q1_2_risk.risk_band", risk_hat=value), "failed", 0.0, "is below")


def test_nan_risk_fails_format_and_band(run):
    expect(run("q1_2_risk.risk_format", risk_hat=float("nan")), "failed", 0.0, "`risk_hat` should be finite; got nan")
    expect(run("q1_2_risk.risk_band", risk_hat=float("nan")), "failed", 0.0, "`risk_hat` is not a finite number")


def test_risk_as_text_fails_the_format(run):
    expect(run("q1_2_risk.risk_format", risk_hat="about 0.1"), "failed", 0.0, "should be a number; got 'about 0.1'")


# --- hidden checks keep their keys hidden --------------------------------------------------------


@pytest.mark.parametrize("check_id", HIDDEN)
def test_results_of_hidden_checks_are_marked_hidden(run, setup, truth, check_id):
    assert setup.bundle["configs"][check_id]["hidden"] is True
    beta = [truth.beta[j] for j in truth.support]
    assert run(check_id, S_hat=truth.support, beta_hat=beta, risk_hat=truth.s2, X=truth.X).hidden is True
