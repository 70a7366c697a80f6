"""What a check returns: a frozen record of one property, its points and a one-sentence message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from autograder.checks.spec import CheckConfig

Status = Literal["passed", "failed", "errored", "skipped"]


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome. "failed": the answer is wrong; "errored": the harness could not judge it."""

    check_id: str
    status: Status
    message: str
    points: float
    max_points: float
    hidden: bool = False

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def passed(cfg: CheckConfig, message: str) -> CheckResult:
    return CheckResult(cfg.id, "passed", message, cfg.points, cfg.points, cfg.hidden)


def failed(cfg: CheckConfig, message: str, points: float = 0.0) -> CheckResult:
    """A wrong answer; `points` > 0 gives partial credit."""
    return CheckResult(cfg.id, "failed", message, points, cfg.points, cfg.hidden)


def errored(cfg: CheckConfig, message: str) -> CheckResult:
    """The check could not judge the answer (the harness's problem, not the student's)."""
    return CheckResult(cfg.id, "errored", message, 0.0, cfg.points, cfg.hidden)
