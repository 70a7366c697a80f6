"""The graders' pages for the hand-graded questions: one per question with every submission's answer
(markdown and math rendered, images re-encoded), how it was found, the suggested verdicts of its
formulas, and the score and comment a grader entered; and an index of the questions with counts.

The answers are the submissions' text: rendered by `pages.markdown` (raw HTML stays text), everything
else through autoescaping. A suggestion is shown as a suggestion, beside the score, never as one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from autograder.config import Config
from autograder.gradebook import ManualScore
from autograder.manual.extract import Answer
from autograder.manual.formulas import VERDICTS, Suggestion
from autograder.pages.images import reencode
from autograder.pages.markdown import render_markdown, render_math
from autograder.pages.render import render
from autograder.pages.report import feedback_link

INDEX = "index.html"
MAX_IMAGES = 6  # per answer: the first ones shown, the rest counted
IMAGE_SIDE = 800  # pixels
METHODS = {
    "markers": "between otter's BEGIN/END QUESTION markers",
    "heading": "after the question's heading (the notebook has no markers for it)",
    "prompt": "after the question's prompt (no markers, no numbered heading)",
    "none": "not found in the notebook",
}


@dataclass(frozen=True)
class AnswerView:
    """One submission's answer to the page's question, ready for the template."""

    submission: str
    link: str | None  # the submission's feedback page, at this question's card
    method: str
    state: str  # "answered", "blank" or "not found"
    parts: list[dict] = field(default_factory=list)
    suggestions: list[dict] = field(default_factory=list)
    score: ManualScore | None = None


def page_name(question: str) -> str:
    """The file of a question's page in OUT/manual/."""
    return f"{question}.html"


def manual_pages(
    config: Config,
    answers: Mapping[str, Mapping[str, Answer]],
    suggestions: Mapping[str, Sequence[Suggestion]],
    scores: Mapping[str, Mapping[str, ManualScore]],
    linked: Collection[str] = (),
    report: bool = False,
) -> dict[str, str]:
    """Each hand-graded question's page and the index, by file name. `answers`, `suggestions` and
    `scores` are by submission; `linked`: the submissions with a feedback page to link to; `report`:
    whether the index links to the class report."""
    questions = {
        q: question for p in config.problems.values() for q, question in p.questions.items() if question.manual
    }
    pages, rows = {}, []
    for q, question in questions.items():
        views = [
            _view(
                name,
                answers[name].get(q),
                [s for s in suggestions.get(name, ()) if s.question == q],
                scores.get(name, {}).get(q),
                "../" + feedback_link(name, f"q-{q}") if name in linked else None,
            )
            for name in sorted(answers)
        ]
        summary = _summary(views)
        rows.append({"name": q, "title": question.title, "points": question.points, "page": page_name(q), **summary})
        pages[page_name(q)] = render(
            "manual_question.html.j2",
            title=config.assignment.title,
            question=q,
            heading=question.title,
            points=question.points,
            answers=views,
            summary=summary,
            methods=METHODS,
        )
    pages[INDEX] = render(
        "manual_index.html.j2", title=config.assignment.title, rows=rows, count=len(answers), report=report
    )
    return pages


def _view(
    name: str, answer: Answer | None, suggestions: list[Suggestion], score: ManualScore | None, link: str | None
) -> AnswerView:
    answer = answer or Answer("", "", "none")
    state = "not found" if answer.method == "none" else "blank" if answer.blank else "answered"
    shown = [
        {**vars(s), "math": render_math(s.latex) if s.latex else ""}
        for s in suggestions
        if not (s.verdict == "absent" and state != "answered")  # nothing written: "absent" says no more
    ]
    return AnswerView(name, link, answer.method, state, _parts(answer), shown, score)


def _parts(answer: Answer) -> list[dict]:
    """The answer's pieces in notebook order: markdown rendered, code and text outputs as text, images
    re-encoded (the first MAX_IMAGES), missing images named."""
    out, images = [], 0
    for part in answer.parts:
        if part.kind == "markdown" or (part.kind == "output" and part.mime in ("text/markdown", "text/latex")):
            out.append({"kind": "markdown", "html": render_markdown(part.text)})
        elif part.kind in ("code", "output"):
            out.append({"kind": part.kind, "text": part.text})
        elif part.kind == "missing image":
            out.append({"kind": "missing", "text": part.where, "alt": part.text})
        elif images >= MAX_IMAGES:
            images += 1
        else:
            images += 1
            png = reencode(part.data, IMAGE_SIDE)
            what = f"{part.mime or 'an image'} ({part.where})"
            out.append({"kind": "image" if png else "unreadable", "png": png, "alt": part.text, "where": what})
    if images > MAX_IMAGES:
        out.append({"kind": "more", "text": f"{images - MAX_IMAGES} more image(s) not shown"})
    return out


def _summary(views: list[AnswerView]) -> dict:
    """A question's counts: answers by state and method, scores entered, and each formula's verdicts."""
    verdicts: dict[str, Counter] = {}
    for view in views:
        for s in view.suggestions:
            verdicts.setdefault(s["title"], Counter())[s["verdict"]] += 1
    return {
        "states": Counter(v.state for v in views),
        "methods": Counter(v.method for v in views),
        "scored": sum(v.score is not None for v in views),
        "submissions": len(views),
        "verdicts": {t: [(v, c[v]) for v in VERDICTS if c[v]] for t, c in verdicts.items()},
    }
