"""The per-check settings a check reads: its id, points, visibility and tolerances."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CheckConfig:
    id: str
    points: float
    hidden: bool = False
    rtol: float = 1e-6
    atol: float = 0.0
    params: dict = field(default_factory=dict)
