"""The engine against hostile or broken notebooks: each gets the right (low) grade and the batch completes.

Fixture notebooks are small (problem 2 and 3.3 answers only) so that each runs in seconds; their
names say the scenario. One batch grades them all, as an instructor would.
"""

from __future__ import annotations

import csv
import json
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
import threading

import nbformat
import pytest
import yaml

from autograder import sandbox
from autograder.config import load_config
from autograder.data import problem1, problem4
from autograder.grading import GradeOptions, grade_batch
from autograder.reports import write_gradebook, write_results
from autograder.results import Status
from autograder.submissions import find_submissions

from conftest import project_config

GOOD_P2 = """
import numpy as np

def optimal_bandwidth(c1, c2, n, p):
    return (p * c2 / (4 * c1 * n)) ** (1 / (p + 4))

def risk_bound(c1, c2, n, p):
    h = optimal_bandwidth(c1, c2, n, p)
    return c1 * h**4 + c2 / (n * h**p)
"""
LAMBDAS = "lambda_hat_1 = 0.01\nlambda_hat_2 = 0.1"


def _notebook(*cells: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def _scenarios(key_path: Path, out_dir: Path, port: int) -> dict[str, nbformat.NotebookNode]:
    return {
        "good-p2": _notebook(GOOD_P2, LAMBDAS),
        "loops-forever": _notebook(GOOD_P2, "while True:\n    pass", LAMBDAS),
        "allocates-20gb": _notebook(GOOD_P2, "big = np.ones(20 * 1024**3 // 8)", LAMBDAS),
        "calls-os-exit": _notebook(GOOD_P2, "import os\nos._exit(0)", LAMBDAS),
        "writes-fake-results": _notebook(
            "import json, pathlib\n"
            f"target = pathlib.Path({str(out_dir)!r}) / 'writes-fake-results'\n"
            "target.mkdir(parents=True, exist_ok=True)\n"
            "(target / 'results.json').write_text(json.dumps({'score': 60, 'tests': []}))",
            "open('results.json', 'w').write('{\"score\": 60}')",
            LAMBDAS,
        ),
        "patches-allclose": _notebook(
            "import numpy as np\n"
            "np.allclose = lambda *a, **k: True\n"
            "np.isclose = lambda a, b, *r, **k: np.ones_like(np.asarray(a), dtype=bool)\n"
            "def optimal_bandwidth(c1, c2, n, p):\n    return 1.0\n"
            "def risk_bound(c1, c2, n, p):\n    return 1.0",
            LAMBDAS,
        ),
        "fakes-the-checker": _notebook(
            "import sys, types\n"
            "fake = types.ModuleType('autograder')\n"
            "sys.modules['autograder'] = fake\n"
            "def optimal_bandwidth(c1, c2, n, p):\n    return 1.0",
            LAMBDAS,
        ),
        "reads-answer-key": _notebook(
            f"import json\nS_hat = json.load(open({str(key_path)!r}))['support']",
            LAMBDAS,
        ),
        "uses-the-network": _notebook(
            f"import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/', timeout=3).read()",
            LAMBDAS,
        ),
        "forks-many": _notebook(
            GOOD_P2,
            "import os, time\n"
            "children = []\n"
            "for _ in range(600):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        time.sleep(3)\n"
            "        os._exit(0)\n"
            "    children.append(pid)",
            LAMBDAS,
        ),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One batch with every scenario, plus an unreadable file and a zip, graded with -j 2."""
    root = tmp_path_factory.mktemp("isolation")
    raw = project_config()  # its student environment: the project's
    raw["limits"].update(cell_timeout_s=8, notebook_timeout_s=90, memory_mb=2048, max_processes=128, probe_budget_s=10)
    (root / "grading.yml").write_text(yaml.safe_dump(raw))
    config = load_config(root / "grading.yml")
    problem1.generate(config)
    problem4.generate(config, segments=config.data.problem4.test_segments, images_per_segment=128)
    folder, out = root / "submissions", root / "out"
    folder.mkdir()
    served = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            served.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for name, nb in _scenarios(problem1.key_path(config), out, server.server_address[1]).items():
            nbformat.write(nb, folder / f"{name}.ipynb")
        (folder / "not-a-notebook.ipynb").write_text("this is not JSON")
        (folder / "json-not-a-notebook.ipynb").write_text("42")
        (folder / "notebook-without-cells.ipynb").write_text('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
        with zipfile.ZipFile(folder / "zipped.zip", "w") as archive:
            archive.writestr("assn1.ipynb", nbformat.writes(_notebook(GOOD_P2, LAMBDAS)))
            archive.writestr("brain_food_model_1.keras", b"not really a model")
        options = GradeOptions(config.path, out, isolation="auto")
        results = grade_batch(config, find_submissions([folder]), options, jobs=2, progress=False)
    finally:
        server.shutdown()
    for result in results:
        write_results(result, out / result.name)
    write_gradebook(results, out / "final_grades.csv")
    return config, {r.name: r for r in results}, out, served


def _points(result, question):
    return next(q for q in result.questions if q.name == question).points


def _passed(result, check_id):
    question = next(q for q in result.questions if q.name == check_id.split(".")[0])
    return any(c.check_id == check_id and c.passed for c in question.checks)


def _cells(out: Path, name: str):
    return nbformat.read(out / name / "executed.ipynb", as_version=4).cells


def test_a_plain_notebook_gets_its_points(graded):
    _, results, _, _ = graded
    good = results["good-p2"]
    assert good.status is Status.COMPLETED and not good.all_concerns
    assert _points(good, "q2_1") == 2 and _passed(good, "q3_3.lambdas_chosen")
    assert _points(good, "q1_2_S") == 0


@pytest.mark.parametrize("name", ["loops-forever", "allocates-20gb", "calls-os-exit"])
def test_a_runaway_cell_costs_only_itself_and_the_limit_is_named(graded, name):
    """The cell is stopped (timeout, MemoryError, dead kernel); the answers before and after still count,
    and the submission needs the instructor's attention, naming the cell and the limit."""
    _, results, out, _ = graded
    result = results[name]
    assert result.status is Status.NEEDS_ATTENTION and not result.grader_fault
    assert _points(result, "q2_1") == 2 and _passed(result, "q3_3.lambdas_chosen")
    expected = {
        "loops-forever": "cell 2 was stopped at the cell time limit (8 s, limits.cell_timeout_s)",
        "allocates-20gb": "cell 2 ran out of memory (limits.memory_mb = 2048)",
        "calls-os-exit": "the kernel died in cell 2 (the 2048 MB memory limit, or the code ended it)",
    }
    assert [c.kind for c in result.all_concerns] == ["limit"], result.all_concerns
    assert expected[name] in result.all_concerns[0].text
    row = next(r for r in csv.DictReader(open(out / "final_grades.csv")) if r["file"] == f"{name}.ipynb")
    assert row["grading_status"].startswith(f"Needs attention: {expected[name]}")


def test_a_fake_results_file_changes_nothing(graded):
    _, results, out, _ = graded
    written = json.loads((out / "writes-fake-results" / "results.json").read_text())
    assert written["score"] == results["writes-fake-results"].total < 60 and written["tests"]
    errors = [
        o for c in _cells(out, "writes-fake-results") for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    if results["writes-fake-results"].isolation == "bubblewrap":
        assert errors and errors[0]["ename"] in ("OSError", "PermissionError"), (
            "the output folder is read-only in the sandbox"
        )


@pytest.mark.parametrize("name", ["patches-allclose", "fakes-the-checker"])
def test_tampering_inside_the_kernel_does_not_raise_the_grade(graded, name):
    _, results, _, _ = graded
    assert _points(results[name], "q2_1") < 1, "comparisons happen in the grader, and probes load their own code"


def test_the_answer_key_is_not_readable_from_the_kernel(graded):
    _, results, out, _ = graded
    result = results["reads-answer-key"]
    assert _points(result, "q1_2_S") == 0
    errors = [
        o for c in _cells(out, "reads-answer-key") for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert errors and errors[0]["ename"] in ("FileNotFoundError", "PermissionError")


def test_the_network_is_cut(graded):
    _, results, out, served = graded
    if results["uses-the-network"].isolation != "bubblewrap":
        pytest.skip(
            "only bubblewrap cuts the network; this machine fell back to " + results["uses-the-network"].isolation
        )
    assert served == [], "the kernel reached a server on this machine"
    errors = [
        o for c in _cells(out, "uses-the-network") for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert errors and errors[0]["ename"] in ("URLError", "OSError", "ConnectionRefusedError")


def test_forking_is_capped(graded):
    _, results, out, _ = graded
    result = results["forks-many"]
    if "no process cap" in result.notes[0]:
        pytest.skip("no process cap on this machine: " + result.notes[0])
    errors = [o for c in _cells(out, "forks-many") for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "BlockingIOError", "the cap stopped the forks"
    assert _points(result, "q2_1") == 2, "answers from before the fork cell still count"


@pytest.mark.parametrize(
    "name, reason",
    [
        ("not-a-notebook", "not-a-notebook.ipynb is not a Jupyter notebook: not valid JSON"),
        (
            "json-not-a-notebook",
            "json-not-a-notebook.ipynb is not a Jupyter notebook: it holds a number, not a notebook's object of cells",
        ),
        ("notebook-without-cells", "notebook-without-cells.ipynb is not a Jupyter notebook: it has no list of `cells`"),
    ],
)
def test_an_unreadable_file_gets_a_row_saying_why_in_one_sentence(graded, name, reason):
    _, results, out, _ = graded
    assert results[name].status is Status.NOT_GRADED and results[name].not_graded == reason
    rows = {r["file"]: r for r in csv.DictReader(open(out / "final_grades.csv"))}
    assert rows[f"{name}.ipynb"]["grading_status"] == f"Not graded: {reason}"


def test_a_zip_submission_is_unpacked_and_graded(graded):
    _, results, _, _ = graded
    assert _points(results["zipped"], "q2_1") == 2


def test_isolation_level_is_reported(graded):
    config, results, _, _ = graded
    level = sandbox.choose_isolation("auto").level
    assert all(r.isolation == level for r in results.values())
    assert all(
        r.notes[0].startswith(f"isolation: {level}") for r in results.values() if r.status is not Status.NOT_GRADED
    )


# Gradescope's documented results.json format (the fields this project writes).
GRADESCOPE_SCHEMA = {
    "type": "object",
    "required": ["score", "execution_time", "output", "stdout_visibility", "tests"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "status", "output", "visibility"],
                "properties": {
                    "name": {"type": "string"},
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "output": {"type": "string"},
                    "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
                },
                "additionalProperties": False,
            },
        },
    },
}


def test_results_json_follows_gradescopes_schema(graded):
    import jsonschema

    config, results, out, _ = graded
    for name, result in results.items():
        data = json.loads((out / name / "results.json").read_text())
        jsonschema.validate(data, GRADESCOPE_SCHEMA)
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
        hidden = [t for t in data["tests"] if t["name"].endswith("(hidden)")]
        assert all(t["visibility"] == "after_published" for t in hidden)
        assert bool(hidden) == (result.status is not Status.NOT_GRADED), name
        assert "Graded by hand: 1.2 Explanation and justification (3 points)" in data["output"]


def test_same_submission_same_grade_whatever_the_jobs(graded, tmp_path):
    config, results, _, _ = graded
    folder = tmp_path / "again"
    folder.mkdir()
    names = ["good-p2", "patches-allclose", "calls-os-exit"]
    for name in names:
        (folder / f"{name}.ipynb").write_text(nbformat.writes(_scenarios(Path("/nonexistent"), tmp_path, 9)[name]))
    again = grade_batch(
        config, find_submissions([folder]), GradeOptions(config.path, tmp_path / "out"), jobs=1, progress=False
    )
    for result in again:
        before = {q.name: q.points for q in results[result.name].questions}
        assert {q.name: q.points for q in result.questions} == before, result.name


def test_check_command_prints_the_public_table(graded, tmp_path, capsys):
    """A student reads public points out of the public maximum, and what hidden checks carry besides."""
    import re

    from autograder.cli import main

    config, _, _, _ = graded
    notebook = tmp_path / "mine.ipynb"
    notebook.write_text(nbformat.writes(_notebook(GOOD_P2.replace("p * c2", "c2"), LAMBDAS)))
    page = tmp_path / "mine.html"
    assert main(["--config", str(config.path), "check", str(notebook), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "2.1 Optimal bandwidth and risk bound (functions)" in out and "does not minimize" in out
    assert re.search(r"0\.50 / 1\s+failed\s+\(\+1 in hidden checks\)", out), out
    assert re.search(r"0\.50 / 0\.5\s+ok\b", out), "3.3's public check passed: ok"
    assert "hidden checks carry 12.75 more points when your submission is graded; 22 are graded by hand." in out
    assert "q1_2_S.support_recovery" not in out and "(hidden)" not in out
    assert "brain_food_model_1.keras could not be graded: it was not submitted next to the notebook" in out
    html = page.read_text()
    assert "2 hidden checks worth 1 point will be shown when grades are published." in html
