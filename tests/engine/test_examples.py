"""The bundled example submissions, graded by `assn1 grade`: the reference earns every autograded point,
each flawed one loses exactly the checks its flaw names (examples/make_submissions.py) and no others."""

from __future__ import annotations

import csv
import html
import importlib.util
import json
import re
import sys

import pytest

from autograder.suite import ITEMS

from conftest import PROJECT_ROOT


def _variants():
    spec = importlib.util.spec_from_file_location("make_submissions", PROJECT_ROOT / "examples" / "make_submissions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.VARIANTS


FLAGGED = "p4_weak"  # reports 0.99 for models that reach far less: flagged for the instructor, not scored


@pytest.fixture(scope="module")
def graded(graded_examples):
    return graded_examples


def _expected_failures(config, variant) -> set[str]:
    """The checks a variant must fail: its flaw's, and every model check when it hands in no model files."""
    fails = set(variant.fails)
    if not variant.models:
        fails |= {i for i, item in ITEMS.items() if item.file and i.split(".")[0] in _autograded(config)}
    return fails


def _autograded(config) -> dict:
    return {q: question for p in config.problems.values() for q, question in p.questions.items() if not question.manual}


@pytest.mark.parametrize("name", sorted(_variants()))
def test_each_example_loses_exactly_the_points_of_its_flaw(graded, name):
    config, out = graded
    variant = _variants()[name]
    rows = {r["file"]: r for r in csv.DictReader(open(out / "final_grades.csv"))}
    row = rows[f"{name}.zip" if variant.models else f"{name}.ipynb"]
    if name == FLAGGED:
        assert row["grading_status"].startswith("Needs attention: q4_2.accuracy: reported accuracy 0.9900")
        assert "grader" not in row["grading_status"] and "limit" not in row["grading_status"]
    else:
        assert row["grading_status"] == "Completed"
    fails = _expected_failures(config, variant)
    for q, question in _autograded(config).items():
        earned = float(row[q])
        lost = sum(c.points for c_name, c in question.checks.items() if f"{q}.{c_name}" in fails)
        partial = [c_name for c_name in question.checks if f"{q}.{c_name}" in variant.partial]
        if lost == 0 and not partial:
            assert earned == question.points, f"{name}: {q} lost points its flaw does not explain"
        else:
            assert question.points - lost <= earned < question.points, f"{name}: {q} = {earned}"


@pytest.mark.parametrize("name", sorted(_variants()))
def test_each_example_names_the_known_mistakes_of_its_flaw(graded, name):
    """Its failed checks name exactly the known mistakes its flaw is made of (the seed student's P1: two)."""
    config, out = graded
    variant = _variants()[name]
    file = f"{name}.zip" if variant.models else f"{name}.ipynb"
    rows = [r for r in csv.DictReader(open(out / "checks.csv")) if r["file"] == file]
    assert rows
    assert {m for r in rows for m in r["misconceptions"].split()} == set(variant.names)


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


def _outputs(out, name: str) -> str:
    """The messages of results.json as written, less the HTML escaping Gradescope's markdown needs."""
    tests = json.loads((out / name / "results.json").read_text())["tests"]
    return "\n".join(html.unescape(t["output"]) for t in tests)


def test_p4_models_are_reported_with_accuracy_parameters_and_layers(graded):
    _, out = graded
    text = _outputs(out, "p4_complete")
    for model in ("brain_food_model_1.keras", "brain_food_model_2.keras"):
        assert re.search(
            rf"recomputed test accuracy of {model} on 768 test images: (0\.9[5-9]\d*|1\.0+); you reported", text
        )
        assert re.search(rf"{model}: [\d,]+ parameters, Conv2D\(16, [35]x[35]\) > MaxPooling2D\(4x4\) > ", text)
    assert "flagged" not in text


def test_p4_overstated_accuracy_is_flagged_and_the_baseline_is_named(graded):
    _, out = graded
    text = _outputs(out, "p4_weak")
    assert re.search(r"you reported 0\.9900, more than 0\.02 above the recomputed figure \(flagged", text)
    assert (
        "brain_food_model_1.keras: 62,338 parameters, Conv2D(32, 5x5) > MaxPooling2D(4x4) > Flatten > Dense(2) (the baseline architecture)."
        in text
    )


def test_p4_test_set_is_decompressed_once_for_the_whole_batch(graded):
    config, _ = graded
    folders = list(config.data.cache_dir.glob("p4_test_*"))
    assert len(folders) == 1, "each P4 submission should share one cached test set"
    stamp = (folders[0] / "images.npy").stat().st_mtime_ns
    from autograder.judging import prepare_keys
    from autograder.keys import build_bundle

    prepare_keys(build_bundle(config, include_hidden=True)["keys"])  # as the next batch would: reused, not rebuilt
    assert (folders[0] / "images.npy").stat().st_mtime_ns == stamp
    assert list(config.data.cache_dir.glob("p4_test_*")) == folders
