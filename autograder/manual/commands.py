"""What `assn1 gradebook manual-template | import-manual | suggest` and `assn1 grade` do for the
hand-graded questions, given grading.yml and the output folder; the CLI only parses and prints."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from autograder.config import Config
from autograder.errors import Assn1Error
from autograder.gradebook import NAME, Gradebook, open_gradebook
from autograder.manual.review import export_suggestions, read_answers, refresh_suggestions
from autograder.manual.scores import manual_questions, read_scores, template_rows

FINAL_GRADES = "final_grades.csv"


@dataclass(frozen=True)
class Imported:
    scores: int
    submissions: int
    questions: int
    final_grades: Path


def manual_table(gradebook: Gradebook) -> dict[str, dict[str, float]]:
    """The hand-entered scores as final_grades.csv takes them: submission -> question -> score."""
    return {name: {q: m.score for q, m in by_q.items()} for name, by_q in gradebook.manual_scores().items()}


def manual_template(config: Config, out: Path, questions: list[str]) -> str:
    """The template's CSV text: one row per hand-graded question and stored submission."""
    unknown = [q for q in questions if q not in manual_questions(config)]
    if unknown:
        raise Assn1Error(
            f"--question {unknown[0]}: not a hand-graded question; use one of {', '.join(manual_questions(config))}."
        )
    with _opened(out) as gradebook:
        stored = gradebook.load()
        suggestions = refresh_suggestions(config, out, gradebook)
        answers = {name: read_answers(config, out, s) for name, s in stored.items()}
        rows = template_rows(config, list(stored), answers, suggestions, gradebook.manual_scores(), questions)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def import_manual(config: Config, out: Path, file: Path, grader: str) -> Imported:
    """Validate a filled template whole, store its scores in one transaction, and export final_grades.csv."""
    from autograder.reports import write_gradebook

    with _opened(out) as gradebook:
        stored = gradebook.load()
        scores = read_scores(file, config, set(stored), grader)
        gradebook.record_manual(scores)
        results = [s.result(config) for s in stored.values()]
        write_gradebook(results, out / FINAL_GRADES, manual_table(gradebook))
    return Imported(
        len(scores), len({s.submission for s in scores}), len({s.question for s in scores}), out / FINAL_GRADES
    )


def suggestions_csv(config: Config, out: Path) -> Path:
    with _opened(out) as gradebook:
        return export_suggestions(config, out, gradebook)


class _opened:
    """The gradebook of an output folder that `assn1 grade` made, closed on exit."""

    def __init__(self, out: Path):
        if not (out / NAME).is_file():
            raise Assn1Error(f"{out / NAME} not found; `assn1 grade ... -o {out}` makes it.")
        self.gradebook = open_gradebook(out)

    def __enter__(self) -> Gradebook:
        return self.gradebook

    def __exit__(self, *exc) -> None:
        self.gradebook.close()
