"""Problem 3 checks: the reference passes, planted single faults fail the intended check with its message.

Answers go through the item's probe and check with the settings of a private copy of grading.yml.
Expected numbers (eigenvalues, counts of wrong inputs) are computed here from the key's inputs.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from autograder.probes import p3_mercer as probes
from autograder.probes.simulation import risk_curve
from reference import p3_mercer as ref

from checking import (
    alpha_cholesky,
    alpha_eigh,
    alpha_lstsq,
    alpha_normal_equations,
    alpha_pinv,
    expect,
    gram_matrix_kernel,
    judge,
    max_points,
    private_bundle,
    regress_of_difference,
    regress_of_gram_matrix,
    shown_at_3_decimals,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]

ALL_P3 = (
    "q3_1.alpha_stationary",
    "q3_1.alpha_objective",
    "q3_2.regress_shape",
    "q3_2.regress_limits",
    "q3_2.regress_values",
    "q3_2_kernels.kernels_valid",
    "q3_3.lambdas_chosen",
    "q3_3.lambda_risk",
)
REGRESS = ("q3_2.regress_shape", "q3_2.regress_limits", "q3_2.regress_values")
REFERENCE = {
    "alpha_hat": ref.alpha_hat,
    "mercer_kernel_regress": ref.mercer_kernel_regress,
    "kernel1": ref.kernel1,
    "kernel2": ref.kernel2,
    "lambda_hat_1": 0.01,  # near the simulated optimum of each reference kernel
    "lambda_hat_2": 0.1,
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> dict:
    return private_bundle(tmp_path_factory, "p3_checks")[1]


@pytest.fixture(scope="module")
def run(bundle):
    """run(check_id, **answers): probe the answers and judge them, as the engine does."""
    return lambda check_id, **answers: judge(bundle, check_id, answers)


# Student-style answers.


def gram_by_loops(kernel, A, B):
    return np.array([[kernel(a, b) for b in B] for a in A], dtype=float)


def regress_with(solve_alpha):
    """A regression function written the starter's way around a given alpha solver."""

    def mercer_kernel_regress(kernel, X, y, x, lmbda):
        K = np.column_stack([kernel(X, xj) for xj in X])
        k = np.column_stack([kernel(x, xj) for xj in X])
        return k @ solve_alpha(K, y, lmbda)

    return mercer_kernel_regress


def alpha_inverse(K, Y, lmbda):
    return np.linalg.inv(K + lmbda * np.eye(len(K))) @ Y


def alpha_without_identity(K, Y, lmbda):
    return np.linalg.solve(K + lmbda, Y)  # adds lmbda to every entry, not to the diagonal


def alpha_without_penalty(K, Y, lmbda):
    return np.linalg.solve(K, Y)


def alpha_normal_equations_by_eigh(K, Y, lmbda):
    """The un-cancelled normal equations solved through their eigenvalues: 0 / 0 on a zero K."""
    w, V = np.linalg.eigh(K.T @ K + lmbda * K)
    with np.errstate(divide="ignore", invalid="ignore"):
        return V @ ((V.T @ (K.T @ Y)) / w)


VALID_ALPHA = {
    "solve": ref.alpha_hat,
    "inv": alpha_inverse,
    "pinv": alpha_pinv,
    "lstsq": alpha_lstsq,
    "cholesky": alpha_cholesky,
    "eigh": alpha_eigh,
}


def scalar_gaussian(x, y):
    return math.exp(-((x - y) ** 2) / 2)


def regress_by_scalar_loops(kernel, X, y, x, lmbda):
    K = np.array([[kernel(a, b) for b in X] for a in X])
    k = np.array([[kernel(a, b) for b in X] for a in x])
    return k @ np.linalg.solve(K + lmbda * np.eye(len(X)), y)


def row_filling_gaussian(h):
    """A Gram-matrix kernel filled row by row: it needs 1-D arrays and returns len(A) x len(B)."""

    def k(A, B):
        K = np.empty((len(A), len(B)))
        for i, a in enumerate(A):
            K[i] = np.exp(-((a - B) ** 2) / (2 * h**2))
        return K

    return k


def singular_labels(key: dict) -> list[str]:
    """Labels of the inputs with an exactly singular K on which every alpha_hat that solves a system in
    K alone (or in K'K + lambda K) must raise on any machine: the zero K and the K of ones, each lambda."""
    labels = [c["label"] for c in key["cases"] if c["label"].startswith(("a zero K", "a K of ones"))]
    assert len(labels) == 4, [c["label"] for c in key["cases"]]
    return labels


# --- the reference and valid alternatives pass -------------------------------------------------


@pytest.mark.parametrize("check_id", ALL_P3)
def test_reference_passes_with_full_points(run, bundle, check_id):
    result = run(check_id, **REFERENCE)
    expect(result, "passed", max_points(bundle, check_id))
    assert result.check_id == check_id and result.max_points == max_points(bundle, check_id)


@pytest.mark.parametrize("check_id", ["q3_1.alpha_stationary", "q3_1.alpha_objective"])
def test_alpha_by_explicit_inverse_passes(run, bundle, check_id):
    """Three real solutions use np.linalg.inv(K + lmbda I) @ Y: identical at these sizes."""
    expect(run(check_id, alpha_hat=alpha_inverse), "passed", max_points(bundle, check_id))


@pytest.mark.parametrize("check_id", ["q3_1.alpha_stationary", "q3_1.alpha_objective"])
@pytest.mark.parametrize("solver", VALID_ALPHA, ids=str)
def test_alpha_by_any_solver_of_the_shifted_system_passes(run, bundle, check_id, solver):
    """Solving (K + lambda I) a = Y any way reaches the minimum, on exactly singular K too."""
    expect(run(check_id, alpha_hat=VALID_ALPHA[solver]), "passed", max_points(bundle, check_id))


@pytest.mark.parametrize("check_id", REGRESS)
def test_regression_by_inverse_and_the_misspelled_name_passes(run, bundle, check_id):
    """The assignment itself spells the name `mercere_kernel_regress` in one place."""
    result = run(check_id, mercere_kernel_regress=regress_with(alpha_inverse))
    expect(result, "passed", max_points(bundle, check_id))


def test_alpha_returned_as_a_column_is_accepted(run, bundle):
    result = run("q3_1.alpha_objective", alpha_hat=lambda K, Y, l: ref.alpha_hat(K, Y, l).reshape(-1, 1))
    expect(result, "passed", 1.0, "singular included")


# --- 3.1: alpha_hat ------------------------------------------------------------------------------


def test_alpha_without_the_identity_is_not_a_minimizer(run, bundle):
    result = run("q3_1.alpha_stationary", alpha_hat=alpha_without_identity)
    expect(result, "failed", 0.0, "`alpha_hat` is not a minimizer", "gradient there has relative size", "rtol=1e-08")
    result = run("q3_1.alpha_objective", alpha_hat=alpha_without_identity)
    expect(
        result, "failed", 0.0, "`alpha_hat` does not minimize the objective for", "a well-conditioned K with lambda=1"
    )


def test_alpha_without_penalty_is_not_a_minimizer(run, bundle):
    # At a = K^-1 Y the gradient 2 K[(K + lambda I) a - Y] is 2 lambda K K^-1 Y = 2 lambda Y, not 0.
    key = bundle["keys"]["q3_1.alpha_stationary"]
    worst = max(
        np.linalg.norm(2 * c["lmbda"] * np.array(c["Y"])) / (2 * np.linalg.norm(c["K"], 2) * np.linalg.norm(c["Y"]))
        for c in key["cases"]
    )
    result = run("q3_1.alpha_stationary", alpha_hat=alpha_without_penalty)
    expect(result, "failed", 0.0, "relative size")
    shown = float(re.search(r"relative size (\S+) \(", result.message).group(1))
    assert shown == pytest.approx(worst, rel=0.05)  # shown to 2 digits
    # Only inputs it fails on any machine: it raises on the exactly singular ones, and on a well-conditioned
    # K with lambda=1 its objective is above the minimum by a relative 1e-2 or more, far outside rtol.
    labels = singular_labels(bundle["keys"]["q3_1.alpha_objective"])
    result = run("q3_1.alpha_objective", alpha_hat=alpha_without_penalty)
    expect(result, "failed", 0.0, "a well-conditioned K with lambda=1", *labels)


def test_normal_equations_fail_only_where_k_is_exactly_singular(run, bundle):
    """(K'K + lambda K)^-1 K'Y equals the answer while K is invertible and raises where it is singular."""
    key = bundle["keys"]["q3_1.alpha_objective"]
    labels = singular_labels(key)
    expect(run("q3_1.alpha_stationary", alpha_hat=alpha_normal_equations), "passed", 1.0)
    result = run("q3_1.alpha_objective", alpha_hat=alpha_normal_equations)
    expect(
        result,
        "failed",
        0.0,
        *labels,
        f"on {labels[0]} it raised LinAlgError",
        "the closed form must hold for singular K too",
    )
    invertible = [c["label"] for c in key["cases"] if not c["singular"]]
    assert not [label for label in invertible if label in result.message]


def test_non_finite_alpha_on_a_singular_k_is_named(run, bundle):
    labels = [c["label"] for c in bundle["keys"]["q3_1.alpha_objective"]["cases"] if c["label"].startswith("a zero K")]
    result = run("q3_1.alpha_objective", alpha_hat=alpha_normal_equations_by_eigh)
    expect(
        result,
        "failed",
        0.0,
        *labels,
        f"on {labels[0]} it returned non-finite values",
        "the closed form must hold for singular K too",
    )


def test_singular_inputs_are_exactly_singular_as_stored_and_the_others_far_from_it(bundle):
    """Verdicts on these inputs cannot depend on the machine's rounding: a singular K has two equal rows
    (so LU meets an exact zero pivot), an invertible one is conditioned far from double precision's limit."""
    cases = bundle["keys"]["q3_1.alpha_objective"]["cases"]
    kinds = {c["label"].split(" with ")[0] for c in cases if c["singular"]}
    assert kinds == {"a zero K", "a K of ones", "a Gram matrix of duplicated points"}
    for case in cases:
        K = np.array(case["K"])
        assert case["lmbda"] > 0 and np.array_equal(K, K.T)
        if case["singular"]:
            equal_rows = [(i, j) for i in range(len(K)) for j in range(i) if np.array_equal(K[i], K[j])]
            assert equal_rows, case["label"]
        else:
            assert np.linalg.cond(K) < 1e8, case["label"]


def test_alpha_stub_is_reported(run, bundle):
    def alpha_hat(K, Y, lmbda):
        raise NotImplementedError("fill in")

    result = run("q3_1.alpha_stationary", alpha_hat=alpha_hat)
    expect(result, "failed", 0.0, "`alpha_hat` raised on input 1: NotImplementedError: fill in")


def test_alpha_of_the_wrong_length_is_reported(run, bundle):
    result = run("q3_1.alpha_objective", alpha_hat=lambda K, Y, l: ref.alpha_hat(K, Y, l)[:-1])
    expect(result, "failed", 0.0, "`alpha_hat` should return 12 coefficients; got shape (11,)")


# --- 3.2: the regression function ----------------------------------------------------------------


def test_column_output_fails_the_shape_check_naming_the_shape(run, bundle):
    m = len(bundle["keys"]["q3_2.regress_shape"]["cases"][0]["x"])

    def column(kernel, X, y, x, lmbda):
        return ref.mercer_kernel_regress(kernel, X, y, x, lmbda).reshape(-1, 1)

    expect(
        run("q3_2.regress_shape", mercer_kernel_regress=column),
        "failed",
        0.0,
        f"should return shape ({m},) for {m} evaluation points; got ({m}, 1)",
    )
    expect(
        run("q3_2.regress_values", mercer_kernel_regress=column),
        "failed",
        0.0,
        "is wrong for 9 / 9 inputs",
        f"shape ({m}, 1)",
    )


def test_regression_with_a_fixed_lambda_fails_limits_and_values(run, bundle):
    def fixed(kernel, X, y, x, lmbda):
        return ref.mercer_kernel_regress(kernel, X, y, x, 1.0)

    cases = bundle["keys"]["q3_2.regress_values"]["cases"]
    wrong = sum(c["lmbda"] != 1.0 for c in cases)  # right by accident where lambda is 1
    expect(run("q3_2.regress_shape", mercer_kernel_regress=fixed), "passed", 1.0)
    expect(
        run("q3_2.regress_limits", mercer_kernel_regress=fixed),
        "failed",
        0.0,
        "with lambda=1e-10 the fit at the data points should reproduce y",
    )
    expect(
        run("q3_2.regress_values", mercer_kernel_regress=fixed),
        "failed",
        0.0,
        f"is wrong for {wrong} / {len(cases)} inputs",
    )


def test_regression_without_penalty_does_not_shrink(run, bundle):
    result = run("q3_2.regress_limits", mercer_kernel_regress=regress_with(alpha_without_penalty))
    expect(result, "failed", 0.0, "with lambda=1e+08 the fit should shrink towards 0")


def test_regression_without_the_identity_fails_values(run, bundle):
    result = run("q3_2.regress_values", mercer_kernel_regress=regress_with(alpha_without_identity))
    expect(result, "failed", 0.0, "`mercer_kernel_regress` is wrong for", "entries differ")


# --- 3.2: the kernels ----------------------------------------------------------------------------


def test_asymmetric_kernel_is_named(run, bundle):
    result = run("q3_2_kernels.kernels_valid", kernel1=ref.kernel1, kernel2=lambda x, y: np.exp(-((x - 2 * y) ** 2)))
    expect(result, "failed", 0.0, "`kernel2` is not symmetric")


@pytest.mark.parametrize(
    "kernel",
    [lambda x, y: -np.abs(x - y), lambda x, y: np.sin(x + y)],
    ids=["minus-abs-difference", "sin-of-sum"],
)
def test_symmetric_kernel_that_is_not_psd_reports_its_eigenvalue(run, bundle, kernel):
    points = np.array(bundle["keys"]["q3_2_kernels.kernels_valid"]["points"])
    smallest = np.linalg.eigvalsh(kernel(points[:, None], points[None, :])).min()
    assert smallest < -1e-3
    result = run("q3_2_kernels.kernels_valid", kernel1=kernel, kernel2=ref.kernel2)
    expect(result, "failed", 0.0, "`kernel1` is not positive semi-definite", f"eigenvalue {smallest:.2g}")


def test_the_same_kernel_twice_fails(run, bundle):
    result = run("q3_2_kernels.kernels_valid", kernel1=ref.kernel1, kernel2=ref.gaussian_kernel(0.5))
    expect(result, "failed", 0.0, "are the same kernel")


@pytest.mark.parametrize(
    "kernel1",
    [scalar_gaussian, lambda A, B: np.exp(-(np.subtract.outer(A, B) ** 2)), lambda x, y: (1 + x * y) ** 2],
    ids=["scalars-with-math-exp", "outer-difference", "polynomial"],
)
def test_other_calling_conventions_and_kernels_pass(run, bundle, kernel1):
    result = run("q3_2_kernels.kernels_valid", kernel1=kernel1, kernel2=ref.kernel2)
    expect(result, "passed", 2.0, "symmetric, positive semi-definite and different")


def test_kernel_that_raises_is_reported(run, bundle):
    def kernel2(x, y):
        raise NotImplementedError

    result = run("q3_2_kernels.kernels_valid", kernel1=ref.kernel1, kernel2=kernel2)
    expect(result, "failed", 0.0, "`kernel2` could not be evaluated: no calling convention worked")


def test_kernel_of_the_difference_passes(run, bundle):
    result = run("q3_2_kernels.kernels_valid", kernel1=lambda d: np.exp(-(d**2) / 2), kernel2=ref.kernel2)
    expect(result, "passed", 2.0)


DIFFERENCE_KERNELS = {"kernel1": lambda d: np.exp(-(d**2) / 2), "kernel2": lambda d: np.exp(-np.abs(d))}
GRAM_MATRIX_KERNELS = {"kernel1": gram_matrix_kernel(0.5), "kernel2": gram_matrix_kernel(0.1)}
OWN_CONVENTIONS = {  # a regression written for its own kernels, in each convention students use
    "k(X, xj)": (ref.mercer_kernel_regress, {"kernel1": ref.kernel1, "kernel2": ref.kernel2}),
    "k(x, y)": (regress_by_scalar_loops, {"kernel1": scalar_gaussian, "kernel2": lambda x, y: math.exp(-abs(x - y))}),
    "k(A, B)": (regress_of_gram_matrix, GRAM_MATRIX_KERNELS),
    "k(d)": (regress_of_difference, DIFFERENCE_KERNELS),
}


@pytest.mark.parametrize("check_id", ["q3_2.regress_shape", "q3_2.regress_limits"])
@pytest.mark.parametrize("convention", OWN_CONVENTIONS, ids=str)
def test_regression_written_for_its_own_kernels_passes(run, bundle, convention, check_id):
    regress, kernels = OWN_CONVENTIONS[convention]
    expect(run(check_id, mercer_kernel_regress=regress, **kernels), "passed", max_points(bundle, check_id))


@pytest.mark.parametrize("convention", ["k(X, xj)", "k(x, y)", "k(A, B)"], ids=str)
def test_regression_written_for_its_own_kernels_matches_on_every_input(run, bundle, convention):
    regress, kernels = OWN_CONVENTIONS[convention]
    cases = bundle["keys"]["q3_2.regress_values"]["cases"]
    result = run("q3_2.regress_values", mercer_kernel_regress=regress, **kernels)
    expect(result, "passed", max_points(bundle, "q3_2.regress_values"), f"all {len(cases)} kernel/lambda inputs.")


def test_regression_written_for_gram_matrix_kernels_gets_full_marks_on_3_2(run, bundle):
    """The real case: kernels k(A, B) returning the Gram matrix, and a regression calling kernel(X, X) and
    kernel(x, X) once, exact with its own kernels; a broadcasting kernel can't take kernel(x, X)."""
    regress, kernels = OWN_CONVENTIONS["k(A, B)"]
    X, y, x = np.linspace(-1, 1, 20), np.cos(np.arange(20)), np.linspace(-1, 1, 7)
    own_fit = regress(kernels["kernel1"], X, y, x, 0.1)
    np.testing.assert_allclose(own_fit, ref.mercer_kernel_regress(ref.kernel1, X, y, x, 0.1), rtol=1e-12)
    results = [run(check_id, mercer_kernel_regress=regress, **kernels) for check_id in REGRESS]
    assert [r.status for r in results] == ["passed"] * 3, [r.message for r in results]
    assert sum(r.points for r in results) == pytest.approx(sum(max_points(bundle, c) for c in REGRESS))


@pytest.mark.parametrize("check_id", ["q3_2_kernels.kernels_valid", "q3_3.lambda_risk"])
@pytest.mark.parametrize(
    "kernels",
    [GRAM_MATRIX_KERNELS, {"kernel1": row_filling_gaussian(0.5), "kernel2": row_filling_gaussian(0.1)}],
    ids=["broadcast-inside", "filled-row-by-row"],
)
def test_gram_matrix_kernels_are_judged_and_simulated(run, bundle, kernels, check_id):
    """Kernels that need two 1-D arrays are called with two 1-D arrays (the reference's lambdas suit these
    bandwidths, as the mutation table's Gram-matrix rows show)."""
    expect(run(check_id, **{**REFERENCE, **kernels}), "passed", max_points(bundle, check_id))


@pytest.mark.parametrize("check_id", REGRESS)
def test_gram_matrix_regression_with_elementwise_kernels_of_its_own_fails(run, bundle, check_id):
    """Its own kernels take kernel(X, X) elementwise, as the grader's kernel then does: a diagonal, not K."""
    result = run(check_id, mercer_kernel_regress=regress_of_gram_matrix, kernel1=ref.kernel1, kernel2=ref.kernel2)
    expect(result, "failed", 0.0)


@pytest.mark.parametrize("check_id", REGRESS)
def test_regression_written_for_difference_kernels_passes_with_its_own_kernels(run, bundle, check_id):
    result = run(check_id, mercer_kernel_regress=regress_of_difference, **DIFFERENCE_KERNELS)
    expect(result, "passed", max_points(bundle, check_id))


def test_difference_regression_leaves_out_only_the_kernel_without_a_difference_form(run, bundle):
    cases = bundle["keys"]["q3_2.regress_values"]["cases"]
    polynomial = sum(c["kernel"].startswith("polynomial") for c in cases)
    assert 0 < polynomial < len(cases)
    result = run("q3_2.regress_values", mercer_kernel_regress=regress_of_difference, **DIFFERENCE_KERNELS)
    points = max_points(bundle, "q3_2.regress_values")
    expect(
        result,
        "passed",
        points,
        f"all {len(cases) - polynomial} kernel/lambda inputs",
        f"({polynomial} inputs left out",
    )


def test_difference_regression_with_two_argument_kernels_of_its_own_fails(run, bundle):
    """Neither its own kernels nor the starter's convention take kernel(x - y): every input raises."""
    cases = bundle["keys"]["q3_2.regress_values"]["cases"]
    result = run("q3_2.regress_values", mercer_kernel_regress=regress_of_difference, kernel1=ref.kernel1)
    expect(
        result,
        "failed",
        0.0,
        f"is wrong for {len(cases)} / {len(cases)} inputs",
        "the grader's kernel takes the calls k(X, xj), k(x, y)",
    )


def test_own_kernels_are_probed_once_however_many_inputs():
    calls = []

    def own(d):
        calls.append(d)
        return np.exp(-(d**2) / 2)

    case = {"kernel": "polynomial(2)", "X": [0.0, 0.5, 1.0], "y": [1.0, 0.0, 2.0], "x": [0.25], "lmbda": 0.1}
    observed = probes.probe_regress(regress_of_difference, [case] * 3, own_kernels=[own])
    assert all("not_applicable" in o for o in observed)
    assert len(calls) == 1


@pytest.mark.parametrize("grader", ["gaussian(0.3)", "laplacian(0.5)"])
@pytest.mark.parametrize("convention", list(OWN_CONVENTIONS), ids=str)
def test_the_grader_kernel_offered_in_each_convention_has_the_same_gram_matrix(grader, convention):
    """One kernel, whichever way it is called: the values never depend on the convention."""
    kernel = probes.GRADER_KERNELS[grader]
    offered = probes.offer(kernel, frozenset(OWN_CONVENTIONS))
    A, B = np.linspace(-1, 1, 5), np.linspace(-0.5, 1, 4)
    G = probes.BY_NAME[convention].gram(offered, A, B)
    np.testing.assert_array_equal(G, kernel.pair(A[:, None], B[None, :]))


@pytest.mark.parametrize(
    "kernel, convention",
    [
        (ref.kernel1, "k(X, xj)"),
        (lambda x, y: math.exp(-((x - y) ** 2) / 0.5), "k(x, y)"),
        (gram_matrix_kernel(0.5), "k(A, B)"),
        (row_filling_gaussian(0.5), "k(A, B)"),
        (lambda d: np.exp(-(d**2) / 0.5), "k(d)"),
    ],
    ids=["vectorised", "scalar", "gram-matrix", "gram-matrix-by-rows", "difference"],
)
def test_simulation_calls_each_kernel_the_way_the_probe_found_it_works(kernel, convention):
    """The grader's simulation and the probes share one table of conventions: the same Gaussian gives the
    same risks however it is written."""
    found = probes.gram(kernel, [0.0, 0.5], [0.0, 0.5])
    assert found["convention"] == convention
    lmbdas, trials = [1e-3, 0.1, 10.0], 4
    expected = risk_curve(ref.kernel1, "k(X, xj)", lmbdas, trials, seed=3, budget_s=60)
    observed = risk_curve(kernel, convention, lmbdas, trials, seed=3, budget_s=60)
    np.testing.assert_allclose(observed["risk"], expected["risk"], rtol=1e-8)


# --- 3.3: the lambdas ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, shown", [(0, "got 0."), (-0.5, "got -0.5."), (..., "got Ellipsis."), (float("nan"), "got nan.")]
)
def test_lambda_that_is_not_a_positive_number_fails(run, bundle, value, shown):
    result = run("q3_3.lambdas_chosen", lambda_hat_1=value, lambda_hat_2=0.1)
    expect(result, "failed", 0.0, "`lambda_hat_1` should be a positive number", shown)


def test_unset_second_lambda_fails(run, bundle):
    result = run("q3_3.lambdas_chosen", lambda_hat_1=1e-3)
    expect(result, "failed", 0.0, "`lambda_hat_2` should be a positive number; got None")


def test_lambda_as_numpy_scalar_or_size_one_array_passes(run, bundle):
    result = run("q3_3.lambdas_chosen", lambda_hat_1=np.float64(1e-6), lambda_hat_2=np.array([8.0]))
    expect(result, "passed", max_points(bundle, "q3_3.lambdas_chosen"))


# --- hidden checks keep their keys hidden --------------------------------------------------------


def test_hidden_alpha_message_reveals_no_minimum(run, bundle):
    key = bundle["keys"]["q3_1.alpha_objective"]
    result = run("q3_1.alpha_objective", alpha_hat=alpha_without_identity)
    assert result.status == "failed"
    assert shown_at_3_decimals(result.message, key["best_objective"]) == []


def test_hidden_regression_message_reveals_no_expected_value(run, bundle):
    key = bundle["keys"]["q3_2.regress_values"]
    result = run("q3_2.regress_values", mercer_kernel_regress=regress_with(alpha_without_identity))
    assert result.status == "failed"
    assert shown_at_3_decimals(result.message, [v for values in key["expected"] for v in values]) == []


@pytest.mark.parametrize("check_id", ["q3_1.alpha_objective", "q3_2.regress_values"])
def test_results_of_hidden_checks_are_marked_hidden(run, bundle, check_id):
    assert bundle["configs"][check_id]["hidden"] is True
    assert run(check_id, **REFERENCE).hidden is True


def test_the_simulation_by_eigendecomposition_equals_a_solve_per_lambda():
    """The grader's lambda simulation factors each Gram matrix once; the risks are those of solving per lambda."""
    from autograder.probes import simulation

    rng = np.random.default_rng(3)
    X = np.sort(rng.uniform(-1, 1, (30, 20)), axis=1)
    x = np.linspace(-1, 1, 40)
    K = np.exp(-((X[:, :, None] - X[:, None, :]) ** 2) / (2 * 0.3**2))
    K_eval = np.exp(-((x[None, :, None] - X[:, None, :]) ** 2) / (2 * 0.3**2))
    y = 3 * X**2 + 0.25 * rng.standard_normal(X.shape)
    lmbdas = [1e-6, 1e-3, 0.1, 10.0]
    by_eigen = list(simulation._fits_by_eigen(K, K_eval, y, lmbdas))
    by_solve = list(simulation._fits_by_solve(K, K_eval, y, lmbdas))
    for a, b in zip(by_eigen, by_solve):
        assert np.allclose(a, b, rtol=1e-6, atol=1e-6 * np.abs(b).max())
