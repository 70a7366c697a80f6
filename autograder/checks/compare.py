"""Array comparison shared by the checks, reported the way pytest.approx does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mismatch:
    n_bad: int
    n_total: int
    max_abs: float
    max_rel: float

    def describe(self, rtol: float, atol: float = 0.0) -> str:
        tol = f"rtol={rtol:g}" + (f", atol={atol:g}" if atol else "")
        return (
            f"{self.n_bad} / {self.n_total} entries differ; "
            f"max abs diff {self.max_abs:.2g}, max rel diff {self.max_rel:.2g} ({tol})"
        )


def mismatch(observed, expected, rtol: float, atol: float = 0.0) -> Mismatch:
    """Count entries of `observed` outside rtol/atol of `expected`; missing or non-finite ones count as wrong."""
    obs = np.array([np.nan if v is None else v for v in np.ravel(np.asarray(observed, dtype=object))], dtype=float)
    exp = np.asarray(expected, dtype=float).ravel()
    diff = np.abs(obs - exp)
    scale = np.abs(exp)
    bad = ~(diff <= atol + rtol * scale)
    finite = np.isfinite(diff)
    max_abs = float(diff[finite].max()) if finite.any() else float("nan")
    rel = diff[finite] / np.where(scale[finite] > 0, scale[finite], 1.0)
    max_rel = float(rel.max()) if rel.size else float("nan")
    return Mismatch(int(bad.sum()), int(exp.size), max_abs, max_rel)
