"""`assn1 grade` end to end when the grader's side breaks: the student is never blamed, the instructor is told.

One small notebook (problem 2 and the lambdas), graded in-process (-j 1) so a fault can be planted.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os

import nbformat
import pytest
import yaml

from autograder import sandbox
from autograder.cli import main
from autograder.data import problem1
from autograder.data.problem1 import key_path, read_key
from autograder.results import ERRORED_MESSAGE
from autograder.suite import ITEMS

from conftest import project_config
from engine.test_isolation import GOOD_P2, LAMBDAS


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A private grading.yml with problem-1 data but no P4 test segments, and one small submission.

    Run from tmp_path: the P4 preparation would also look for a `data` folder in the working folder."""
    monkeypatch.chdir(tmp_path)
    raw = project_config()  # its student environment: the project's
    raw["limits"].update(cell_timeout_s=20, notebook_timeout_s=120)
    (tmp_path / "grading.yml").write_text(yaml.safe_dump(raw))
    from autograder.config import load_config

    config = load_config(tmp_path / "grading.yml")
    problem1.generate(config)
    folder = tmp_path / "submissions"
    folder.mkdir()
    cells = [nbformat.v4.new_code_cell(c) for c in (GOOD_P2, LAMBDAS)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "student.ipynb")
    return config, folder, tmp_path / "out"


def _grade(config, folder, out, *extra) -> int:
    return main(["--config", str(config.path), "grade", str(folder), "-o", str(out), "-j", "1", *extra])


def _row(out) -> dict:
    return next(r for r in csv.DictReader(open(out / "final_grades.csv")) if r["file"] == "student.ipynb")


def test_a_check_that_raises_is_a_grader_fault_flagged_to_the_instructor(setup, monkeypatch, capsys):
    config, folder, out = setup

    def broken(observed, key, *, cfg):
        raise ZeroDivisionError("planted")

    check_id = "q2_1.bandwidth_values"
    monkeypatch.setitem(ITEMS, check_id, dataclasses.replace(ITEMS[check_id], check=broken))
    assert _grade(config, folder, out) == 1, "a grader fault ends the command with a non-zero status"
    printed = capsys.readouterr().out
    assert "submission(s) need attention:" in printed
    assert f"student: grader fault, to be regraded: {check_id}: the check raised ZeroDivisionError: planted" in printed
    assert "are incomplete because of grader faults (student)" in printed
    assert f"{check_id}: the check raised ZeroDivisionError: planted" in _row(out)["grading_status"]
    results = json.loads((out / "student" / "results.json").read_text())
    hidden = next(t for t in results["tests"] if t["name"].startswith("2.1 ") and t["name"].endswith("(hidden)"))
    assert f"[errored] 0/0.5 {ERRORED_MESSAGE}" in hidden["output"]
    assert f"grader fault, to be regraded: {check_id} could not be judged on the grader's side" in results["output"]
    assert "planted" not in json.dumps(results), "the cause (which could quote a key) is for the instructor only"
    assert float(_row(out)["q2_1"]) == 1.5, "the other checks of the question still count"


def test_missing_test_data_makes_the_model_checks_errored_not_failed(setup, capsys):
    config, folder, out = setup
    assert _grade(config, folder, out) == 1
    captured = capsys.readouterr()
    assert "real_7.gz is missing" in captured.err, "the instructor is warned before grading starts"
    results = json.loads((out / "student" / "results.json").read_text())
    p4 = [t for t in results["tests"] if t["name"].startswith("4.2 ")]
    assert p4 and all(ERRORED_MESSAGE in t["output"] for t in p4)
    assert (
        "q4_2.accuracy" in _row(out)["grading_status"]
        and "could not prepare its test data" in _row(out)["grading_status"]
    )


def test_an_answer_key_for_another_data_file_stops_the_command_in_one_line(setup, capsys):
    config, folder, out = setup
    path = key_path(config)
    truth = json.loads(path.read_text())
    path.write_text(json.dumps({**truth, "data_sha256": "0" * 64}))
    assert read_key(path).data_sha256 == "0" * 64
    assert _grade(config, folder, out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was made for another problem1_Xy.pkl" in err and "assn1 data generate" in err


def test_an_unavailable_isolation_level_is_refused_in_one_line(setup, monkeypatch, capsys):
    config, folder, out = setup
    monkeypatch.setattr(sandbox, "_bwrap_works", lambda: False)
    sandbox.choose_isolation.cache_clear()
    try:
        assert _grade(config, folder, out, "--isolation", "bubblewrap") == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "bubblewrap is not installed or not permitted here" in err
        other = "rlimits" if os.geteuid() == 0 else "rlimits+user"
        assert _grade(config, folder, out, "--isolation", other) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and ("would run student code as root" in err or "which needs root" in err)
    finally:
        sandbox.choose_isolation.cache_clear()
