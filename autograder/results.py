"""The result model: what a check, a question and a submission come to.

Three outcomes per check: "passed" and "failed" judge the student's answer; "errored" means the
grader could not judge it (its own fault), which scores 0 but is never shown as the student's
mistake and always asks for the instructor's attention. Things an instructor should look at
without the points changing (a limit that stopped a cell, a reported figure the grader could not
reproduce, an error that looks like a library version difference) travel as concerns. This module is shipped into notebooks' kernels: standard library only.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from autograder.checks.spec import CheckConfig

Outcome = Literal["passed", "failed", "errored"]
ConcernKind = Literal["grader", "limit", "flag", "drift"]

# What a student reads when a check errored: the cause goes to the instructor, not here.
ERRORED_MESSAGE = "this check could not run because of a problem on the grader's side, not in your work; your instructor will regrade it."


@dataclass(frozen=True)
class Concern:
    """Something for the instructor: a grader fault ("grader": the grade is not trustworthy until
    regraded), a resource limit that stopped the student's code ("limit"), a check's flag ("flag"), or
    a cell's error that looks like an API change in a declared library ("drift": a possible library
    version difference; the text says so itself, with the error, the library and its version)."""

    kind: ConcernKind
    text: str
    check_id: str = ""  # the check it concerns, if one

    def __str__(self) -> str:
        return f"{self.check_id}: {self.text}" if self.check_id else self.text

    def to_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text, "check_id": self.check_id}

    @classmethod
    def from_dict(cls, data: dict) -> Concern:
        return cls(data["kind"], data["text"], data.get("check_id", ""))


@dataclass(frozen=True)
class Unobserved:
    """No plain data came back for a check: why, and whose doing that was ("submission": the
    student's code; "limit": a resource limit stopped it; "grader": the grader's own side failed)."""

    reason: str
    fault: Literal["submission", "limit", "grader"]


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome, its points, the student's one-sentence message, and any concerns."""

    check_id: str
    status: Outcome
    message: str
    points: float
    max_points: float
    hidden: bool = False
    concerns: tuple[Concern, ...] = ()
    misconceptions: tuple[str, ...] = ()  # ids of the known mistakes that explain a failure

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict:
        return {
            "check_id": self.check_id,
            "status": self.status,
            "message": self.message,
            "points": self.points,
            "max_points": self.max_points,
            "hidden": self.hidden,
            "concerns": [c.to_dict() for c in self.concerns],
            "misconceptions": list(self.misconceptions),
        }

    @classmethod
    def from_dict(cls, data: dict) -> CheckResult:
        concerns = tuple(Concern.from_dict(c) for c in data.get("concerns", ()))
        fields = {k: data[k] for k in ("check_id", "status", "message", "points", "max_points", "hidden")}
        return cls(**fields, concerns=concerns, misconceptions=tuple(data.get("misconceptions", ())))


def passed(cfg: CheckConfig, message: str, concerns: tuple[Concern, ...] = ()) -> CheckResult:
    return CheckResult(cfg.id, "passed", message, cfg.points, cfg.points, cfg.hidden, concerns)


def failed(cfg: CheckConfig, message: str, points: float = 0.0, concerns: tuple[Concern, ...] = ()) -> CheckResult:
    """A wrong answer; `points` > 0 gives partial credit."""
    return CheckResult(cfg.id, "failed", message, points, cfg.points, cfg.hidden, concerns)


def errored(cfg: CheckConfig, cause: str) -> CheckResult:
    """The grader could not judge the answer: 0 points, the student told so, the instructor told why."""
    cause = " ".join(str(cause).split()).rstrip(".")
    return CheckResult(
        cfg.id, "errored", ERRORED_MESSAGE, 0.0, cfg.points, cfg.hidden, (Concern("grader", cause, cfg.id),)
    )


@dataclass(frozen=True)
class QuestionScore:
    name: str
    title: str
    points: float
    max_points: float
    manual: bool
    checks: tuple[CheckResult, ...] = ()


class Status(enum.Enum):
    """Where a submission's grading ended: a closed set."""

    COMPLETED = "Completed"
    NEEDS_ATTENTION = "Needs attention"
    NOT_GRADED = "Not graded"


@dataclass(frozen=True)
class SubmissionResult:
    """A submission's grade: per question, the concerns for the instructor, and how it was graded."""

    name: str
    source: str
    isolation: str
    seconds: float
    questions: tuple[QuestionScore, ...] = ()
    concerns: tuple[Concern, ...] = ()  # from running the notebook; the checks' own are added
    not_graded: str = ""  # why the submission could not be graded at all (its file), else ""
    notes: tuple[str, ...] = ()  # how it ran (isolation, cells that raised), for results.json
    # What each check judged (plain data, JSON-able; see judging.encode): kept so a change of points or
    # tolerances can be rescored without running the notebook again.
    observations: dict = dataclasses.field(default_factory=dict, compare=False)
    timings: dict = dataclasses.field(default_factory=dict, compare=False)  # seconds per phase of grading

    @property
    def all_concerns(self) -> tuple[Concern, ...]:
        from_checks = tuple(c for q in self.questions for check in q.checks for c in check.concerns)
        return self.concerns + from_checks

    @property
    def grouped_concerns(self) -> tuple[Concern, ...]:
        """The concerns, those that differ only in their check merged into one ("3 checks" for many)."""
        groups: dict[tuple[str, str], list[str]] = {}
        for c in self.all_concerns:
            groups.setdefault((c.kind, c.text), []).append(c.check_id)
        out = []
        for (kind, text), ids in groups.items():
            ids = [i for i in ids if i]
            out.append(Concern(kind, text, ", ".join(ids) if len(ids) <= 3 else f"{len(ids)} checks"))
        return tuple(out)

    @property
    def status(self) -> Status:
        if self.not_graded:
            return Status.NOT_GRADED
        return Status.NEEDS_ATTENTION if self.all_concerns else Status.COMPLETED

    @property
    def grader_fault(self) -> bool:
        """Whether some of this grade could not be judged: it must be regraded once the fault is fixed."""
        return any(c.kind == "grader" for c in self.all_concerns)

    @property
    def status_text(self) -> str:
        """One line for the gradebook's grading_status column."""
        if self.status is Status.NOT_GRADED:
            return f"{Status.NOT_GRADED.value}: {self.not_graded}"
        if self.status is Status.NEEDS_ATTENTION:
            return f"{Status.NEEDS_ATTENTION.value}: " + "; ".join(map(str, self.grouped_concerns))
        return Status.COMPLETED.value

    @property
    def total(self) -> float:
        return round(sum(q.points for q in self.questions if not q.manual), 6)

    @property
    def possible(self) -> float:
        return round(sum(q.max_points for q in self.questions if not q.manual), 6)
