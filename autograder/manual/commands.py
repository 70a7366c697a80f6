"""What `assn1 gradebook manual-template | import-manual | suggest` and `assn1 grade` do for the
hand-graded questions, given grading.yml and the output folder; the CLI only parses and prints.

The graders' files, `manual_suggestions.csv` and the pages in OUT/manual/, are written by `assn1 grade`
and again by `assn1 gradebook suggest` (both) and `import-manual` (the pages, with the new scores)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from autograder.config import Config
from autograder.errors import Assn1Error
from autograder.gradebook import NAME, Gradebook, open_gradebook
from autograder.manual.formulas import Judge
from autograder.manual.review import SUGGESTIONS_CSV, read_answers, refresh_suggestions, write_suggestions
from autograder.manual.scores import manual_questions, read_scores, template_rows

FINAL_GRADES = "final_grades.csv"


@dataclass(frozen=True)
class Imported:
    scores: int
    submissions: int
    questions: int
    final_grades: Path
    pages: Path  # OUT/manual/index.html


@dataclass(frozen=True)
class GraderFiles:
    suggestions: Path  # OUT/manual_suggestions.csv
    pages: Path  # OUT/manual/index.html


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


def import_manual(config: Config, out: Path, file: Path, grader: str, show_hidden: bool = False) -> Imported:
    """Validate a filled template whole, store its scores in one transaction, and export final_grades.csv;
    then write again the manual pages and the feedback pages of the submissions it scored (the
    instructor's copies with `show_hidden`)."""
    from autograder.pages.write import write_pages
    from autograder.reports import write_gradebook

    with _opened(out) as gradebook:
        stored = gradebook.load()
        scores = read_scores(file, config, set(stored), grader)
        gradebook.record_manual(scores)
        entered = gradebook.manual_scores()
        results = [s.result(config) for s in stored.values()]
        write_gradebook(results, out / FINAL_GRADES, manual_table(gradebook))
        pages = _manual_pages(config, out, gradebook, refresh_suggestions(config, out, gradebook))
    scored = {s.submission for s in scores}
    if scored:
        write_pages(config, results, out, scored, show_hidden, manual=entered)
    return Imported(len(scores), len(scored), len({s.question for s in scores}), out / FINAL_GRADES, pages)


def grader_files(config: Config, out: Path, judge: Judge | None = None) -> GraderFiles:
    """Bring the stored suggestions up to date (with `judge`, when the caller started one); write
    manual_suggestions.csv and the pages in OUT/manual/."""
    with _opened(out) as gradebook:
        suggestions = refresh_suggestions(config, out, gradebook, judge=judge)
        write_suggestions(suggestions, out / SUGGESTIONS_CSV)
        return GraderFiles(out / SUGGESTIONS_CSV, _manual_pages(config, out, gradebook, suggestions))


def _manual_pages(config: Config, out: Path, gradebook: Gradebook, suggestions: dict) -> Path:
    from autograder.pages.write import write_manual_pages

    answers = {name: read_answers(config, out, s) for name, s in gradebook.load().items()}
    return write_manual_pages(config, out, answers, suggestions, gradebook.manual_scores())


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
