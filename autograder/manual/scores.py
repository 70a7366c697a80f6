"""The graders' scores for the hand-graded questions: the CSV template they fill, and its validated import.

`assn1 gradebook manual-template OUT` prints one row per submission and hand-graded question
(`TEMPLATE_COLUMNS`), sorted by question so a grader can take one question at a time, with the
suggestions for its formulas and any score already entered. `assn1 gradebook import-manual OUT FILE`
reads it back: a file with an unknown submission or question, a score that is not a number, negative
or above the question's points, a changed `points_possible`, or a row twice, is refused in one line that
names the file and row, and nothing of it is stored; rows left without a score are skipped.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Mapping, Sequence

from autograder.config import Config
from autograder.errors import Assn1Error
from autograder.gradebook import ManualScore
from autograder.manual.extract import Answer
from autograder.manual.formulas import Suggestion

TEMPLATE_COLUMNS = ["submission", "question", "points_possible", "suggestion", "score", "comment"]


class ManualScoresError(Assn1Error):
    """A file of hand-entered scores can't be imported: the message names the file, the row and the fix."""


def manual_questions(config: Config) -> dict[str, float]:
    """The hand-graded questions and their points, in grading.yml's order."""
    return {name: q.points for p in config.problems.values() for name, q in p.questions.items() if q.manual}


def suggestion_text(answer: Answer | None, suggestions: Sequence[Suggestion]) -> str:
    """The template's `suggestion` cell: whether an answer was found, and each formula's verdict."""
    notes = []
    if answer is None or answer.method == "none":
        notes.append("no answer found in the notebook")
    elif answer.blank:
        notes.append("answer left blank")
    elif answer.images and all(p.kind == "missing image" for p in answer.images) and not answer.text.strip():
        notes.append("image not submitted")
    missing = bool(notes)  # no answer at all: its formulas being absent says nothing more
    for s in suggestions:
        if s.verdict == "absent" and missing:
            continue
        detail = f" ({s.note})" if s.note and s.verdict in ("differs", "unreadable") else ""
        notes.append(f"{s.title}: {s.verdict}{detail}")
    return "; ".join(notes)


def template_rows(
    config: Config,
    submissions: Sequence[str],
    answers: Mapping[str, Mapping[str, Answer]],
    suggestions: Mapping[str, Sequence[Suggestion]],
    entered: Mapping[str, Mapping[str, ManualScore]],
    questions: Sequence[str] = (),
) -> list[list[str]]:
    """The template's rows (header first): per hand-graded question (or those of `questions`), per submission."""
    from autograder.reports import _num

    rows = [list(TEMPLATE_COLUMNS)]
    for question, points in manual_questions(config).items():
        if questions and question not in questions:
            continue
        for name in sorted(submissions):
            mine = [s for s in suggestions.get(name, ()) if s.question == question]
            held = entered.get(name, {}).get(question)
            rows.append(
                [
                    name,
                    question,
                    _num(points),
                    suggestion_text(answers.get(name, {}).get(question), mine),
                    _num(held.score) if held else "",
                    held.comment if held else "",
                ]
            )
    return rows


def read_scores(
    path, config: Config, submissions: set[str], grader: str, now: float | None = None
) -> list[ManualScore]:
    """The scores of a filled template, each checked; raises ManualScoresError at the first bad row
    (rows counted as a spreadsheet shows them, the header being row 1)."""
    now = time.time() if now is None else now
    possible = manual_questions(config)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            table = list(csv.reader(fh))
    except OSError as exc:
        raise ManualScoresError(f"{path}: cannot read it ({exc.strerror}).") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ManualScoresError(
            f"{path}: not a UTF-8 CSV file ({exc}); save it as CSV UTF-8 and import it again."
        ) from None
    if not table:
        raise ManualScoresError(
            f"{path}: the file is empty; fill in `assn1 gradebook manual-template` and import that."
        )
    header = [h.strip() for h in table[0]]
    missing = [c for c in TEMPLATE_COLUMNS if c not in header]
    if missing:
        raise ManualScoresError(
            f"{path} row 1: the column(s) {', '.join(missing)} are missing; keep the header of `assn1 gradebook manual-template`."
        )
    col = {c: header.index(c) for c in TEMPLATE_COLUMNS}
    out, seen = [], {}
    for number, raw in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue
        row = {c: (raw[i].strip() if i < len(raw) else "") for c, i in col.items()}
        where = f"{path} row {number}"
        name, question = row["submission"], row["question"]
        if name not in submissions:
            raise ManualScoresError(f"{where}: unknown submission {name!r}; use the names the template lists.")
        if question not in possible:
            raise ManualScoresError(
                f"{where}: {question!r} is not a hand-graded question; use one of {', '.join(possible)}."
            )
        if _number(row["points_possible"]) != possible[question]:
            raise ManualScoresError(
                f"{where}: points_possible for {question} was changed to {row['points_possible']!r}; "
                f"grading.yml gives {possible[question]:g}: restore it (points are set in grading.yml)."
            )
        if (name, question) in seen:
            raise ManualScoresError(
                f"{where}: {name} {question} is scored again (first in row {seen[name, question]}); keep one row."
            )
        seen[name, question] = number
        if not row["score"]:
            if row["comment"]:
                raise ManualScoresError(f"{where}: a comment without a score; enter the score, or clear the comment.")
            continue
        score = _number(row["score"])
        if score is None:
            raise ManualScoresError(f"{where}: the score {row['score']!r} is not a number.")
        if score < 0 or score > possible[question]:
            raise ManualScoresError(
                f"{where}: the score {row['score']} for {question} should be between 0 and {possible[question]:g}."
            )
        out.append(ManualScore(name, question, score, row["comment"], grader, now))
    return out


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
