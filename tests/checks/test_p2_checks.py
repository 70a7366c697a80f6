"""Problem 2 checks: the reference passes, planted single faults fail the intended check with its message.

Every answer goes through the real path: the item's probe (calls the function with the time limits
of the engine), then the check with the settings of a private copy of grading.yml. Expected counts
and numbers come from the formulas, not from the checks' code.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from reference import p2_bandwidth as ref

from checking import expect, judge, max_points, private_bundle, shown_at_3_decimals

PROJECT_ROOT = Path(__file__).resolve().parents[2]

Q21 = (
    "q2_1.bandwidth_minimizes_bound",
    "q2_1.risk_bound_at_bandwidth",
    "q2_1.bandwidth_values",
    "q2_1.risk_bound_values",
)
ALL_P2 = (*Q21, "q2_2.exponent_format", "q2_2.exponent_values", "q2_3.sample_size_scaling")
REFERENCE = {
    "optimal_bandwidth": ref.optimal_bandwidth,
    "risk_bound": ref.risk_bound,
    "bandwidth_exponent": ref.bandwidth_exponent,
    "risk_exponent": ref.risk_exponent,
    "sample_size": ref.sample_size,
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> dict:
    return private_bundle(tmp_path_factory, "p2_checks")[1]


@pytest.fixture(scope="module")
def run(bundle):
    """run(check_id, **answers): probe the answers and judge them, as the engine does."""
    return lambda check_id, **answers: judge(bundle, check_id, answers)


# Faulty answers, written the way students write them: plain Python on scalars.


def textbook_bandwidth(c1, c2, n, p):
    return (p * c2 / (4 * c1 * n)) ** (1 / (p + 4))


def textbook_risk_bound(c1, c2, n, p):
    h = textbook_bandwidth(c1, c2, n, p)
    return c1 * h**4 + c2 / (n * h**p)


def swapped_bandwidth(c1, c2, n, p):
    return (p * c1 / (4 * c2 * n)) ** (1 / (p + 4))


def bandwidth_without_p(c1, c2, n, p):
    return (c2 / (4 * c1 * n)) ** (1 / (p + 4))


def bias_only_risk_bound(c1, c2, n, p):
    return c1 * textbook_bandwidth(c1, c2, n, p) ** 4


def stub(*args):
    raise NotImplementedError


# --- the reference and valid alternatives pass -------------------------------------------------


@pytest.mark.parametrize("check_id", ALL_P2)
def test_reference_passes_with_full_points(run, bundle, check_id):
    result = run(check_id, **REFERENCE)
    expect(result, "passed", max_points(bundle, check_id))
    assert result.check_id == check_id and result.max_points == max_points(bundle, check_id)


@pytest.mark.parametrize("check_id", Q21)
def test_textbook_formulas_without_logs_pass(run, bundle, check_id):
    """The direct formulas don't overflow at the probed points (h^p stays above 1e-300)."""
    result = run(check_id, optimal_bandwidth=textbook_bandwidth, risk_bound=textbook_risk_bound)
    expect(result, "passed", max_points(bundle, check_id))


def test_sample_size_without_constants_passes(run, bundle):
    """Most students plot n = R^(-(p+4)/4); the constants are free."""
    result = run("q2_3.sample_size_scaling", sample_size=lambda risk, p: risk ** (-(p + 4) / 4))
    expect(result, "passed", max_points(bundle, "q2_3.sample_size_scaling"), "for all 20 dimensions")


def test_sympy_expression_answers_pass(run, bundle):
    import sympy

    c1, c2, n, p = sympy.symbols("c1 c2 n p", positive=True)
    h = (p * c2 / (4 * c1 * n)) ** (1 / (p + 4))
    for check_id in ("q2_1.bandwidth_minimizes_bound", "q2_1.bandwidth_values"):
        expect(run(check_id, optimal_bandwidth=h), "passed", max_points(bundle, check_id))
    risk = c1 * h**4 + c2 / (n * h**p)
    expect(run("q2_1.risk_bound_values", risk_bound=risk), "passed", 0.5)
    expect(run("q2_2.exponent_values", bandwidth_exponent=-1 / (p + 4), risk_exponent=-4 / (p + 4)), "passed", 0.75)


# --- 2.1: bandwidth and risk bound ---------------------------------------------------------------


def test_swapped_constants_fail_to_minimize_where_c1_differs_from_c2(run, bundle):
    from autograder.suite.p2_bandwidth import PUBLIC_POINTS

    differing = sum(c1 != c2 for c1, c2, _, _ in PUBLIC_POINTS)  # swapping is harmless where c1 == c2
    assert 0 < differing < len(PUBLIC_POINTS)
    result = run("q2_1.bandwidth_minimizes_bound", optimal_bandwidth=swapped_bandwidth)
    expect(
        result,
        "failed",
        0.0,
        "`optimal_bandwidth` does not minimize",
        f"at {differing} / {len(PUBLIC_POINTS)} probed inputs",
    )


def test_swapped_constants_fail_the_hidden_values(run, bundle):
    key = bundle["keys"]["q2_1.bandwidth_values"]
    differing = sum(c1 != c2 for c1, c2, _, _ in key["points"])
    result = run("q2_1.bandwidth_values", optimal_bandwidth=swapped_bandwidth)
    expect(
        result,
        "failed",
        0.0,
        "`optimal_bandwidth` is wrong at some inputs",
        f"{differing} / 60 entries differ",
        "rtol=1e-06",
    )


def test_missing_factor_p_is_caught_everywhere_but_at_p_1(run, bundle):
    from autograder.suite.p2_bandwidth import PUBLIC_POINTS

    wrong = sum(p != 1 for *_, p in PUBLIC_POINTS)
    result = run("q2_1.bandwidth_minimizes_bound", optimal_bandwidth=bandwidth_without_p)
    expect(result, "failed", 0.0, f"at {wrong} / {len(PUBLIC_POINTS)} probed inputs")


def test_risk_bound_without_the_variance_term_fails_both_checks(run, bundle):
    from autograder.suite.p2_bandwidth import PUBLIC_POINTS

    # At h*, the variance term is (4/p) times the bias term, so dropping it loses 4/(p+4) of the bound.
    worst = max(4 / (p + 4) for *_, p in PUBLIC_POINTS)
    result = run("q2_1.risk_bound_at_bandwidth", optimal_bandwidth=textbook_bandwidth, risk_bound=bias_only_risk_bound)
    expect(
        result,
        "failed",
        0.0,
        "`risk_bound` differs from c1 h^4 + c2/(n h^p) at your `optimal_bandwidth`",
        f"{len(PUBLIC_POINTS)} / {len(PUBLIC_POINTS)} entries differ",
        f"max rel diff {worst:.2g}",
    )
    result = run("q2_1.risk_bound_values", risk_bound=bias_only_risk_bound)
    expect(result, "failed", 0.0, "`risk_bound` is wrong at some inputs", "60 / 60 entries differ")


def test_risk_bound_is_judged_at_the_students_own_bandwidth(run, bundle):
    """A consistent risk_bound is not penalised again for a wrong optimal_bandwidth."""

    def consistent(c1, c2, n, p):
        h = swapped_bandwidth(c1, c2, n, p)
        return c1 * h**4 + c2 / (n * h**p)

    result = run("q2_1.risk_bound_at_bandwidth", optimal_bandwidth=swapped_bandwidth, risk_bound=consistent)
    expect(result, "passed", 0.5)


def test_function_returning_a_formula_string_cannot_be_evaluated(run, bundle):
    def as_text(c1, c2, n, p):
        return "h* = (p c2 / (4 c1 n))^(1/(p+4))"

    for check_id in ("q2_1.bandwidth_minimizes_bound", "q2_1.bandwidth_values"):
        expect(
            run(check_id, optimal_bandwidth=as_text),
            "failed",
            0.0,
            "`optimal_bandwidth` could not be evaluated",
            "returned str, not a number",
        )


def test_unfilled_stub_is_reported_with_its_exception(run, bundle):
    result = run("q2_1.bandwidth_values", optimal_bandwidth=stub)
    expect(result, "failed", 0.0, "`optimal_bandwidth` could not be evaluated: NotImplementedError")


def test_missing_function_is_not_a_function(run, bundle):
    result = run("q2_1.risk_bound_values")
    expect(result, "failed", 0.0, "`risk_bound` could not be evaluated", "is not a function or a sympy expression")


# --- 2.2: exponents ------------------------------------------------------------------------------


def test_positive_bandwidth_exponent_fails_the_format(run, bundle):
    result = run("q2_2.exponent_format", bandwidth_exponent=lambda p: 1 / (p + 4), risk_exponent=ref.risk_exponent)
    expect(result, "failed", 0.0, "`bandwidth_exponent(p)` should be a number between -1 and 0")


def test_risk_exponent_minus_one_over_p_plus_4_passes_format_but_not_values(run, bundle):
    """A real mistake: the risk rate stated as n^(-1/(p+4)) instead of n^(-4/(p+4))."""
    wrong = {"bandwidth_exponent": ref.bandwidth_exponent, "risk_exponent": lambda p: -1 / (p + 4)}
    expect(run("q2_2.exponent_format", **wrong), "passed", 0.25)
    dims = bundle["keys"]["q2_2.exponent_values"]["dims"]
    # -1/(p+4) vs -4/(p+4): relative error 3/4 at every p, absolute 3/(p+4), largest at p = 1.
    result = run("q2_2.exponent_values", **wrong)
    expect(
        result,
        "failed",
        0.0,
        "`risk_exponent` is wrong at some inputs",
        f"{len(dims)} / {len(dims)} entries differ",
        f"max abs diff {3 / (min(dims) + 4):.2g}",
        "max rel diff 0.75",
    )
    assert "bandwidth_exponent" not in result.message


def test_exponent_given_as_a_number_is_not_a_function(run, bundle):
    result = run("q2_2.exponent_format", bandwidth_exponent=-0.2, risk_exponent=ref.risk_exponent)
    expect(result, "failed", 0.0, "`bandwidth_exponent` could not be evaluated", "not a function")


# --- 2.3: sample size ----------------------------------------------------------------------------


def test_sample_size_with_the_wrong_power_reports_slopes(run, bundle):
    result = run("q2_3.sample_size_scaling", sample_size=lambda risk, p: risk ** (-p / 4))
    # log n = -(p/4) log R: slope -p/4 where -(p+4)/4 is expected, wrong at all 20 dimensions.
    expect(
        result,
        "failed",
        0.0,
        "`sample_size` should scale as R^(-(p+4)/4)",
        "p=1: slope -0.25, expected -1.25",
        "p=2: slope -0.5, expected -1.5",
        "and 17 more",
    )


def test_sample_size_by_a_while_loop_times_out(run, bundle):
    """Counting n up one at a time needs ~1e7 steps at p = 20; the probe's limits stop it."""

    started = time.perf_counter()
    give_up = started + 40  # should the probe's limits not fire, fail below instead of hanging

    def sample_size(risk, p, c1=1.0, c2=1.0):
        n = 1
        while True:
            h = (p * c2 / (4 * c1 * n)) ** (1 / (p + 4))
            if c1 * h**4 + c2 / (n * h**p) <= risk or time.perf_counter() > give_up:
                return n
            n += 1

    result = run("q2_3.sample_size_scaling", sample_size=sample_size)
    assert time.perf_counter() - started < 30
    expect(result, "failed", 0.0, "`sample_size` should scale as R^(-(p+4)/4)", "timeout")


def test_sample_size_rounded_up_to_an_integer_passes(run, bundle):
    result = run("q2_3.sample_size_scaling", sample_size=lambda risk, p: math.ceil(ref.sample_size(risk, p)))
    expect(result, "passed", max_points(bundle, "q2_3.sample_size_scaling"))


# --- hidden checks keep their keys hidden --------------------------------------------------------


@pytest.mark.parametrize(
    "check_id, answers",
    [
        ("q2_1.bandwidth_values", {"optimal_bandwidth": swapped_bandwidth}),
        ("q2_1.risk_bound_values", {"risk_bound": bias_only_risk_bound}),
    ],
)
def test_hidden_value_messages_reveal_neither_points_nor_values(run, bundle, check_id, answers):
    key = bundle["keys"][check_id]
    result = run(check_id, **answers)
    assert result.status == "failed"
    assert shown_at_3_decimals(result.message, key["values"]) == []
    assert shown_at_3_decimals(result.message, [c for point in key["points"] for c in point[:2]]) == []
    assert not any(f"{n:.0f}" in result.message for _, _, n, _ in key["points"])


def test_hidden_exponent_message_reveals_no_exponent(run, bundle):
    key = bundle["keys"]["q2_2.exponent_values"]
    result = run("q2_2.exponent_values", bandwidth_exponent=lambda p: -1 / p, risk_exponent=lambda p: -1 / (p + 4))
    assert result.status == "failed"
    assert (
        shown_at_3_decimals(result.message, key["bandwidth_exponent"]["values"] + key["risk_exponent"]["values"]) == []
    )


@pytest.mark.parametrize("check_id", ["q2_1.bandwidth_values", "q2_1.risk_bound_values", "q2_2.exponent_values"])
def test_results_of_hidden_checks_are_marked_hidden(run, bundle, check_id):
    assert bundle["configs"][check_id]["hidden"] is True
    assert run(check_id, **REFERENCE).hidden is True
