"""Probes for problem 2: evaluate the student's formulas (functions or sympy expressions) at given points."""

from __future__ import annotations

from typing import Any, Sequence

from autograder.probes.calls import as_callable, call, to_number

SIGNATURES = {
    "optimal_bandwidth": ("c1", "c2", "n", "p"),
    "risk_bound": ("c1", "c2", "n", "p"),
    "bandwidth_exponent": ("p",),
    "risk_exponent": ("p",),
    "sample_size": ("risk", "p"),
}


def evaluate(
    name: str, answer: Any, points: Sequence[Sequence[float]], timeout_s: float = 5.0, budget_s: float = 20.0
) -> dict:
    """Values of `answer` at each point: {"values": [float|None], "error": first error or None}.

    Each call may take `timeout_s`, all of them together `budget_s`; past either the rest are None.
    """
    fn = as_callable(answer, SIGNATURES[name])
    if fn is None:
        return {"values": [None] * len(points), "error": f"`{name}` is not a function or a sympy expression"}
    values, error, spent = [], None, 0.0
    for point in points:
        if spent > budget_s:
            error = error or f"timeout: all calls together took longer than {budget_s:g} s"
            values.extend([None] * (len(points) - len(values)))
            break
        result = call(fn, *point, timeout_s=timeout_s)
        spent += result["seconds"]
        value = None if result["error"] else to_number(result["value"])
        if result["error"] and error is None:
            error = result["error"]
        elif value is None and error is None:
            error = f"returned {type(result['value']).__name__}, not a number"
        values.append(value)
        if result["error"] and result["error"].startswith("timeout"):
            values.extend([None] * (len(points) - len(values)))
            break
    return {"values": values, "error": error}
