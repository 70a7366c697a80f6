"""Student code runs in the students' environment (grading.yml `environment`), and drift is flagged, not scored.

One small notebook written for the pinned releases: `LassoCV(n_alphas=...)` (accepted by the pinned
scikit-learn 1.6.1, rejected by the newest), `np.matvec` (in the newest numpy, not in the pinned 2.1.3),
and two ordinary mistakes (a NameError, a wrong shape). Graded by `assn1 grade`, its scikit-learn cell
runs cleanly, the numpy cell is flagged as a possible library version difference with the library and
its version, the ordinary mistakes are not, and the points stand.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json

import nbformat
import pytest
import yaml

from autograder import environment
from autograder.cli import main
from autograder.config import load_config
from autograder.data import problem1, problem4

from conftest import project_config
from engine.test_isolation import GOOD_P2, LAMBDAS

VERSIONS = "import sys, numpy, sklearn\nprint(sys.executable, numpy.__version__, sklearn.__version__)"
PINNED_ONLY = """
from sklearn.linear_model import LassoCV
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3))
y = X @ np.array([1.0, 0.0, 0.5]) + rng.normal(size=40)
print("alphas:", len(LassoCV(n_alphas=20, cv=3).fit(X, y).alphas_))
"""
NEWEST_ONLY = "np.matvec(np.eye(2), np.ones(2))"
CELLS = [GOOD_P2, LAMBDAS, VERSIONS, PINNED_ONLY, NEWEST_ONLY, "undefined_answer + 1", "np.ones(3) @ np.ones(4)"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("student-env")
    (root / "grading.yml").write_text(yaml.safe_dump(project_config()))
    config = load_config(root / "grading.yml")
    problem1.generate(config)
    problem4.generate(config, segments=config.data.problem4.test_segments, images_per_segment=128)
    (root / "submissions").mkdir()
    cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), root / "submissions" / "colab_term.ipynb")
    return config, root


@pytest.fixture(scope="module")
def outcome(graded):
    config, root = graded
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = main(["--config", str(config.path), "grade", str(root / "submissions"), "-o", str(root / "out")])
    out = root / "out"
    row = next(r for r in csv.DictReader(open(out / "final_grades.csv")) if r["file"] == "colab_term.ipynb")
    executed = nbformat.read(out / "colab_term" / "executed.ipynb", as_version=4)
    return status, printed.getvalue(), row, json.loads((out / "colab_term" / "results.json").read_text()), executed


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_the_kernel_runs_the_pinned_releases_from_the_student_environment(graded, outcome):
    config, _ = graded
    _, _, _, _, executed = outcome
    python, numpy, sklearn = _text(executed.cells[2]).split()
    assert python == str(environment.interpreter(config.environment.dir))
    assert (numpy, sklearn) == (config.environment.packages["numpy"], config.environment.packages["scikit-learn"])


def test_an_argument_of_the_pinned_release_runs_cleanly(outcome):
    _, _, _, _, executed = outcome
    assert not [o for o in executed.cells[3].outputs if o.output_type == "error"]
    assert _text(executed.cells[3]).strip() == "alphas: 20"


def test_an_api_the_pinned_release_lacks_is_flagged_with_library_and_version_everywhere(graded, outcome):
    config, _ = graded
    status, printed, row, results, _ = outcome
    numpy = config.environment.packages["numpy"]
    expected = (
        "possible library version difference: cell 5 raised AttributeError: module 'numpy' has no attribute "
        f"'matvec' (numpy {numpy} in the student environment; `numpy.matvec` does not exist in this version)"
    )
    assert row["grading_status"] == f"Needs attention: {expected}", "one concern: the ordinary errors are not flagged"
    assert f"colab_term: {expected}" in printed, "the summary lists it"
    assert f"- {expected}" in results["output"], "results.json says it"
    assert status == 0, "a flag for the instructor, not a grader fault"


def test_the_points_stand(outcome):
    _, _, row, results, _ = outcome
    assert float(row["q2_1"]) == 2 and float(row["q3_3"]) == 0.5, "the answers before and after the error count"
    assert float(row["total_points_earned"]) == results["score"] == 2.5


def test_the_results_name_the_environment_student_code_ran_in(graded, outcome):
    config, _ = graded
    _, _, _, results, _ = outcome
    assert f"student environment: {config.environment.name} (Python " in results["output"]


def test_the_newest_releases_reject_what_the_pins_accept():
    """The premise of this file, in the grader's own environment (the newest releases): the notebook's
    scikit-learn cell fails there and its numpy cell works. If this fails, pick another example."""
    import numpy as np
    from sklearn.linear_model import LassoCV

    with pytest.raises(TypeError, match="unexpected keyword argument 'n_alphas'"):
        LassoCV(n_alphas=20)
    assert hasattr(np, "matvec")
