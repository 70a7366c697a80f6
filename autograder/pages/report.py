"""The class report: the isolation level, score distributions, the checks a class fails, the submissions
that need a look, and how long grading took, each linking to the students' feedback pages."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from urllib.parse import quote

from autograder.config import Config
from autograder.pages.render import render
from autograder.reports import concern_line
from autograder.results import Status, SubmissionResult


@dataclass(frozen=True)
class CheckRow:
    check_id: str
    title: str
    hidden: bool
    judged: int
    passed: int
    failed: list[str]  # submission names
    errored: list[str]

    @property
    def pass_rate(self) -> float | None:
        """Passed over judged; None when no submission could be judged (every one errored)."""
        return self.passed / self.judged if self.judged else None


def feedback_link(name: str, anchor: str = "") -> str:
    """The relative link to a submission's feedback page (its name is the student's file name: quoted)."""
    return f"{quote(name)}/feedback.html" + (f"#{quote(anchor)}" if anchor else "")


def report_page(config: Config, results: list[SubmissionResult], wall_s: float | None = None) -> str:
    graded = [r for r in results if r.status is not Status.NOT_GRADED]
    levels = sorted({r.isolation for r in graded})
    return render(
        "report.html.j2",
        title=config.assignment.title,
        count=len(results),
        levels=levels,
        sandboxed=levels == ["bubblewrap"],
        notes=sorted({r.notes[0] for r in graded if r.notes and r.notes[0] != f"isolation: {r.isolation}"}),
        histograms=_histograms(config, graded),
        checks=sorted(_check_rows(config, graded), key=lambda row: (row.pass_rate or -1.0, row.check_id)),
        attention=[
            {"name": r.name, "link": feedback_link(r.name), "reasons": [concern_line(c) for c in r.grouped_concerns]}
            for r in results
            if r.status is Status.NEEDS_ATTENTION
        ],
        not_graded=[{"name": r.name, "why": r.not_graded} for r in results if r.status is Status.NOT_GRADED],
        timing=_timing(graded, wall_s),
        misconceptions=_misconceptions(graded),
        possible=results[0].possible if results else 0,
        mean=statistics.fmean(r.total for r in graded) if graded else 0.0,
        link=feedback_link,
    )


def _check_rows(config: Config, results: list[SubmissionResult]) -> list[CheckRow]:
    titles = {q: question.title for p in config.problems.values() for q, question in p.questions.items()}
    rows: dict[str, dict] = {}
    for r in results:
        for q in r.questions:
            for c in q.checks:
                row = rows.setdefault(
                    c.check_id, {"hidden": c.hidden, "judged": 0, "passed": 0, "failed": [], "errored": []}
                )
                if c.status == "errored":
                    row["errored"].append(r.name)
                    continue
                row["judged"] += 1
                if c.passed:
                    row["passed"] += 1
                else:
                    row["failed"].append(r.name)
    return [CheckRow(i, titles[i.split(".")[0]], **row) for i, row in rows.items()]


def _misconceptions(results: list[SubmissionResult]) -> list[dict]:
    """The named mistakes of the class, most frequent first, with who made each."""
    from autograder.suite import MISCONCEPTIONS

    named = {m.id: m for m in MISCONCEPTIONS}
    who: dict[str, list[str]] = {}
    for r in results:
        for q in r.questions:
            for c in q.checks:
                for mid in c.misconceptions:
                    who.setdefault(mid, []).append(r.name)
    rows = [
        {
            "id": mid,
            "name": named[mid].name if mid in named else mid,
            "hint": named[mid].hint if mid in named else "",
            "who": names,
        }
        for mid, names in who.items()
    ]
    return sorted(rows, key=lambda row: (-len(row["who"]), row["id"]))


HIST_W, HIST_H, HIST_PAD = 320, 150, 28  # an SVG histogram's plot area and margin, in pixels


def _histograms(config: Config, results: list[SubmissionResult]) -> list[dict]:
    """One histogram of autograded points per problem with autograded questions, and of the total: bins
    and their bars' geometry, drawn as inline SVG by the template (no image to render)."""
    if not results:
        return []
    panels = []
    for name, problem in config.problems.items():
        autograded = [q for q, question in problem.questions.items() if not question.manual]
        if autograded:
            scores = [sum(s.points for s in r.questions if s.name in autograded) for r in results]
            most = sum(problem.questions[q].points for q in autograded)
            panels.append((f"{problem.title} (autograded, of {most:g})", scores, most))
    panels.append((f"Total (autograded, of {results[0].possible:g})", [r.total for r in results], results[0].possible))
    return [_histogram(title, scores, most) for title, scores, most in panels]


def _histogram(title: str, scores: list[float], most: float) -> dict:
    """Equal bins over [0, most] (the last one closed), as numpy's histogram makes them, and each bar's box."""
    count = min(20, max(5, int(most)))
    width = most / count if most > 0 else 1.0
    heights = [0] * count
    for score in scores:
        heights[min(count - 1, max(0, int(score / width)))] += 1
    tallest = max(heights) or 1
    step = HIST_W / count
    bars = [
        {
            "low": i * width,
            "high": (i + 1) * width,
            "count": n,
            "x": HIST_PAD + i * step,
            "y": HIST_PAD + HIST_H * (1 - n / tallest),
            "w": step - 1,
            "h": HIST_H * n / tallest,
        }
        for i, n in enumerate(heights)
    ]
    return {"title": title, "bars": bars, "tallest": tallest, "most": most, "w": HIST_W, "h": HIST_H, "pad": HIST_PAD}


def _timing(results: list[SubmissionResult], wall_s: float | None) -> dict:
    seconds = sorted((r.seconds for r in results), reverse=True)
    if not seconds:
        return {}
    quartiles = statistics.quantiles(seconds, n=4, method="inclusive") if len(seconds) > 1 else [seconds[0]] * 3
    return {
        "sum": sum(seconds),
        "wall": wall_s,
        "median": statistics.median(seconds),
        "quartiles": quartiles,
        "max": seconds[0],
        "min": seconds[-1],
        "slowest": sorted(results, key=lambda r: -r.seconds)[:5],
    }
