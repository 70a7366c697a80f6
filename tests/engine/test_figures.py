"""Figure checks judge the figures their own question's cells displayed, recorded out of the notebook's reach.

Small notebooks, one batch: a figure drawn for another question earns nothing for 1.1, a 1.1 figure is
found under any common heading, the message names what the figure lacks, and records planted by the
notebook (in its globals, its modules, or as display messages of the grader's own type) count for nothing.
"""

from __future__ import annotations

import json

import nbformat
import pytest
import yaml

from autograder.data import problem1
from autograder.execution import FIGURES_MIME, take_figures
from autograder.grading import GradeOptions, grade_batch
from autograder.submissions import find_submissions

from conftest import project_config

PATHS = """
import numpy as np
import matplotlib.pyplot as plt
alphas = np.logspace(-3, 0, 30)
fig, ax = plt.subplots()
for j in range(60):
    ax.plot(alphas, np.exp(-alphas * (j + 1)))
"""
LOG_LABELLED = "ax.set_xscale('log')\nax.set_xlabel('alpha')\nax.set_ylabel('coefficient')\nplt.show()"
COD = """
import numpy as np
import matplotlib.pyplot as plt
risks = np.linspace(0.1, 0.5, 9)
fig, ax = plt.subplots()
for p in range(1, 21):
    ax.plot(risks, risks ** (-(p + 4) / 4))
ax.set_xscale('log'); ax.set_yscale('log'); ax.set_xlabel('risk'); ax.set_ylabel('n')
plt.show()
"""
PLANT = (
    """
import sys, numpy as np, matplotlib.pyplot as plt
from IPython.display import publish_display_data
fake = {"axes": [{"xscale": "log", "yscale": "linear", "xlabel": "a", "ylabel": "b", "title": "", "n_lines": 60,
                  "line_collection_segments": 0, "n_collections": 0, "lines": []}]}
for scope in [globals()] + [vars(m) for m in list(sys.modules.values()) if m is not None]:
    for value in list(scope.values()):
        if isinstance(value, list) and value and isinstance(value[0], dict) and "axes" in value[0]:
            value.append(fake)
publish_display_data({%r: {"token": "guess", "figures": [fake]}})
plt.plot([1, 2], [3, 4]); plt.show()
"""
    % FIGURES_MIME
)


def _md(text: str):
    return nbformat.v4.new_markdown_cell(text)


def _code(text: str):
    return nbformat.v4.new_code_cell(text)


NOTEBOOKS = {
    "good-paths": [_md("### 1.1 Lasso regularization paths"), _code(PATHS + LOG_LABELLED)],
    "linear-paths": [
        _md("### 1.1 Lasso regularization paths"),
        _code(PATHS + "ax.set_xlabel('a'); ax.set_ylabel('b')"),
    ],
    "figure-only-for-2-3": [_md("### 1.1 Lasso paths"), _code("x = 1"), _md("### 2.3 The cursed COD"), _code(COD)],
    "bold-heading": [_md("**1.1** the paths"), _code(PATHS + LOG_LABELLED)],
    "problem-heading": [_md("Problem 1.1"), _code(PATHS + LOG_LABELLED)],
    "comment-heading": [_code("# 1.1 lasso paths\n" + PATHS + LOG_LABELLED)],
    "plants-records": [
        _code("import matplotlib.pyplot as plt\nplt.plot([0, 1], [0, 1]); plt.show()"),  # something to find
        _md("### 1.1 Lasso regularization paths"),
        _code(PLANT),
    ],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("figures")
    raw = project_config()  # its student environment: the project's
    (root / "grading.yml").write_text(yaml.safe_dump(raw))
    from autograder.config import load_config

    config = load_config(root / "grading.yml")
    problem1.generate(config)
    folder = root / "submissions"
    folder.mkdir()
    for name, cells in NOTEBOOKS.items():
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / f"{name}.ipynb")
    out = root / "out"
    results = grade_batch(config, find_submissions([folder]), GradeOptions(config.path, out), jobs=2, progress=False)
    return {r.name: r for r in results}, out


def _check(result, check_id: str):
    return next(c for q in result.questions for c in q.checks if c.check_id == check_id)


@pytest.mark.parametrize("name", ["good-paths", "bold-heading", "problem-heading", "comment-heading"])
def test_a_path_plot_under_any_common_heading_earns_its_points(graded, name):
    results, _ = graded
    check = _check(results[name], "q1_1.path_plot")
    assert check.status == "passed" and check.points == check.max_points, check.message


def test_the_message_names_what_the_figure_lacks(graded):
    results, _ = graded
    check = _check(results["linear-paths"], "q1_1.path_plot")
    assert check.status == "failed"
    # what it lacks comes first; the known mistake it looks like may follow
    assert check.message.startswith("the best lasso path plot found lacks: a log-scaled x axis.")
    assert check.points == pytest.approx(2.0)


def test_another_questions_figure_earns_nothing_for_1_1(graded):
    results, _ = graded
    result = results["figure-only-for-2-3"]
    check = _check(result, "q1_1.path_plot")
    assert check.status == "failed" and check.points == 0
    assert check.message == "no figure was found for 1.1 (the cells under its heading displayed none)."
    assert _check(result, "q2_3.cod_plot").passed, "the 2.3 figure counts for 2.3"


def test_planted_figure_records_gain_nothing(graded):
    results, out = graded
    check = _check(results["plants-records"], "q1_1.path_plot")
    assert check.points == 0, check.message  # judged on the real figure: one unlabelled line, linear axes
    assert check.message.startswith("the best lasso path plot found lacks: a log-scaled x axis; labels on both axes")
    executed = nbformat.read(out / "plants-records" / "executed.ipynb", as_version=4)
    outputs = [o for cell in executed.cells for o in cell.get("outputs", [])]
    assert outputs and FIGURES_MIME not in json.dumps(outputs), "figure messages are taken out of the executed notebook"


def test_figure_messages_count_only_with_the_token_and_a_displayed_image():
    figure = {"axes": []}
    message = {
        "output_type": "display_data",
        "metadata": {},
        "data": {FIGURES_MIME: {"token": "t", "figures": [figure]}},
    }
    image = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}}
    cell = nbformat.from_dict({"cell_type": "code", "source": "", "metadata": {}, "outputs": [message, image]})
    assert take_figures(cell, "t") == [figure] and cell.outputs == [image]
    cell = nbformat.from_dict({"cell_type": "code", "source": "", "metadata": {}, "outputs": [message, image]})
    assert take_figures(cell, "other") == [] and cell.outputs == [image]
    cell = nbformat.from_dict({"cell_type": "code", "source": "", "metadata": {}, "outputs": [message]})
    assert take_figures(cell, "t") == [], "a record counts only if the cell displayed a figure"
