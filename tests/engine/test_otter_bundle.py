"""dist/autograder.zip: small, laid out for Gradescope and `otter grade`, and grading every example exactly
as `assn1 grade` does on every path through it: the Gradescope rehearsal, `otter run -a`, and the
results.pkl from which `otter grade` makes its final_grades.csv."""

from __future__ import annotations

import csv
import fnmatch
import importlib.resources
import json
import os
import pickle
import re
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement

from autograder import environment as student_env
from autograder.build import build
from autograder.bundle import BUILD_TOOLS, GRADING_PLATFORM, OTTER_PROVIDES, PLUGIN, PROJECT_DIR
from autograder.rehearsal import activated, rehearse
from autograder.reports import _num
from autograder.sandbox import LEVELS
from autograder.submissions import find_submissions

from conftest import PROJECT_ROOT
from engine.test_isolation import GRADESCOPE_SCHEMA

EXAMPLES = PROJECT_ROOT / "examples" / "submissions"
FULL = "p4_complete"  # the complete reference submission: graded by the `otter run` command itself


@pytest.fixture(scope="module")
def bundle(graded_examples):
    config, _ = graded_examples
    return config, build(config).zip_path


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def through_the_zip(bundle, tmp_path_factory, monkeypatch_module):
    """Every example graded once through the zip, two at a time: FULL by `otter run -a dist/autograder.zip`
    as an instructor runs it (otter's results.json), the others by the Gradescope rehearsal (small test
    segments), each queue in its own /autograder tree. Returns (rehearsal output folder, otter's results.json)."""
    config, zip_path = bundle
    monkeypatch_module.setenv("ASSN1_IMAGES_PER_SEGMENT", "128")
    out = tmp_path_factory.mktemp("gradescope")
    others = [s for s in find_submissions([EXAMPLES]) if s.name != FULL]
    python = str(student_env.require(config).python)  # otter's environment: the student environment's pins

    def otter_run() -> dict:
        target = tmp_path_factory.mktemp("otter-run")
        command = [python, "-m", "otter", "run", "-a", str(zip_path), "-o", str(target)]
        command.append(str(EXAMPLES / f"{FULL}.zip"))
        done = subprocess.run(
            command,
            cwd=config.path.parent,
            capture_output=True,
            text=True,
            timeout=1800,
            env={**activated(python), "PYTHONPATH": str(PROJECT_ROOT)},  # otter imports the zip's plugin from here
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads((target / "results.json").read_text())

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(rehearse, zip_path, others[0::2], out, 1, python)
        second = pool.submit(lambda: (rehearse(zip_path, others[1::2], out, 1, python), otter_run())[1])
        first.result()
        return out, second.result()


def _dockerfile_adds() -> list[str]:
    """What `otter grade`'s Dockerfile adds to its image from the unpacked zip (its ADD lines' sources)."""
    text = (importlib.resources.files("otter.grade") / "Dockerfile").read_text()
    return [name for line in re.findall(r"^ADD (.+) \S+$", text, re.M) for name in line.split()]


def test_zip_is_small_and_has_gradescopes_layout(bundle):
    _, zip_path = bundle
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
        otter_config = json.loads(archive.read("otter_config.json"))
    assert {"setup.sh", "run_autograder", "run_otter.py", "environment.yml", "otter_config.json"} <= names
    assert {"tests/q1_2_S.py", "tests/q4_2.py", "files/data/problem1_Xy.pkl"} <= names
    project = {f"{PROJECT_DIR}/{n}" for n in ("setup_data.sh", "grade_submission.sh", "grading.yml", "assn1_keys.json")}
    assert project | {f"{PROJECT_DIR}/data/problem1_Xy.pkl", f"{PROJECT_DIR}/autograder/gradescope.py"} <= names
    assert not any(n.endswith(".gz") or "answer_key" in n for n in names), "data segments or keys files shipped"
    assert zip_path.stat().st_size < 1_000_000
    # Gradescope and otter grade run the engine, never otter's own grading; otter run gets it through the plugin
    assert run.rstrip().endswith(f"/source/{PROJECT_DIR}/grade_submission.sh") and "run_otter.py" not in run
    assert run.index("mamba activate") < run.index("grade_submission.sh")
    assert otter_config["plugins"] == [PLUGIN]
    assert "apt-get install -y bubblewrap" in setup and "chmod -R o+rX /root/miniforge3" in setup
    assert setup.rstrip().endswith("fi") and f"source/{PROJECT_DIR}/setup_data.sh" in setup


def test_zip_holds_only_what_otter_grades_image_is_given(bundle):
    """`otter grade` builds its image from some of the zip's entries: everything run_autograder needs is among them."""
    _, zip_path = bundle
    adds = _dockerfile_adds()
    assert {"run_autograder", "files*", "tests"} <= set(adds)
    with zipfile.ZipFile(zip_path) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    given = {t for t in tops if any(fnmatch.fnmatch(t, a) for a in adds)}
    assert tops == given, f"not in otter grade's image: {sorted(tops - given)}"


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
        data = tree / "source" / PROJECT_DIR / "data"
        stamps = {p.name: p.stat().st_mtime_ns for p in data.glob("*.gz")}
        assert sorted(stamps) == sorted(f"{k}_{s}.gz" for s in (7, 8, 9) for k in ("real", "fake"))
        script = tree / "source" / PROJECT_DIR / "setup_data.sh"
        again = subprocess.run(
            ["bash", str(script)], env={**os.environ, "PYTHON": sys.executable}, capture_output=True, text=True
        )
        assert again.returncode == 0, again.stderr
        assert {p.name: p.stat().st_mtime_ns for p in data.glob("*.gz")} == stamps
        assert "kept data/real_7.gz" in again.stdout + again.stderr
    finally:
        for key in env:
            os.environ.pop(key, None)


def test_otter_grades_image_makes_the_data_when_grading(bundle, tmp_path, monkeypatch):
    """`otter grade` runs setup.sh before it adds files/, so the data step waits for run_autograder's: a tree
    of only what its Dockerfile adds, setup.sh not run, grades a notebook with the P4 data made on the spot."""
    from otter.grade.utils import merge_scores_to_df

    config, zip_path = bundle
    monkeypatch.setenv("ASSN1_IMAGES_PER_SEGMENT", "128")
    python = str(student_env.require(config).python)  # the image's environment: the students' pins
    tree = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):
        (tree / folder).mkdir(parents=True)
    adds = _dockerfile_adds()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(
            tree / "source", [n for n in archive.namelist() if any(fnmatch.fnmatch(n.split("/")[0], a) for a in adds)]
        )
    nbformat.write(nbformat.v4.new_notebook(), tree / "submission" / "empty.ipynb")
    script = tree / "source" / PROJECT_DIR / "grade_submission.sh"
    env = {**activated(python), "ASSN1_AUTOGRADER_DIR": str(tree), "PYTHON": python}
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "wrote data/real_7.gz (128 images)" in done.stdout + done.stderr
    results = json.loads((tree / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["output"].startswith("Grading status: Completed"), results["output"]
    assert re.search(rf"isolation: ({'|'.join(map(re.escape, LEVELS))})", results["output"])
    assert "could not be graded: it was not submitted" in json.dumps(results["tests"])  # P4 judged, not errored
    with open(tree / "results" / "results.pkl", "rb") as fh:
        graded = pickle.load(fh)
    graded.file = "empty.ipynb"
    row = merge_scores_to_df([graded]).iloc[1]
    assert row["total_points_earned"] == 0 and row["grading_status"] == "Completed"


def test_rehearsal_results_follow_gradescopes_schema(through_the_zip):
    import jsonschema

    out, _ = through_the_zip
    for path in out.glob("*/results.json"):
        results = json.loads(path.read_text())
        name = path.parent.name
        jsonschema.validate(results, GRADESCOPE_SCHEMA)
        assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"])), name
        assert "Graded by hand: 1.2 Explanation and justification (3 points)" in results["output"]
        for test in results["tests"]:
            hidden = test["name"].endswith(" (hidden)")
            assert test["visibility"] == ("after_published" if hidden else "visible"), (name, test["name"])


def test_every_example_grades_the_same_on_every_path(graded_examples, through_the_zip):
    """Per example and question, the score `assn1 grade` gives, byte for byte: the rehearsal's results.json
    is assn1 grade's (all but the execution time), `otter grade`'s final_grades.csv row from results.pkl
    holds assn1's cells, and `otter run` scores the complete example's questions as assn1 does."""
    from otter.grade.utils import merge_scores_to_df

    _, out = graded_examples
    rehearsed, otter_run = through_the_zip
    rows = {r["file"]: r for r in csv.DictReader(open(out / "final_grades.csv"))}
    names = {p.parent.name for p in rehearsed.glob("*/results.json")}
    assert names | {FULL} == {name.rsplit(".", 1)[0] for name in rows} - {"points-per-question"}
    for name in sorted(names):
        engine = json.loads((out / name / "results.json").read_text())
        zipped = json.loads((rehearsed / name / "results.json").read_text())
        for results in (engine, zipped):
            results.pop("execution_time")
        assert zipped == engine, name
        with open(rehearsed / name / "results.pkl", "rb") as fh:
            graded = pickle.load(fh)
        row = next(r for f, r in rows.items() if f.rsplit(".", 1)[0] == name)
        graded.file = row["file"]
        otter_grade = merge_scores_to_df([graded]).iloc[1]
        for column in [c for c in row if c.startswith("q")] + ["total_points_earned"]:
            assert _num(otter_grade[column]) == row[column], (name, column)
    full = rows[f"{FULL}.zip"]
    scored = {t["name"]: t["score"] for t in otter_run["tests"] if "score" in t}
    assert {q: _num(score) for q, score in scored.items()} == {c: full[c] for c in full if c.startswith("q")}


def test_otter_run_gives_the_complete_example_every_point(through_the_zip, bundle):
    config, _ = bundle
    _, otter_run = through_the_zip
    scores = {t["name"]: (t["score"], t["max_score"]) for t in otter_run["tests"] if "score" in t}
    assert scores and all(score == most for score, most in scores.values()), scores
    autograded = sum(q.points for p in config.problems.values() for q in p.questions.values() if not q.manual)
    assert sum(score for score, _ in scores.values()) == autograded
    assert "isolation: " in otter_run["output"] and "Graded by hand: " in otter_run["output"]
