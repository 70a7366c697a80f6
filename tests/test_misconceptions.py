"""The misconception engine: a detector explains a failed check, never a passing one, never the points."""

from __future__ import annotations

import re
from pathlib import Path

from autograder.misconceptions import Misconception, catalogue_table, explain
from autograder.results import CheckResult


def _result(status: str, points: float = 0.0) -> CheckResult:
    return CheckResult("q2_2.exponent_values", status, "`risk_exponent` is wrong at some inputs.", points, 0.75)


RATE = Misconception(
    "p2.test-rate",
    "the bandwidth's rate as the risk's",
    "Redo the substitution.",
    ("q2_2.exponent_values",),
    lambda observed, key: observed["risk"] == "bandwidth",
)
BROKEN = Misconception("p2.broken", "broken", "never", ("q2_2.exponent_values",), lambda observed, key: 1 / 0)


def test_a_failed_check_names_the_first_matching_mistake_and_keeps_its_points():
    failed = _result("failed", 0.25)
    named = explain(failed, {"risk": "bandwidth"}, {}, (BROKEN, RATE))
    assert named.misconceptions == ("p2.test-rate",) and named.points == 0.25 and named.status == "failed"
    assert named.message == (
        "`risk_exponent` is wrong at some inputs. This looks like a known mistake — the bandwidth's rate as the "
        "risk's: Redo the substitution."
    )


def test_no_match_no_name_and_a_passing_check_is_never_explained():
    assert explain(_result("failed"), {"risk": "other"}, {}, (RATE,)) == _result("failed")
    assert explain(_result("passed", 0.75), {"risk": "bandwidth"}, {}, (RATE,)) == _result("passed", 0.75)


def test_the_catalogue_table_lists_id_name_hint_and_checks():
    assert catalogue_table((RATE,)).splitlines()[2] == (
        "| `p2.test-rate` | the bandwidth's rate as the risk's | Redo the substitution. | `q2_2.exponent_values` |"
    )


def test_the_readmes_catalogue_is_the_generated_one():
    """README's "Known mistakes" table is `python -m autograder.misconceptions`'s output, never a hand copy."""
    from autograder.suite import MISCONCEPTIONS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    shown = readme.split("<!-- misconceptions:start -->\n")[1].split("\n<!-- misconceptions:end -->")[0]
    assert shown == catalogue_table(MISCONCEPTIONS)


def test_every_entry_is_well_formed():
    """Ids are unique and name their problem; every entry explains configured checks; hints are one sentence."""
    from autograder.suite import ITEMS, MISCONCEPTIONS

    ids = [m.id for m in MISCONCEPTIONS]
    assert len(ids) == len(set(ids))
    for m in MISCONCEPTIONS:
        assert m.checks and set(m.checks) <= set(ITEMS), m.id
        assert all(c.startswith(f"q{m.id[1]}") for c in m.checks), m.id
        assert m.hint.endswith(".") and not re.search(r"\.\s+[A-Z]", m.hint), m.id
