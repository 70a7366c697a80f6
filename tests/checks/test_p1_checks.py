"""Problem 1 checks on generated look-alike data: the reference passes, planted faults fail as intended.

The data and its answer key are generated into a private copy of grading.yml's folder, so nothing
depends on the developer's data/. The truth the expectations rest on (which columns are strong, the
refit coefficients and their standard errors) is rederived here from the answer-key file with a QR
least-squares fit, independently of the key builder; refits on a student's support come from
scikit-learn; and the tolerances the keys carry are held to direct simulations under the file's true
model (docs/p1-tolerances.md has the full-size measurement).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import Lasso, LassoCV, LinearRegression
from sklearn.model_selection import KFold, cross_val_predict

from autograder.data import problem1
from autograder.keys import key_context
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
    true_beta: np.ndarray  # the model the data was drawn from
    sigma: float


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
        true_beta=np.array(raw["beta"]),
        sigma=raw["sigma"],
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


def alpha_of(setup, check_id: str) -> float:
    return setup.bundle["configs"][check_id]["params"]["alpha"]


def refit(truth: Truth, S, intercept: bool = True) -> np.ndarray:
    """scikit-learn's least-squares slopes on the columns S."""
    return LinearRegression(fit_intercept=intercept).fit(truth.X[:, list(S)], truth.y).coef_


def in_sample_error(truth: Truth, S) -> float:
    fit = LinearRegression().fit(truth.X[:, list(S)], truth.y)
    return float(np.mean((truth.y - fit.predict(truth.X[:, list(S)])) ** 2))


def lasso_cv(truth: Truth) -> LassoCV:
    return LassoCV(cv=5, random_state=0).fit(truth.X, truth.y)


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


def test_key_refits_any_support_as_least_squares_does(setup, truth, reference_answer):
    """The checks refit the student's own support from the key's Gram matrix; it must be plain least squares."""
    from autograder.checks.p1_lasso import Gram

    gram = Gram.from_key(setup.bundle["keys"]["q1_2_beta.beta_values"]["gram"])
    for S in (list(reference_answer.S_hat), truth.strong, list(range(0, 50, 5)), list(range(50))):
        coef, rss = gram.refit(S)
        fit = LinearRegression().fit(truth.X[:, S], truth.y)
        assert [coef[j] for j in S] == pytest.approx(fit.coef_, rel=1e-8, abs=1e-10)
        assert rss == pytest.approx(np.sum((truth.y - fit.predict(truth.X[:, S])) ** 2), rel=1e-8)


def test_risk_key_is_deterministic_and_built_in_seconds(setup):
    """The band's simulation runs when every grading batch starts: seeded by the key's seed, and quick."""
    from autograder.suite.p1_lasso import problem1_data, risk_key

    ctx = key_context(setup.config, "q1_2_risk.risk_band")
    start = time.perf_counter()
    first = risk_key(problem1_data(ctx), ctx.rng)
    seconds = time.perf_counter() - start
    again = key_context(setup.config, "q1_2_risk.risk_band")
    assert risk_key(problem1_data(again), again.rng) == first
    assert first["risk_lower"] == setup.bundle["keys"]["q1_2_risk.risk_band"]["risk_lower"]
    assert seconds < 15, f"the risk key took {seconds:.1f} s"


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


def distances(truth: Truth, S, beta) -> dict[int, float]:
    """How far each strong coefficient of beta (in S's order) lies from scikit-learn's refit on S, in the
    standard errors of the refit on the true support."""
    own = dict(zip(S, refit(truth, S)))
    given = dict(zip(S, beta))
    return {j: abs(given[j] - own[j]) / truth.se[j] for j in truth.strong if j in given}


@pytest.fixture(scope="module")
def tolerance(setup) -> float:
    """Standard errors an estimate may lie from the refit on its own support, at grading.yml's alpha."""
    from autograder.checks.p1_lasso import beta_tolerance

    key = setup.bundle["keys"]["q1_2_beta.beta_values"]
    return beta_tolerance(key["beta_spread"], alpha_of(setup, "q1_2_beta.beta_values"), len(key["strong"]))


def test_beta_tolerance_covers_the_honest_spread_of_a_direct_simulation(setup, truth, tolerance):
    """Under the file's true model, honest estimates of the strong coefficients (the refit on every true column
    reported for the strong ones; refits without intercept) stray past the tolerance from the refit on their
    own support in about alpha of re-draws at most, and the tolerance is not much wider than they need."""
    rng = np.random.default_rng(2022)
    X, S, K = truth.X, truth.strong, truth.support
    Y = (X @ truth.true_beta)[:, None] + truth.sigma * rng.standard_normal((len(truth.y), 4000))

    def slopes(columns, intercept=True):
        Z = np.column_stack([np.ones(len(X)), X[:, columns]]) if intercept else X[:, columns]
        coef = np.linalg.lstsq(Z, Y, rcond=None)[0][1:] if intercept else np.linalg.lstsq(Z, Y, rcond=None)[0]
        return coef[[columns.index(j) for j in S]]

    se = np.array([truth.se[j] for j in S])[:, None]
    worst = np.max(
        [
            np.max(np.abs(slopes(K) - slopes(S)) / se, axis=0),
            np.max(np.abs(slopes(K, False) - slopes(K)) / se, axis=0),
            np.max(np.abs(slopes(S, False) - slopes(S)) / se, axis=0),
        ],
        axis=0,
    )
    alpha = alpha_of(setup, "q1_2_beta.beta_values")
    assert np.mean(worst > tolerance) <= 2 * alpha
    assert tolerance <= 1.5 * np.quantile(worst, 1 - alpha)


def test_refit_on_own_support_passes_whatever_the_support(run, truth):
    """Least squares on S_hat is honest however S_hat was chosen: LassoCV's noisy support, or the strong ones."""
    for S in (np.flatnonzero(lasso_cv(truth).coef_).tolist(), truth.strong):
        expect(run("q1_2_beta.beta_values", S_hat=S, beta_hat=refit(truth, S)), "passed", 2.0)


def test_refit_without_intercept_passes(run, truth):
    """The assignment's model has no intercept, so least squares without one is as honest."""
    S = truth.support
    expect(run("q1_2_beta.beta_values", S_hat=S, beta_hat=refit(truth, S, intercept=False)), "passed", 2.0)


def test_shrunken_lasso_coefficients_fail(run, truth):
    # At this level the lasso selects exactly the true support and shrinks every strong coefficient by more than
    # 2 standard errors, far beyond the honest spread around the refit on that support (tested above).
    coef = Lasso(alpha=0.0765, tol=1e-10, max_iter=100_000).fit(truth.X, truth.y).coef_
    assert sorted(np.flatnonzero(coef)) == truth.support
    assert min(distances(truth, truth.support, coef[truth.support]).values()) > 2
    result = run("q1_2_beta.beta_values", S_hat=truth.support, beta_hat=coef[truth.support])
    expect(
        result,
        "failed",
        0.0,
        f"{len(truth.strong)} strong coefficients of `S_hat` are not within",
        "of the least-squares refit on `S_hat` (shrunken lasso values?)",
    )
    assert leaks(result.message, truth) == []


def test_lassocv_coefficients_as_estimates_fail(run, truth):
    """The common mistake: LassoCV's own coefficients reported on its support, shrunk by 1.5 standard errors
    or more here, where an honest refit on that support lies within a fraction of one."""
    fit = lasso_cv(truth)
    S = np.flatnonzero(fit.coef_).tolist()
    assert min(distances(truth, S, fit.coef_[S]).values()) > 1.5
    expect(run("q1_2_beta.beta_values", S_hat=S, beta_hat=fit.coef_[S]), "failed", 0.0, "(shrunken lasso values?)")


def test_the_tolerance_is_well_inside_the_lasso_shrinkage(tolerance):
    assert tolerance < 0.75


def test_one_coefficient_off_by_twice_the_tolerance_costs_its_share(run, truth, tolerance):
    S = truth.support
    beta = refit(truth, S)
    beta[S.index(truth.strong[0])] += 2 * tolerance * truth.se[truth.strong[0]]
    share = 1 - 1 / len(truth.strong)
    expect(
        run("q1_2_beta.beta_values", S_hat=S, beta_hat=beta), "failed", round(2.0 * share, 6), "1 strong coefficient"
    )
    beta[S.index(truth.strong[0])] -= 1.5 * tolerance * truth.se[truth.strong[0]]  # now half the tolerance off
    expect(run("q1_2_beta.beta_values", S_hat=S, beta_hat=beta), "passed", 2.0)


# --- risk_hat ------------------------------------------------------------------------------------


def honest_cv_risk(truth: Truth, S) -> float:
    residuals = truth.y - cross_val_predict(
        LinearRegression(), truth.X[:, S], truth.y, cv=KFold(10, shuffle=True, random_state=0)
    )
    return float(np.mean(residuals**2))


def select_and_refit_cv_risk(truth: Truth, select, k: int = 5) -> float:
    """K-fold cross-validated squared error of the whole procedure: `select` runs again inside every fold."""
    squared = np.zeros(len(truth.y))
    for train, test in KFold(k, shuffle=True, random_state=0).split(truth.X):
        S = select(truth.X[train], truth.y[train])
        fit = LinearRegression().fit(truth.X[np.ix_(train, S)], truth.y[train])
        squared[test] = (truth.y[test] - fit.predict(truth.X[np.ix_(test, S)])) ** 2
    return float(squared.mean())


def lassocv_support(X: np.ndarray, y: np.ndarray) -> list[int]:
    return np.flatnonzero(LassoCV(cv=5, random_state=0).fit(X, y).coef_).tolist()


@pytest.fixture(scope="module")
def risk_factor(setup) -> float:
    """How far above the in-sample error of the same fit the band's lower edge lies, at grading.yml's alpha."""
    from autograder.checks.p1_lasso import lower_factor

    key = setup.bundle["keys"]["q1_2_risk.risk_band"]
    return lower_factor(key["risk_lower"], alpha_of(setup, "q1_2_risk.risk_band"))


def test_cross_validated_risk_passes(run, truth):
    value = honest_cv_risk(truth, truth.support)
    expect(run("q1_2_risk.risk_format", risk_hat=value), "passed", 0.5)
    expect(
        run("q1_2_risk.risk_band", risk_hat=value), "passed", 1.5, f"`risk_hat` = {value:.4g} is in the plausible range"
    )


def test_cross_validation_of_lassocv_then_refit_as_a_whole_passes(run, truth):
    """The seed student's procedure, cross-validated honestly: LassoCV and the refit redone in every fold."""
    S = lassocv_support(truth.X, truth.y)
    value = select_and_refit_cv_risk(truth, lassocv_support)
    expect(run("q1_2_risk.risk_band", S_hat=S, beta_hat=refit(truth, S), risk_hat=value), "passed", 1.5)


def test_lower_edge_admits_honest_cross_validation_of_a_fixed_fit_in_a_direct_simulation(setup, truth, risk_factor):
    """3-fold CV of least squares on the strong columns, the most optimistic honest estimate (no selection, small
    folds, a missed weak signal), under the file's true model: below the band's lower edge in about alpha/2 of
    re-draws at most; the in-sample error itself (ratio exactly 1) is always below it."""
    rng = np.random.default_rng(2023)
    X, S = truth.X, truth.strong
    ratios = []
    for seed in range(600):
        y = X @ truth.true_beta + truth.sigma * rng.standard_normal(len(truth.y))
        cv = cross_val_predict(LinearRegression(), X[:, S], y, cv=KFold(3, shuffle=True, random_state=seed))
        in_sample = LinearRegression().fit(X[:, S], y).predict(X[:, S])
        ratios.append(np.sum((y - cv) ** 2) / np.sum((y - in_sample) ** 2))
    assert min(ratios) > 1  # cross-validating a fixed least-squares fit never beats its in-sample error
    assert np.mean(np.array(ratios) < risk_factor) <= alpha_of(setup, "q1_2_risk.risk_band")
    assert risk_factor > 1.005


@pytest.mark.parametrize("columns", ["reference", "true support", "LassoCV support"])
def test_in_sample_error_of_the_selected_model_fails_the_band(run, truth, reference_answer, columns):
    """The commonest real mistake: the training MSE of the refit on S_hat reported as the predictive risk."""
    S = {
        "reference": list(reference_answer.S_hat),
        "true support": truth.support,
        "LassoCV support": lassocv_support(truth.X, truth.y),
    }[columns]
    value = in_sample_error(truth, S)
    result = run("q1_2_risk.risk_band", S_hat=S, beta_hat=refit(truth, S), risk_hat=value)
    expect(
        result,
        "failed",
        0.0,
        f"`risk_hat` = {value:.4g} is below what any honest estimate",
        "times the in-sample error of the least-squares fit on `S_hat`",
        "a training error",
    )
    assert leaks(result.message, truth) == []


def test_the_band_states_its_lower_factor(run, truth, risk_factor):
    value = in_sample_error(truth, truth.support)
    result = run("q1_2_risk.risk_band", S_hat=truth.support, risk_hat=value)
    assert f"less than {risk_factor:.3g} times the in-sample error" in result.message


def test_unsquared_mean_residual_fails_the_band(run, truth):
    residuals = truth.y - cross_val_predict(
        LinearRegression(), truth.X[:, truth.support], truth.y, cv=KFold(5, shuffle=True, random_state=0)
    )
    value = float(np.mean(residuals))
    assert value > 0  # positive here, so only the band can catch it
    expect(run("q1_2_risk.risk_format", risk_hat=value), "passed", 0.5)
    result = run("q1_2_risk.risk_band", risk_hat=value)
    expect(result, "failed", 0.0, "is below what any honest estimate", "unsquared mean residual")
    assert leaks(result.message, truth) == []


@pytest.mark.parametrize("with_support", [True, False])
def test_in_sample_error_of_ols_on_all_columns_fails_the_band(run, truth, reference_answer, with_support):
    """Judged against the fit on S_hat, or on the true columns when there is no S_hat to read."""
    fit = LinearRegression().fit(truth.X, truth.y)
    value = float(np.mean((truth.y - fit.predict(truth.X)) ** 2))  # about sigma^2 (n - 51) / n
    S = {"S_hat": reference_answer.S_hat} if with_support else {}
    result = run("q1_2_risk.risk_band", risk_hat=value, **S)
    model = "`S_hat`" if with_support else "the true columns"
    expect(
        result,
        "failed",
        0.0,
        f"`risk_hat` = {value:.4g} is below",
        f"in-sample error of the least-squares fit on {model}",
    )
    assert leaks(result.message, truth) == []


def test_variance_of_y_fails_the_band_from_above(run, truth):
    value = float(np.var(truth.y))  # the risk of predicting the mean: no model at all
    result = run("q1_2_risk.risk_band", risk_hat=value)
    expect(result, "failed", 0.0, f"`risk_hat` = {value:.4g} is far above", "times the noise variance")
    assert leaks(result.message, truth) == []


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
