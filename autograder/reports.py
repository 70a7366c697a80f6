"""What grading writes, all exports of the gradebook: otter's final_grades.csv, a long checks.csv,
Gradescope's results.json per submission, LMS uploads, and a table for people. Every file is written
whole or not at all (a temporary file renamed into place), with numbers in a fixed format."""

from __future__ import annotations

import csv
import html
import io
import json
import os
from pathlib import Path

from autograder.config import Config
from autograder.errors import Assn1Error

from autograder.results import CheckResult, Concern, QuestionScore, Status, SubmissionResult

POINTS_POSSIBLE_LABEL = "points-per-question"  # otter's label for the first data row


def export_all(
    config: Config, results: list[SubmissionResult], out: Path, manual: dict[str, dict[str, float]] | None = None
) -> None:
    """Every export of a batch: each results.json, final_grades.csv and checks.csv. `manual`: the
    hand-entered scores by submission and question, when the gradebook holds any."""
    for result in results:
        write_results(result, out / result.name)
    write_gradebook(results, out / "final_grades.csv", manual)
    write_checks(results, out / "checks.csv")


def write_gradebook(
    results: list[SubmissionResult], path: Path, manual: dict[str, dict[str, float]] | None = None
) -> None:
    """final_grades.csv in otter's layout: file, one column per autograded question, total, percent, status.

    With hand-entered scores (`manual`: submission -> question -> score), the hand-graded questions'
    columns follow the autograded ones (empty where not scored yet) and the total and percent are over
    every question's points."""
    if not results:
        return
    questions = [q for q in results[0].questions if not q.manual]
    names = sorted(q.name for q in questions)
    possible = {q.name: q.max_points for q in questions}
    by_hand = sorted(q.name for q in results[0].questions if q.manual) if manual else []
    possible.update({q.name: q.max_points for q in results[0].questions if q.name in by_hand})
    total_possible = sum(possible.values())
    rows = [["file", *names, *by_hand, "total_points_earned", "percent_correct", "grading_status"]]
    rows.append([POINTS_POSSIBLE_LABEL, *(_num(possible[n]) for n in names + by_hand), _num(total_possible), 1, "--"])
    for r in results:
        scores = {q.name: q.points for q in r.questions}
        entered = (manual or {}).get(r.name, {})
        total = r.total + sum(entered.get(n, 0) for n in by_hand)
        percent = _num(total / total_possible) if total_possible else 0
        hand = [_num(entered[n]) if n in entered else "" for n in by_hand]
        rows.append(
            [Path(r.source).name, *(_num(scores.get(n, 0)) for n in names), *hand, _num(total), percent, r.status_text]
        )
    write_csv(rows, path)


def write_checks(results: list[SubmissionResult], path: Path) -> None:
    """checks.csv, one row per submission and check: the long table for analysis."""
    rows = [["file", "question", "check", "outcome", "points", "max_points", "hidden", "misconceptions", "message"]]
    for r in results:
        for q in r.questions:
            for c in q.checks:
                rows.append(
                    [
                        Path(r.source).name,
                        q.name,
                        c.check_id,
                        c.status,
                        _num(c.points),
                        _num(c.max_points),
                        int(c.hidden),
                        " ".join(c.misconceptions),
                        c.message,
                    ]
                )
    write_csv(rows, path)


def export_lms(results: list[SubmissionResult], roster: Path, lms: str, path: Path, assignment: str) -> int:
    """The autograded totals as Gradescope's or Canvas's score upload, students matched through `roster`
    (columns submission, student_id, and optionally name, email). Refuses a roster that leaves a
    submission unmatched. Returns the number of students written."""
    try:
        with open(roster, newline="", encoding="utf-8-sig") as fh:
            entries = list(csv.DictReader(fh))
    except OSError as exc:
        raise Assn1Error(f"{roster}: cannot read the roster ({exc.strerror}).") from None
    if not entries or not {"submission", "student_id"} <= set(entries[0]):
        raise Assn1Error(f"{roster}: the roster needs the columns submission and student_id (name, email optional).")
    by_submission = {}
    for entry in entries:
        for name in {entry["submission"].strip(), Path(entry["submission"].strip()).stem}:
            by_submission[name] = entry
    rows = []
    for r in results:
        entry = by_submission.get(r.name) or by_submission.get(Path(r.source).name)
        if entry is None:
            raise Assn1Error(f"{roster}: no row for the submission {Path(r.source).name}; add it to the roster.")
        rows.append((entry, r))
    if lms == "gradescope":
        table = [["Name", "SID", "Email", "Score", "Max Points"]]
        table += [
            [e.get("name", ""), e["student_id"], e.get("email", ""), _num(r.total), _num(r.possible)] for e, r in rows
        ]
    else:
        table = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]]
        table += [[e.get("name", ""), "", e["student_id"], e.get("email", ""), "", _num(r.total)] for e, r in rows]
    write_csv(table, path)
    return len(rows)


def write_csv(rows: list[list], path: Path) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    write_text(buffer.getvalue(), path)


def write_text(text: str, path: Path) -> None:
    """Write a file atomically: a temporary file renamed into place, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


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
                    "output": _markdown("\n\n".join(check_line(c) for c in checks)),
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
                    "output": _markdown(why),
                    "visibility": "visible",
                }
            )
    return {
        "score": result.total,
        "execution_time": round(result.seconds, 2),
        "output": _markdown(submission_output(result)),
        "output_format": "md",  # Gradescope renders the messages' `code` spans; the pages show the same text
        "test_output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def submission_output(result: SubmissionResult) -> str:
    """The text about the whole submission, plain: its status, the concerns a student may read, how it
    ran (isolation, cells that raised) and the questions graded by hand."""
    output = [f"Grading status: {_short_status(result)}"]
    output += [f"- {concern_line(c, public=True)}" for c in result.grouped_concerns]
    output += list(result.notes)
    manual = hand_graded([(q.title, q.max_points) for q in result.questions if q.manual])
    if manual:
        output.append(manual)
    return "\n\n".join(output)


def _markdown(text: str) -> str:
    """Text for Gradescope's markdown: its own characters kept, anything that could be HTML escaped
    (messages quote students' values). Lines are paragraphs, so each message stands on its own line."""
    return html.escape(text, quote=False)


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
    write_text(json.dumps(data, indent=2) + "\n", path)


def table(result: SubmissionResult, hidden_points: dict[str, float]) -> str:
    """The student's table of `assn1 check` (public checks only): per question the public checks'
    points out of their maximum, ok or failed, each failed check's message, and the points the
    question's hidden checks (`hidden_points`, by question) carry, so a perfect notebook reads perfect."""
    width = max(len(q.title) for q in result.questions)
    lines = [f"{result.name}: {_short_status(result)} ({result.isolation})"]
    for q in result.questions:
        lines.append(_row(q, width, hidden_points.get(q.name, 0.0)))
        lines += [f"    - {check.message}" for check in q.checks if not check.passed]
    public = [q for q in result.questions if not q.manual]
    earned, most = sum(q.points for q in public), sum(c.max_points for q in public for c in q.checks)
    hidden = sum(hidden_points.values())
    manual = sum(q.max_points for q in result.questions if q.manual)
    lines.append(f"  {'public checks'.ljust(width)}  {earned:6.2f} / {most:g}")
    lines.append(
        f"  hidden checks carry {hidden:g} more points when your submission is graded; {manual:g} are graded by hand."
    )
    lines += [f"  - {concern_line(c, public=True)}" for c in result.grouped_concerns]
    return "\n".join(lines)


def _row(q: QuestionScore, width: int, hidden: float) -> str:
    if q.manual:
        return f"  {q.title.ljust(width)}  {'by hand':>6}   {q.max_points:g}"
    extra = f"   (+{hidden:g} in hidden checks)" if hidden else ""
    if not q.checks:
        return f"  {q.title.ljust(width)}  {'-':>6}          no public checks{extra}"
    most = sum(c.max_points for c in q.checks)
    mark = "ok" if all(c.passed for c in q.checks) else "failed"
    return f"  {q.title.ljust(width)}  {q.points:6.2f} / {most:<4g} {mark:6}{extra}"


def check_line(check: CheckResult) -> str:
    """One check as results.json lists it: outcome, points out of its maximum, message."""
    return f"[{check.status}] {check.points:g}/{check.max_points:g} {check.message}"


def _num(value: float) -> str:
    """A number as the CSV files write it: an integer plainly, else up to 6 decimals, no trailing zeros."""
    value = round(float(value), 6)
    return str(int(value)) if value.is_integer() else f"{value:.6f}".rstrip("0")
