"""A student's feedback page: per question the points, each check's outcome and message, the figures
the notebook displayed beside the reference's, what the plot checks looked at, and the measured files."""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat

from autograder.config import Config
from autograder.judging import decode
from autograder.pages.images import reencode
from autograder.pages.render import render
from autograder.reports import concern_line
from autograder.results import CheckResult, Status, SubmissionResult
from autograder.spans import question_cells, question_label
from autograder.suite import ITEMS

MAX_IMAGES = 6  # per question: the last ones a question's cells displayed


@dataclass(frozen=True)
class QuestionView:
    name: str
    title: str
    points: float
    max_points: float
    manual: bool
    checks: list[CheckResult]
    withheld: tuple[int, float]  # hidden checks not shown: how many, how many points
    images: list[str] = field(default_factory=list)  # base64 PNGs the question's cells displayed
    reference: str | None = None  # base64 PNG of the reference's figure
    looked_at: list[dict] = field(default_factory=list)  # what the plot checks read, per axes
    files: list[dict] = field(default_factory=list)  # measured files: name, facts, reported values


def feedback_page(
    config: Config,
    result: SubmissionResult,
    executed: nbformat.NotebookNode | None,
    references: dict[str, str],
    show_hidden: bool = False,
) -> str:
    """The page of one submission; hidden checks appear only with `show_hidden` (the instructor's copy)."""
    labels = {
        q: question_label(question.title) for p in config.problems.values() for q, question in p.questions.items()
    }
    known = [label for label in labels.values() if label]
    cells = executed.cells if executed is not None else []
    problems = []
    for pname, problem in config.problems.items():
        views = []
        for q in problem.questions:
            score = next(s for s in result.questions if s.name == q)
            shown = [c for c in score.checks if show_hidden or not c.hidden]
            hidden = [] if show_hidden else [c for c in problem.questions[q].checks.values() if c.hidden]
            label = labels[q]
            span = question_cells(cells, label, known) if label else []
            views.append(
                QuestionView(
                    q,
                    score.title,
                    score.points,
                    score.max_points,
                    score.manual,
                    shown,
                    (len(hidden), sum(c.points for c in hidden)),
                    images=[] if score.manual else _images([cells[i] for i in span]),
                    reference=references.get(q),
                    looked_at=_looked_at(result.observations, shown),
                    files=_files(result.observations, shown, show_hidden),
                )
            )
        problems.append(
            {
                "name": pname,
                "title": problem.title,
                "points": problem.points,
                "questions": views,
                "earned": sum(v.points for v in views if not v.manual),
            }
        )
    concerns = [concern_line(c, public=not show_hidden) for c in result.grouped_concerns]
    return render(
        "feedback.html.j2",
        title=config.assignment.title,
        result=result,
        problems=problems,
        concerns=concerns,
        status=result.status_text if show_hidden else result.status.value,
        not_graded=result.status is Status.NOT_GRADED,
        show_hidden=show_hidden,
    )


def _images(cells: list) -> list[str]:
    """The images the cells displayed, re-encoded (the last MAX_IMAGES)."""
    found = []
    for cell in cells:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data", {}) if output.get("output_type") in ("display_data", "execute_result") else {}
            if "image/png" in data:
                found.append(data["image/png"])
    shown = [reencode(image) for image in found[-MAX_IMAGES:]]
    return [image for image in shown if image]


def _looked_at(observations: dict, checks: list[CheckResult]) -> list[dict]:
    """Per axes of the figures a plot check read: its scales, labels and number of curves."""
    rows = []
    for check in checks:
        if not ITEMS[check.check_id].engine_only:
            continue
        observed = decode(observations.get(check.check_id))
        if not isinstance(observed, dict):
            continue
        for n, figure in enumerate(observed.get("figures", []), start=1):
            for ax in figure.get("axes", []):
                rows.append(
                    {
                        "figure": n,
                        "x": f"{ax.get('xscale')} scale, label {ax.get('xlabel') or '(none)'!r}",
                        "y": f"{ax.get('yscale')} scale, label {ax.get('ylabel') or '(none)'!r}",
                        "curves": ax.get("n_lines", 0) + ax.get("line_collection_segments", 0),
                    }
                )
        break  # one plot check per question reads these figures
    return rows


def _files(observations: dict, checks: list[CheckResult], show_causes: bool) -> list[dict]:
    """The files the question's checks measured: their facts (as the grader measured them) and the
    values the notebook reported beside them. A measurement the grader could not make is named, its
    cause shown only with `show_causes` (the instructor's copy)."""
    out, seen = [], set()
    for check in checks:
        item = ITEMS[check.check_id]
        observed = decode(observations.get(check.check_id))
        if item.file is None or item.file.name in seen or not isinstance(observed, dict):
            continue
        seen.add(item.file.name)
        facts = observed.get("file") or {}
        if facts.get("fault") == "grader" and not show_causes:
            facts = {"measurement": "not made: a problem on the grader's side, not in your file"}
        reported = {
            **(observed.get("printed") or {}),
            **{k: v for k, v in (observed.get("answers") or {}).items() if v is not None},
        }
        out.append({"name": item.file.name, "facts": _facts(facts), "reported": reported})
    return out


def _facts(facts: dict) -> list[tuple[str, str]]:
    """A measurement as rows: plain values as they are, lists of records (layers) as one line."""
    rows = []
    for key, value in facts.items():
        if key in ("fault", "weights_sha256", "input_shape", "output_shape", "onnx", "onnx_error"):
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            value = " > ".join(str(v.get("class", "?")) for v in value)
        elif isinstance(value, float):
            value = f"{value:.4f}"
        rows.append((key.replace("_", " "), str(value)))
    return rows
