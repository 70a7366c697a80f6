"""Hand-entered scores back into the gradebook: the template, its import (whole or not at all), the
exports that then carry the whole grade, and suggestions that never become scores."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.config import load_config
from autograder.gradebook import NAME, SCHEMA, Stored, open_gradebook
from autograder.manual.review import SUGGESTIONS_CSV, refresh_suggestions
from autograder.manual.scores import TEMPLATE_COLUMNS
from autograder.reports import write_gradebook
from autograder.results import CheckResult

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "submissions" / "reference.ipynb"
MANUAL = {  # grading.yml's hand-graded questions and their points
    "q1_2_explain": 3,
    "q2_1_derive": 2,
    "q2_2_explain": 2,
    "q3_1_derive": 3,
    "q3_3_explain": 2,
    "q4_0_explain": 2,
    "q4_2_explain": 4,
    "q4_3_explain": 4,
}


def _variant(edit) -> dict:
    notebook = json.loads(REFERENCE.read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = edit(source, cell)
    return notebook


def _blank(source: str, cell) -> str:
    return "" if "otter_assign_solution_cell" in cell["metadata"].get("tags", []) else source


def _stored(name: str, source: Path, points: float) -> Stored:
    check = CheckResult("q2_1.bandwidth_values", "passed", "ok", points, 0.5, True)
    return Stored(name, str(source), "0" * 64, {}, "fp", 1, (check,), {}, "rlimits", 1.0, "", (), (), time.time(), None)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """OUT as `assn1 grade` leaves it for three submissions (the gradebook and each executed notebook),
    recorded directly: the notebooks' written answers are what these tests read. Their suggestions are
    made once here and stored in the gradebook, as `assn1 grade` does."""
    root = tmp_path_factory.mktemp("manual")
    shutil.copyfile(ROOT / "grading.yml", root / "grading.yml")
    shutil.copytree(ROOT / "reference", root / "reference")
    out = root / "out"
    out.mkdir()
    notebooks = {
        "ref": json.loads(REFERENCE.read_text()),
        "noid": _variant(
            lambda s, c: s.replace(
                "$\\hat\\alpha = (\\mathbb{K} + \\lambda I)^{-1} Y$", "$\\hat\\alpha = (\\mathbb{K} + \\lambda)^{-1} Y$"
            )
        ),
        "blank": _variant(_blank),
    }
    gradebook = open_gradebook(out)
    try:
        for name, notebook in notebooks.items():
            (out / name).mkdir()
            (out / name / "executed.ipynb").write_text(json.dumps(notebook))
            gradebook.record(_stored(name, root / f"{name}.ipynb", 0.5 if name != "blank" else 0.0), None)
        refresh_suggestions(load_config(root / "grading.yml"), out, gradebook)
    finally:
        gradebook.close()
    return root


@pytest.fixture
def graded(prepared, tmp_path):
    """A private copy of the prepared folder: (grading.yml, OUT)."""
    shutil.copyfile(prepared / "grading.yml", tmp_path / "grading.yml")
    shutil.copytree(prepared / "reference", tmp_path / "reference")
    shutil.copytree(prepared / "out", tmp_path / "out")
    return tmp_path / "grading.yml", tmp_path / "out"


def _template(config_path: Path, out: Path, capsys, *extra: str) -> list[dict]:
    assert main(["--config", str(config_path), "gradebook", "manual-template", str(out), *extra]) == 0
    text = capsys.readouterr().out
    return list(csv.DictReader(io.StringIO(text)))


def _write(rows: list[dict], path: Path, header=TEMPLATE_COLUMNS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _final(out: Path) -> list[dict]:
    with open(out / "final_grades.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_template_has_a_row_per_question_and_submission_with_the_suggestions(graded, capsys):
    config_path, out = graded
    rows = _template(config_path, out, capsys)
    assert list(rows[0]) == TEMPLATE_COLUMNS
    assert [(r["question"], r["submission"]) for r in rows] == [
        (q, n) for q in MANUAL for n in ("blank", "noid", "ref")
    ]
    assert all(float(r["points_possible"]) == MANUAL[r["question"]] and r["score"] == r["comment"] == "" for r in rows)
    cell = {(r["submission"], r["question"]): r["suggestion"] for r in rows}
    assert cell["ref", "q3_1_derive"] == "alpha hat: matches"
    assert (
        cell["noid", "q3_1_derive"]
        == "alpha hat: differs (lambda is added to every entry of K: the identity is missing)"
    )
    assert cell["ref", "q2_1_derive"] == "h*: matches; R(h*): matches"
    assert cell["ref", "q2_2_explain"] == "rate of h*: matches; rate of R(h*): matches"
    assert cell["blank", "q2_1_derive"] == "answer left blank" and cell["ref", "q1_2_explain"] == ""
    only = _template(config_path, out, capsys, "--question", "q3_1_derive")
    assert {r["question"] for r in only} == {"q3_1_derive"} and len(only) == 3


def test_a_filled_template_imports_and_final_grades_carry_the_whole_grade(graded, capsys, tmp_path):
    config_path, out = graded
    rows = _template(config_path, out, capsys)
    for row in rows:
        row["score"] = {"ref": str(MANUAL[row["question"]]), "noid": "1.5", "blank": "0"}[row["submission"]]
    rows[0]["comment"] = 'No explanation, "see code"; 0 points.'
    filled = _write(rows, tmp_path / "filled.csv")
    assert (
        main(["--config", str(config_path), "gradebook", "import-manual", str(out), str(filled), "--grader", "ta-ana"])
        == 0
    )
    assert "imported 24 score(s) for 3 submission(s) and 8 question(s)" in capsys.readouterr().out
    final = _final(out)
    assert list(final[0])[-3 - len(MANUAL) : -3] == sorted(MANUAL), "the hand-graded columns before the total"
    assert final[0]["file"] == "points-per-question" and float(final[0]["total_points_earned"]) == 60
    by_file = {r["file"]: r for r in final[1:]}
    assert float(by_file["ref.ipynb"]["total_points_earned"]) == 0.5 + 22
    assert float(by_file["ref.ipynb"]["percent_correct"]) == pytest.approx(22.5 / 60)
    assert float(by_file["noid.ipynb"]["total_points_earned"]) == 0.5 + 8 * 1.5
    assert float(by_file["blank.ipynb"]["q3_1_derive"]) == 0
    gradebook = open_gradebook(out)
    try:
        stored = gradebook.manual_scores()
    finally:
        gradebook.close()
    blank = stored["blank"]["q1_2_explain"]
    assert blank.grader == "ta-ana" and time.time() - blank.entered_at < 60
    assert blank.comment == 'No explanation, "see code"; 0 points.'
    again = _template(config_path, out, capsys)
    assert {(r["submission"], r["question"]): r["score"] for r in again}["noid", "q2_1_derive"] == "1.5"


def test_a_partial_file_imports_what_it_scores_and_a_later_one_adds_to_it(graded, capsys, tmp_path):
    config_path, out = graded
    rows = _template(config_path, out, capsys, "--question", "q2_1_derive")
    rows[0]["score"] = "2"
    assert (
        main(
            [
                "--config",
                str(config_path),
                "gradebook",
                "import-manual",
                str(out),
                str(_write(rows, tmp_path / "a.csv")),
            ]
        )
        == 0
    )
    capsys.readouterr()
    final = {r["file"]: r for r in _final(out)[1:]}
    assert final["blank.ipynb"]["q2_1_derive"] == "2" and final["ref.ipynb"]["q2_1_derive"] == ""
    assert float(final["ref.ipynb"]["total_points_earned"]) == 0.5


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda r: r[1].update(submission="nobody"),
            "row 3: unknown submission 'nobody'; use the names the template lists.",
        ),
        (
            lambda r: r[0].update(question="q2_1"),
            "row 2: 'q2_1' is not a hand-graded question; use one of q1_2_explain,",
        ),
        (lambda r: r[4].update(score="3.5"), "row 6: the score 3.5 for q2_1_derive should be between 0 and 2."),
        (lambda r: r[2].update(score="-1"), "row 4: the score -1 for q1_2_explain should be between 0 and 3."),
        (
            lambda r: r[5].update(points_possible="3"),
            "row 7: points_possible for q2_1_derive was changed to '3'; grading.yml gives 2",
        ),
        (lambda r: r[1].update(score="two"), "row 3: the score 'two' is not a number."),
        (lambda r: r.append(dict(r[0])), "row 26: blank q1_2_explain is scored again (first in row 2); keep one row."),
        (
            lambda r: r[0].update(score="", comment="see me"),
            "row 2: a comment without a score; enter the score, or clear the comment.",
        ),
    ],
    ids=[
        "unknown submission",
        "unknown question",
        "above the maximum",
        "negative",
        "points changed",
        "not a number",
        "twice",
        "comment only",
    ],
)
def test_an_invalid_file_is_refused_in_one_line_naming_the_row_and_nothing_is_imported(
    graded, capsys, tmp_path, change, message
):
    config_path, out = graded
    rows = _template(config_path, out, capsys)
    for row in rows:
        row["score"] = "1"
    change(rows)
    filled = _write(rows, tmp_path / "filled.csv")
    assert main(["--config", str(config_path), "gradebook", "import-manual", str(out), str(filled)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"assn1: error: {filled} ") and message in err
    gradebook = open_gradebook(out)
    try:
        assert gradebook.manual_scores() == {}, "nothing of an invalid file is stored"
    finally:
        gradebook.close()
    assert not (out / "final_grades.csv").exists()


def test_a_file_without_the_template_columns_is_refused(graded, capsys, tmp_path):
    config_path, out = graded
    filled = _write(
        [{"submission": "ref", "question": "q2_1_derive", "score": "1"}],
        tmp_path / "x.csv",
        ["submission", "question", "score"],
    )
    assert main(["--config", str(config_path), "gradebook", "import-manual", str(out), str(filled)]) == 1
    assert "row 1: the column(s) points_possible, suggestion, comment are missing" in capsys.readouterr().err


def test_without_manual_scores_final_grades_keeps_otters_layout(graded, tmp_path):
    config_path, out = graded
    config = load_config(config_path)
    gradebook = open_gradebook(out)
    try:
        results = [s.result(config) for s in gradebook.load().values()]
    finally:
        gradebook.close()
    write_gradebook(results, tmp_path / "plain.csv")
    write_gradebook(results, tmp_path / "none.csv", {})
    assert (tmp_path / "plain.csv").read_bytes() == (tmp_path / "none.csv").read_bytes()
    header = (tmp_path / "plain.csv").read_text().splitlines()[0].split(",")
    assert not set(MANUAL) & set(header) and header[-3:] == ["total_points_earned", "percent_correct", "grading_status"]


def test_suggestions_go_to_their_csv_are_stored_and_are_never_scores(graded, capsys):
    config_path, out = graded
    assert main(["--config", str(config_path), "gradebook", "suggest", str(out)]) == 0
    assert "manual_suggestions.csv (suggested verdicts for the graders, not scores)" in capsys.readouterr().out
    with open(out / SUGGESTIONS_CSV, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "submission",
        "question",
        "formula",
        "verdict",
        "parsed_expression",
        "note",
        "student_latex",
    ]
    row = next(r for r in rows if r["submission"] == "noid" and r["formula"] == "alpha_hat")
    assert (row["question"], row["verdict"], row["parsed_expression"]) == ("q3_1_derive", "differs", "Y/(K + lambda)")
    assert row["student_latex"] == "\\hat\\alpha = (\\mathbb{K} + \\lambda)^{-1} Y"
    assert {r["verdict"] for r in rows if r["submission"] == "blank"} == {"absent"}
    config = load_config(config_path)
    gradebook = open_gradebook(out)
    try:
        recomputed = []
        refresh_suggestions(config, out, gradebook, progress=recomputed.append)
        assert recomputed == [], "unchanged notebooks reuse their stored suggestions"
        assert gradebook.manual_scores() == {}
        assert [s.result(config).total for s in gradebook.load().values()] == [0.0, 0.5, 0.5]
    finally:
        gradebook.close()


def test_a_schema_1_gradebook_gains_the_manual_tables_and_a_foreign_schema_is_refused(graded, capsys):
    config_path, out = graded
    with sqlite3.connect(out / NAME) as db:
        db.execute("DROP TABLE manual_scores")
        db.execute("DROP TABLE suggestions")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    gradebook = open_gradebook(out)
    try:
        assert gradebook.manual_scores() == {} and set(gradebook.load()) == {"blank", "noid", "ref"}
    finally:
        gradebook.close()
    with sqlite3.connect(out / NAME) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (str(SCHEMA),)
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    assert main(["--config", str(config_path), "gradebook", "manual-template", str(out)]) == 1
    assert f"is not an assn1 gradebook of schema {SCHEMA}" in capsys.readouterr().err


def test_the_suggestion_cell_names_each_formula_and_a_missing_answer_once():
    from autograder.manual.extract import Answer, Part
    from autograder.manual.formulas import Suggestion
    from autograder.manual.scores import suggestion_text

    h = Suggestion("q2_1_derive", "q2_1_derive.h_star", "h*", "differs", "x", "c1 and c2 are swapped", "h^*=x")
    r = Suggestion("q2_1_derive", "q2_1_derive.risk_bound", "R(h*)", "absent")
    written = Answer("q2_1_derive", "2.1", "markers", (0,), (Part("markdown", 0, "$h^*=x$"),))
    assert suggestion_text(written, [h, r]) == "h*: differs (c1 and c2 are swapped); R(h*): absent"
    assert suggestion_text(Answer("q2_1_derive", "2.1", "markers", (0,), ()), [r]) == "answer left blank"
    assert suggestion_text(None, [r]) == "no answer found in the notebook"
