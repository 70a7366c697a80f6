"""The bundled example submissions, graded by `assn1 grade`: the reference earns every autograded point,
each flawed one loses exactly the checks its flaw names (examples/make_submissions.py) and no others."""

from __future__ import annotations

import csv
import importlib.util
import sys

import pytest
import yaml

from autograder.cli import main
from autograder.config import load_config
from autograder.data import problem1

from conftest import PROJECT_ROOT


def _variants():
    spec = importlib.util.spec_from_file_location("make_submissions", PROJECT_ROOT / "examples" / "make_submissions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.VARIANTS


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("examples")
    raw = yaml.safe_load((PROJECT_ROOT / "grading.yml").read_text())
    raw["build"] = {k: str(PROJECT_ROOT / v) for k, v in raw["build"].items()}
    (root / "grading.yml").write_text(yaml.safe_dump(raw))
    config = load_config(root / "grading.yml")
    problem1.generate(config)
    out = root / "out"
    assert (
        main(
            [
                "--config",
                str(config.path),
                "grade",
                str(PROJECT_ROOT / "examples" / "submissions"),
                "-o",
                str(out),
                "-j",
                "2",
            ]
        )
        == 0
    )
    return config, out


def _failed_checks(out, name):
    import json

    tests = json.loads((out / name / "results.json").read_text())["tests"]
    return {line for t in tests for line in t["output"].splitlines() if not line.startswith("[passed]")}


@pytest.mark.parametrize("name", sorted(_variants()))
def test_each_example_loses_exactly_the_points_of_its_flaw(graded, name):
    config, out = graded
    variant = _variants()[name]
    rows = {r["file"]: r for r in csv.DictReader(open(out / "final_grades.csv"))}
    row = rows[f"{name}.ipynb"]
    assert row["grading_status"] == "Completed"
    checks = {
        i: c
        for p in config.problems.values()
        for q, question in p.questions.items()
        for c_name, c in question.checks.items()
        for i in [f"{q}.{c_name}"]
    }
    lost = {q: 0.0 for p in config.problems.values() for q in p.questions}
    for check_id in variant.fails:
        lost[check_id.split(".")[0]] += checks[check_id].points
    for p in config.problems.values():
        for q, question in p.questions.items():
            if question.manual:
                continue
            earned = float(row[q])
            if not question.checks:  # P4's models are graded in their own step
                assert earned == 0
            elif lost[q] == 0:
                assert earned == question.points, f"{name}: {q} lost points its flaw does not explain"
            else:
                assert question.points - lost[q] <= earned < question.points, f"{name}: {q} = {earned}"


def test_gradebook_has_otters_layout(graded):
    config, out = graded
    with open(out / "final_grades.csv") as fh:
        rows = list(csv.reader(fh))
    header, possible = rows[0], rows[1]
    autograded = sorted(
        q for p in config.problems.values() for q, question in p.questions.items() if not question.manual
    )
    assert header == ["file", *autograded, "total_points_earned", "percent_correct", "grading_status"]
    assert possible[0] == "points-per-question" and possible[-1] == "--" and possible[-2] == "1"
    assert len(rows) == 2 + len(_variants())
    for name in _variants():
        assert (out / name / "executed.ipynb").exists() and (out / name / "results.json").exists()
