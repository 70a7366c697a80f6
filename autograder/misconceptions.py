"""Named misconceptions: when a check fails, say which known mistake the answer is, and how to think again.

Each problem's catalogue lives with its checks (the content); an entry has an id, a short name, a
one-sentence hint that teaches without giving the answer, the checks it explains, and a detector — a
pure function of the plain observation and key the check judged. Detectors only explain: they run on
failed results, never change points, and a detector that raises simply does not fire.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autograder.results import CheckResult


@dataclass(frozen=True)
class Misconception:
    id: str  # "p2.risk-rate-as-bandwidth-rate"
    name: str  # a short name a student recognises
    hint: str  # one sentence that teaches without giving the answer (no hidden values)
    checks: tuple[str, ...]  # the check ids it explains
    detect: Callable[[Any, dict], bool]  # (observed, key) -> whether the answer shows this mistake


def explain(result: CheckResult, observed: Any, key: dict, catalogue: tuple[Misconception, ...]) -> CheckResult:
    """A failed result with the first matching misconception named in its message and recorded by id."""
    if result.status != "failed":
        return result
    for entry in catalogue:
        if result.check_id in entry.checks and _fires(entry, observed, key):
            message = f"{result.message} This looks like a known mistake — {entry.name}: {entry.hint}"
            return dataclasses.replace(result, message=message, misconceptions=(entry.id,))
    return result


def detected(check_id: str, observed: Any, key: dict, catalogue: tuple[Misconception, ...]) -> tuple[str, ...]:
    """The ids of every entry for `check_id` whose detector fires on this observation, whatever the verdict:
    what the tests hold to "no detector fires on a valid answer"."""
    return tuple(m.id for m in catalogue if check_id in m.checks and _fires(m, observed, key))


def _fires(entry: Misconception, observed: Any, key: dict) -> bool:
    try:
        return bool(entry.detect(observed, key))
    except Exception:  # noqa: BLE001 - a detector that cannot tell says nothing
        return False


def catalogue_table(catalogue: tuple[Misconception, ...]) -> str:
    """The catalogue as the README's markdown table (generated here, so it is never written twice)."""
    rows = ["| id | name | hint | checks |", "|---|---|---|---|"]
    for m in catalogue:
        checks = ", ".join(f"`{c}`" for c in m.checks)
        name, hint = (text.replace("|", "\\|") for text in (m.name, m.hint))  # a | would end the cell
        rows.append(f"| `{m.id}` | {name} | {hint} | {checks} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m autograder.misconceptions: the README's table
    from autograder.suite import MISCONCEPTIONS

    print(catalogue_table(MISCONCEPTIONS))
