"""How one `assn1 grade` or `assn1 check` runs: what the command line adds to grading.yml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GradeOptions:
    config_path: Path
    out_dir: Path
    include_hidden: bool = True  # False for a student's `assn1 check`: the public checks only
    isolation: str = "auto"
    notebook_timeout_s: float | None = None  # in place of grading.yml's limits.notebook_timeout_s
