"""Suggested verdicts on the table of written answers (formula_table.py), with the parser the project uses,
and the guarantees around them: a time limit per answer, the student's text only ever parsed."""

from __future__ import annotations

import time

import pytest
from formula_table import CASES, run_table

from autograder.manual.extract import Answer, Part
from autograder.manual.formulas import DEFAULT_PARSER, VERDICTS, Judge, suggest
from autograder.manual.latex import candidates
from autograder.suite import FORMULAS


@pytest.fixture(scope="module")
def table():
    return {id(case): suggestion for case, suggestion in run_table(DEFAULT_PARSER)}


def test_the_table_has_at_least_40_answers_of_every_verdict_but_unreadable_by_mistake():
    assert len(CASES) >= 40
    assert {c.expected for c in CASES} == set(VERDICTS)
    assert {c.formula for c in CASES} == set(FORMULAS)


def test_at_least_90_percent_of_the_correct_variants_read_as_matches(table):
    correct = [c for c in CASES if c.expected == "matches"]
    missed = [
        f"{c.formula} [{c.why}]: {table[id(c)].verdict} {table[id(c)].note}"
        for c in correct
        if table[id(c)].verdict != "matches"
    ]
    assert len(missed) <= 0.1 * len(correct), missed


def test_no_wrong_answer_reads_as_matches(table):
    wrong = [c for c in CASES if c.expected == "differs"]
    assert [f"{c.formula} [{c.why}]" for c in wrong if table[id(c)].verdict == "matches"] == []


@pytest.mark.parametrize("case", CASES, ids=[f"{c.formula.split('.')[1]}-{c.why}" for c in CASES])
def test_each_answer_gets_the_verdict_a_grader_would_suggest(table, case):
    got = table[id(case)]
    assert got.verdict == case.expected, f"{got.parsed} | {got.note} | {got.latex}"


def test_a_differing_answer_says_where_it_differs(table):
    notes = {c.why: table[id(c)].note for c in CASES if c.expected == "differs"}
    assert notes["c1 and c2 swapped"] == "c1 and c2 are swapped"
    assert "exponent of n is -1/(p + 2); the reference's is -1/(p + 4)" in notes["1/(p+2)"]
    assert (
        notes["the bandwidth rate given as the risk rate"]
        == "exponent of n is -1/(p + 4): the bandwidth's rate, not the risk's"
    )
    assert notes["lambda added to all entries"] == "lambda is added to every entry of K: the identity is missing"
    assert notes["missing inverse"] == "the inverse is missing"


def test_forms_equal_only_for_invertible_k_match_with_a_note(table):
    by_why = {c.why: table[id(c)] for c in CASES}
    for why in ("K^T K form (K invertible)", "K^2 form (K invertible)"):
        assert by_why[why].verdict == "matches" and "equal when K is invertible" in by_why[why].note
    assert "invertible" not in by_why["reference form"].note


def test_the_suggestion_shows_what_was_read_and_from_which_text(table):
    seed = next(c for c in CASES if c.why == "the seed student's 3.1: a chain over two blocks")
    got = table[id(seed)]
    assert got.parsed == "Y/(I*lambda + K)" and got.latex == "= (\\mathbb{K} + \\lambda I)^{-1} Y \\quad (11)"
    unreadable = next(c for c in CASES if c.why == "unbalanced braces")
    assert table[id(unreadable)].latex.startswith("h^* = \\left(\\frac{p c_2}{4 c_1 n\\right)")


def test_a_rate_for_the_bound_matches_with_a_note_but_not_for_the_bandwidth(table):
    by_why = {c.why: table[id(c)] for c in CASES}
    assert by_why["a rate as the bound"].note.startswith("given as a rate (exponent of n: -4/(p + 4))")
    assert by_why["only the rate, for the formula"].verdict == "differs"
    assert "only the rate is given" in by_why["only the rate, for the formula"].note


def test_a_pathological_formula_is_stopped_at_the_time_limit_and_the_next_is_judged():
    formula = FORMULAS["q2_1_derive.h_star"]
    slow = Answer("q2_1_derive", "2.1", "markers", (0,), (Part("markdown", 0, r"$h^* = 9^{9^{9^{9^{9}}}}$"),))
    good = Answer("q2_1_derive", "2.1", "markers", (0,), (Part("markdown", 0, r"$h^* = (pc_2/(4c_1n))^{1/(p+4)}$"),))
    with Judge(timeout_s=3) as judge:
        assert suggest(good, formula, judge).verdict == "matches"  # the worker started: its imports are not timed
        started = time.monotonic()
        stopped = suggest(slow, formula, judge)
        assert time.monotonic() - started < 3 + 2
        assert stopped.verdict == "unreadable" and stopped.note == "reading it took longer than 3 s"
        assert stopped.latex == "h^* = 9^{9^{9^{9^{9}}}}"
        assert suggest(good, formula, judge).verdict == "matches"


def test_the_last_formula_for_the_quantity_counts():
    text = r"First I guessed $h^* = n^{-1/5}$, but the derivative gives $h^* = \left(\frac{p c_2}{4 c_1 n}\right)^{\frac{1}{p+4}}$."
    found = candidates([("markdown", text)], FORMULAS["q2_1_derive.h_star"])
    assert [c.latex for c in found] == ["n^{-1/5}", "(\\frac{p c_2}{4 c_1 n})^{\\frac{1}{p+4}}"]
    with Judge() as judge:
        answer = Answer("q2_1_derive", "2.1", "markers", (0,), (Part("markdown", 0, text),))
        assert suggest(answer, FORMULAS["q2_1_derive.h_star"], judge).verdict == "matches"


def test_the_prompt_and_the_general_bound_are_no_answers():
    """An argmin (the prompt of 3.1) and R(h) = c_1 h^4 + ... (the bound before h* is put in) are not values."""
    alpha = candidates(
        [("markdown", r"$\hat\alpha = \arg\min_\alpha \|Y - \mathbb{K}\alpha\|^2$")], FORMULAS["q3_1_derive.alpha_hat"]
    )
    bound = candidates([("markdown", r"$R(h) \le c_1 h^4 + \frac{c_2}{n h^p}$")], FORMULAS["q2_1_derive.risk_bound"])
    assert alpha == [] and bound == []
