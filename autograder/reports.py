"""What grading writes: otter's final_grades.csv, Gradescope's results.json, and a table for people."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from autograder.results import CheckResult, Concern, QuestionScore, Status, SubmissionResult

POINTS_POSSIBLE_LABEL = "points-per-question"  # otter's label for the first data row


def write_gradebook(results: list[SubmissionResult], path: Path) -> None:
    """final_grades.csv in otter's layout: file, one column per autograded question, total, percent, status."""
    if not results:
        return
    questions = [q for q in results[0].questions if not q.manual]
    names = sorted(q.name for q in questions)
    possible = {q.name: q.max_points for q in questions}
    total_possible = sum(possible.values())
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", *names, "total_points_earned", "percent_correct", "grading_status"])
        writer.writerow([POINTS_POSSIBLE_LABEL, *(_num(possible[n]) for n in names), _num(total_possible), 1, "--"])
        for r in results:
            scores = {q.name: q.points for q in r.questions}
            percent = round(r.total / total_possible, 6) if total_possible else 0
            writer.writerow(
                [Path(r.source).name, *(_num(scores.get(n, 0)) for n in names), _num(r.total), percent, r.status_text]
            )


def gradescope_results(result: SubmissionResult) -> dict:
    """results.json for Gradescope, the one builder of it: per question a visible test for its public
    checks and an after_published one for its hidden checks; concerns and hand-graded questions in
    the top-level output. `assn1 grade` and the autograder zip's completion step both write it."""
    tests = []
    for q in result.questions:
        if q.manual:
            continue
        for hidden in (False, True):
            checks = [c for c in q.checks if c.hidden == hidden]
            if not checks:
                continue
            tests.append(
                {
                    "name": f"{q.title}{' (hidden)' if hidden else ''}",
                    "score": round(sum(c.points for c in checks), 6),
                    "max_score": round(sum(c.max_points for c in checks), 6),
                    "status": "passed" if all(c.passed for c in checks) else "failed",
                    "output": "\n".join(_line(c) for c in checks),
                    "visibility": "after_published" if hidden else "visible",
                }
            )
        if not q.checks:
            why = "not graded automatically in this run" if result.status is Status.COMPLETED else _short_status(result)
            tests.append(
                {
                    "name": q.title,
                    "score": 0.0,
                    "max_score": q.max_points,
                    "status": "failed",
                    "output": why,
                    "visibility": "visible",
                }
            )
    output = [f"Grading status: {_short_status(result)}"]
    output += [f"- {concern_line(c, public=True)}" for c in result.grouped_concerns]
    output += list(result.notes)
    manual = hand_graded([(q.title, q.max_points) for q in result.questions if q.manual])
    if manual:
        output.append(manual)
    return {
        "score": result.total,
        "execution_time": round(result.seconds, 2),
        "output": "\n".join(output),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def concern_line(concern: Concern, public: bool = False) -> str:
    """A concern as the summary (or, `public`, a student's results.json) shows it, its kind first (a
    drift concern's text begins with its own: "possible library version difference").

    A grader fault's cause is for the instructor: an exception's text could quote a key's value."""
    if concern.kind == "drift":
        return str(concern)
    label = {"grader": "grader fault, to be regraded", "limit": "limit reached", "flag": "flagged"}[concern.kind]
    if public and concern.kind == "grader":
        return f"{label}: {concern.check_id or 'this submission'} could not be judged on the grader's side"
    return f"{label}: {concern}"


def _short_status(result: SubmissionResult) -> str:
    if result.status is Status.NOT_GRADED:
        return result.status_text
    if result.status is Status.NEEDS_ATTENTION:
        return f"{Status.NEEDS_ATTENTION.value} (see below); the grade stands unless your instructor changes it"
    return Status.COMPLETED.value


def hand_graded(questions: list[tuple[str, float]]) -> str:
    """The line of results.json's output that lists the questions graded by hand, with their points."""
    if not questions:
        return ""
    return "Graded by hand: " + "; ".join(f"{title} ({points:g} points)" for title, points in questions)


def write_results(result: SubmissionResult, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    write_json(gradescope_results(result), path)
    return path


def write_json(data: dict, path: Path) -> None:
    """Write JSON atomically (a temp file renamed into place): a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def table(result: SubmissionResult, show_hidden: bool = True) -> str:
    """A per-question table with each failed check's message underneath."""
    width = max(len(q.title) for q in result.questions)
    lines = [f"{result.name}: {_short_status(result)} ({result.isolation})"]
    for q in result.questions:
        lines.append(_row(q, width))
        for check in q.checks:
            if not check.passed and (show_hidden or not check.hidden):
                lines.append(f"    - {check.message}")
    lines.append(f"  {'autograded total'.ljust(width)}  {result.total:6.2f} / {result.possible:g}")
    lines += [f"  - {concern_line(c)}" for c in result.grouped_concerns]
    return "\n".join(lines)


def _row(q: QuestionScore, width: int) -> str:
    if q.manual:
        return f"  {q.title.ljust(width)}  {'manual':>6} / {q.max_points:g}"
    mark = "ok" if q.points == q.max_points and q.checks else "  "
    return f"  {q.title.ljust(width)}  {q.points:6.2f} / {q.max_points:g} {mark}"


def _line(check: CheckResult) -> str:
    return f"[{check.status}] {check.points:g}/{check.max_points:g} {check.message}"


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 6)
