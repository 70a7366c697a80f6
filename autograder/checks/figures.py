"""Plot checks read figure descriptions (data, not pixels) of the figures their question's cells displayed:
the best-matching axes earns credit per property, and the message names what it lacks."""

from __future__ import annotations

from typing import Callable

from autograder.checks.spec import CheckConfig
from autograder.results import CheckResult, failed, passed

Property = tuple[str, Callable[[dict], bool]]


def all_axes(observed: dict) -> list[dict]:
    return [ax for fig in observed.get("figures", []) for ax in fig.get("axes", [])]


def curve_count(ax: dict) -> int:
    return ax.get("n_lines", 0) + ax.get("line_collection_segments", 0)


def check_best_axes(observed: dict, properties: list[Property], what: str, *, cfg: CheckConfig) -> CheckResult:
    """Score every recorded axes by the share of `properties` it has; the best one counts."""
    candidates = all_axes(observed)
    if not candidates:
        where = "the cells under its heading displayed none" if observed.get("cells") else "no heading for it was found"
        return failed(cfg, f"no figure was found for {observed.get('question') or what} ({where}).")
    scored = [(sum(test(ax) for _, test in properties), i) for i, ax in enumerate(candidates)]
    best, index = max(scored)
    missing = [name for name, test in properties if not test(candidates[index])]
    if not missing:
        return passed(cfg, f"the {what} has {', '.join(name for name, _ in properties)}.")
    return failed(
        cfg,
        f"the best {what} found lacks: {'; '.join(missing)}.",
        points=round(cfg.points * best / len(properties), 6),
    )
