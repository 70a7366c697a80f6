"""Writing the pages of a batch into OUT: each submission's feedback.html, the class report.html, and
the graders' pages of the hand-graded questions in OUT/manual/."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path

import nbformat

from autograder.config import Config
from autograder.derived import open_derived
from autograder.fingerprint import derived_digest
from autograder.gradebook import ManualScore
from autograder.manual.extract import Answer
from autograder.manual.formulas import Suggestion
from autograder.pages.feedback import feedback_page
from autograder.pages.images import figure_png
from autograder.pages.report import report_page
from autograder.reports import write_text
from autograder.results import SubmissionResult


def reference_figures(config: Config) -> dict[str, str]:
    """Each question's reference figure on this data, as a base64 PNG, drawn again only when what they are
    drawn from changed (the course's cache); a figure that can't be drawn (its data missing) is left out
    with a warning, said again each time."""
    from autograder.suite import REFERENCE_FIGURES

    with closing(open_derived(config.data.cache_dir)) as derived:
        made_from = derived_digest(config, list(REFERENCE_FIGURES), derived.digest)
        drawn = derived.remember("reference figures", made_from, lambda: _draw_reference_figures(config))
    for warning in drawn["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return drawn["figures"]


def _draw_reference_figures(config: Config) -> dict:
    from matplotlib.figure import Figure  # noqa: F401 - loads the Agg canvas the figures use

    from autograder.keys import key_context
    from autograder.suite import REFERENCE_FIGURES

    figures, warnings = {}, []
    for question, draw in REFERENCE_FIGURES.items():
        try:
            figures[question] = figure_png(draw(key_context(config, question)))
        except Exception as exc:  # noqa: BLE001 - a page without the reference's figure is still a page
            warnings.append(f"the reference figure of {question} was not drawn: {exc}")
    return {"figures": figures, "warnings": warnings}


def write_pages(
    config: Config,
    results: list[SubmissionResult],
    out: Path,
    only: set[str] | None = None,
    show_hidden: bool = False,
    wall_s: float | None = None,
    manual: Mapping[str, Mapping[str, ManualScore]] | None = None,
) -> None:
    """feedback.html for the submissions named in `only` (all when None, and any whose page is missing),
    with the graders' scores of `manual` (by submission and question), and report.html for them all."""
    todo = [r for r in results if only is None or r.name in only or not (out / r.name / "feedback.html").exists()]
    references = reference_figures(config) if todo else {}
    for result in todo:
        executed = out / result.name / "executed.ipynb"
        notebook = nbformat.read(executed, as_version=4) if executed.is_file() else None
        write_text(
            feedback_page(config, result, notebook, references, show_hidden, (manual or {}).get(result.name, {})),
            out / result.name / "feedback.html",
        )
    if todo or not (out / "report.html").exists():
        write_text(report_page(config, results, wall_s), out / "report.html")


def write_manual_pages(
    config: Config,
    out: Path,
    answers: Mapping[str, Mapping[str, Answer]],
    suggestions: Mapping[str, Sequence[Suggestion]],
    scores: Mapping[str, Mapping[str, ManualScore]],
) -> Path:
    """OUT/manual/: a page per hand-graded question and index.html (returned), linking each answer to
    its submission's feedback page where one exists."""
    from autograder.pages.manual import manual_pages

    linked = {name for name in answers if (out / name / "feedback.html").is_file()}
    for name, html in manual_pages(
        config, answers, suggestions, scores, linked, (out / "report.html").is_file()
    ).items():
        write_text(html, out / "manual" / name)
    return out / "manual" / "index.html"
