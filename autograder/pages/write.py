"""Writing the pages of a batch into OUT: each submission's feedback.html and the class report.html."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from autograder.config import Config
from autograder.pages.feedback import feedback_page
from autograder.pages.images import figure_png
from autograder.pages.report import report_page
from autograder.reports import write_text
from autograder.results import SubmissionResult


def reference_figures(config: Config) -> dict[str, str]:
    """Each question's reference figure on this data, as a base64 PNG; a figure that can't be drawn
    (its data missing) is left out with a warning."""
    from matplotlib.figure import Figure  # noqa: F401 - loads the Agg canvas the figures use

    from autograder.keys import key_context
    from autograder.suite import REFERENCE_FIGURES

    out = {}
    for question, draw in REFERENCE_FIGURES.items():
        try:
            out[question] = figure_png(draw(key_context(config, question)))
        except Exception as exc:  # noqa: BLE001 - a page without the reference's figure is still a page
            print(f"warning: the reference figure of {question} was not drawn: {exc}", file=sys.stderr)
    return out


def write_pages(
    config: Config,
    results: list[SubmissionResult],
    out: Path,
    only: set[str] | None = None,
    show_hidden: bool = False,
    wall_s: float | None = None,
) -> None:
    """feedback.html for the submissions named in `only` (all when None, and any whose page is missing),
    and report.html for them all."""
    todo = [r for r in results if only is None or r.name in only or not (out / r.name / "feedback.html").exists()]
    references = reference_figures(config) if todo else {}
    for result in todo:
        executed = out / result.name / "executed.ipynb"
        notebook = nbformat.read(executed, as_version=4) if executed.is_file() else None
        write_text(
            feedback_page(config, result, notebook, references, show_hidden), out / result.name / "feedback.html"
        )
    if todo or not (out / "report.html").exists():
        write_text(report_page(config, results, wall_s), out / "report.html")
