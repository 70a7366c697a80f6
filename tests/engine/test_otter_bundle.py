"""dist/autograder.zip: small, laid out for Gradescope, rehearsed as Gradescope runs it, and scoring every
example exactly as `assn1 grade` does for every check otter runs (all but the figure checks)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile

import pytest
import yaml
from packaging.requirements import Requirement

from autograder import environment as student_env
from autograder.build import build
from autograder.bundle import BUILD_TOOLS, GRADING_PLATFORM, OTTER_PROVIDES
from autograder.otter_results import complete, read_log
from autograder.rehearsal import activated, question_scores, rehearse
from autograder.submissions import find_submissions
from autograder.suite import ITEMS

from conftest import PROJECT_ROOT
from engine.test_isolation import GRADESCOPE_SCHEMA

EXAMPLES = PROJECT_ROOT / "examples" / "submissions"
FULL = "p4_complete"  # the complete reference submission: run through the `otter run` command itself


@pytest.fixture(scope="module")
def bundle(graded_examples):
    config, _ = graded_examples
    return config, build(config).zip_path


@pytest.fixture(scope="module")
def rehearsed(bundle, tmp_path_factory, monkeypatch_module):
    """Every example but FULL through the Gradescope rehearsal, two machines at once, small test segments."""
    _, zip_path = bundle
    monkeypatch_module.setenv("ASSN1_IMAGES_PER_SEGMENT", "128")
    out = tmp_path_factory.mktemp("gradescope")
    submissions = [s for s in find_submissions([EXAMPLES]) if s.name != FULL]
    python = str(student_env.require(bundle[0]).python)  # otter's environment: the same pins
    return {r.name: r.results for r in rehearse(zip_path, submissions, out, jobs=2, python=python)}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def otter_run_full(bundle, tmp_path_factory):
    """`otter run -a dist/autograder.zip` on the complete reference submission, as an instructor would, with
    the check log the zip's run_autograder asks for: (otter's own results.json, the logged check results)."""
    config, zip_path = bundle
    out = tmp_path_factory.mktemp("otter-run")
    log = out / "assn1_checks.jsonl"
    python = str(student_env.require(config).python)  # otter's environment: the student environment's pins
    command = [python, "-m", "otter", "run", "-a", str(zip_path), "-o", str(out), str(EXAMPLES / f"{FULL}.zip")]
    env = {**activated(python), "ASSN1_CHECK_LOG": str(log)}
    subprocess.run(command, cwd=config.path.parent, check=True, capture_output=True, timeout=1800, env=env)
    return json.loads((out / "results.json").read_text()), read_log(log)


def test_zip_is_small_and_has_gradescopes_layout(bundle):
    _, zip_path = bundle
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
    assert {"setup.sh", "run_autograder", "run_otter.py", "environment.yml", "otter_config.json"} <= names
    assert {"tests/q1_2_S.py", "tests/q4_2.py", "files/data/problem1_Xy.pkl", "assn1/setup_data.sh"} <= names
    assert "files/autograder/assn1_keys.json" in names and "assn1/grading.yml" in names
    assert not any(n.endswith(".gz") or "answer_key" in n for n in names), "data segments or keys files shipped"
    assert zip_path.stat().st_size < 1_000_000
    assert setup.rstrip().endswith("setup_data.sh") and "autograder.otter_results" in run
    assert run.index("export ASSN1_CHECK_LOG=") < run.index("run_otter.py") < run.index("autograder.otter_results")


def test_zip_installs_every_project_dependency_for_linux(bundle):
    """environment.yml's pip list holds pyproject's dependencies for Linux (TensorFlow's CPU wheel), otter's
    and the build tools aside, except those the student environment pins (ipykernel)."""
    tomllib = pytest.importorskip("tomllib", reason="pyproject.toml is read with Python 3.11's tomllib")
    config, zip_path = bundle
    with zipfile.ZipFile(zip_path) as archive:
        environment = yaml.safe_load(archive.read("environment.yml"))
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {Requirement(line).name for line in pip}
    pinned = set(config.environment.packages)
    for text in tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        requirement = Requirement(text)
        for_linux = requirement.marker is None or requirement.marker.evaluate(GRADING_PLATFORM)
        ours = requirement.name not in OTTER_PROVIDES | BUILD_TOOLS or requirement.name in pinned | {"otter-grader"}
        expected = for_linux and ours
        assert (requirement.name in listed) == expected, (
            f"{requirement.name}: listed {not expected}, expected {expected}"
        )
    assert "tensorflow-cpu" in listed and "tensorflow" not in listed


def test_zips_environment_is_the_declared_student_environment(bundle):
    """Gradescope builds otter's environment with the students' Python and exactly the pinned versions:
    the list `assn1 env create` installs, otter's own line aside (it adds its plugins there)."""
    config, zip_path = bundle
    with zipfile.ZipFile(zip_path) as archive:
        environment = yaml.safe_load(archive.read("environment.yml"))
    assert f"python={config.environment.python}" in environment["dependencies"]
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert [line for line in pip if not line.startswith("otter-grader")] == student_env.requirements(
        config, GRADING_PLATFORM
    )
    versions = {Requirement(line).name: str(Requirement(line).specifier) for line in pip}
    for name, version in config.environment.packages.items():
        installed_as = student_env.CPU_BUILDS.get(name, name)
        assert versions[installed_as] == f"=={version}", name
    installs = student_env.install_list(config)
    assert [line for line in installs if not line.startswith("otter-grader")] == pip[1:]


def test_setup_data_step_is_idempotent(bundle, tmp_path):
    from autograder.rehearsal import set_up

    _, zip_path = bundle
    env = {"ASSN1_IMAGES_PER_SEGMENT": "128"}
    os.environ.update(env)
    try:
        tree = set_up(zip_path, tmp_path)
        data = tree / "source" / "assn1" / "data"
        stamps = {p.name: p.stat().st_mtime_ns for p in data.glob("*.gz")}
        assert sorted(stamps) == sorted(f"{k}_{s}.gz" for s in (7, 8, 9) for k in ("real", "fake"))
        script = tree / "source" / "assn1" / "setup_data.sh"
        again = subprocess.run(
            ["bash", str(script)], env={**os.environ, "PYTHON": sys.executable}, capture_output=True, text=True
        )
        assert again.returncode == 0, again.stderr
        assert {p.name: p.stat().st_mtime_ns for p in data.glob("*.gz")} == stamps
        assert "kept data/real_7.gz" in again.stdout + again.stderr
    finally:
        for key in env:
            os.environ.pop(key, None)


def test_rehearsal_results_follow_gradescopes_schema(rehearsed):
    import jsonschema

    for name, results in rehearsed.items():
        jsonschema.validate(results, GRADESCOPE_SCHEMA)
        assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"])), name
        assert "Graded by hand: 1.2 Explanation and justification (3 points)" in results["output"]
        for test in results["tests"]:
            hidden = test["name"].endswith(" (hidden)")
            assert test["visibility"] == ("after_published" if hidden else "visible"), (name, test["name"])


def _engine_scores(config, out, name: str) -> dict[str, tuple[float, float]]:
    """Per question title: (engine score, the part of it from checks otter runs: all but the figure checks)."""
    tests = json.loads((out / name / "results.json").read_text())["tests"]
    by_title = {}
    for test in tests:
        by_title.setdefault(test["name"].removesuffix(" (hidden)"), []).append(test)
    scores = {}
    for problem in config.problems.values():
        for q, question in problem.questions.items():
            if question.manual:
                continue
            tests = {t["name"].endswith(" (hidden)"): t for t in by_title.get(question.title, [])}
            engine = sum(t["score"] for t in tests.values())
            reachable = 0.0
            for hidden in (False, True):  # each test lists its checks' lines in grading.yml's order
                checks = [(c_name, c) for c_name, c in question.checks.items() if c.hidden == hidden]
                lines = [line for line in tests[hidden]["output"].splitlines() if line] if checks else []
                assert len(lines) == len(checks), f"{name}: {q} lines {lines}"
                for (c_name, check), line in zip(checks, lines):
                    if not ITEMS[f"{q}.{c_name}"].engine_only:
                        reachable += float(line.split("] ", 1)[1].split("/", 1)[0])
            scores[question.title] = (engine, reachable)
    return scores


def test_every_example_scores_the_same_through_otter(graded_examples, rehearsed, otter_run_full):
    """Check by check, partial credit included: only the figure checks, which otter cannot run, differ."""
    config, out = graded_examples
    otter_results, logged = otter_run_full
    through_otter = {**rehearsed, FULL: complete(otter_results, config, logged)}
    rows = {r["file"]: r for r in csv.DictReader(open(out / "final_grades.csv"))}
    assert len(through_otter) == len(rows) - 1
    for name, results in through_otter.items():
        otter = question_scores(results)
        for title, (engine, reachable) in _engine_scores(config, out, name).items():
            got = otter.get(title, 0.0)
            assert got == pytest.approx(reachable), (
                f"{name}: {title} otter {got} vs engine's otter-runnable {reachable}"
            )
            assert got <= engine + 1e-9, f"{name}: {title} otter {got} > engine {engine}"


def test_otter_run_gives_the_full_reference_every_point_otter_can_give(otter_run_full, bundle):
    config, _ = bundle
    otter_results, _ = otter_run_full
    scores = {t["name"]: (t.get("score"), t.get("max_score")) for t in otter_results["tests"] if t.get("max_score")}
    assert scores and all(score == most for score, most in scores.values()), scores
    runnable = sum(
        c.points
        for p in config.problems.values()
        for q, question in p.questions.items()
        for c_name, c in question.checks.items()
        if not ITEMS[f"{q}.{c_name}"].engine_only
    )
    assert sum(score for score, _ in scores.values()) == pytest.approx(runnable)
