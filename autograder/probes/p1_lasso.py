"""Probe for problem 1: read S_hat, beta_hat and risk_hat back as plain data."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.probes.calls import short_repr, to_array, to_number

MISSING = object()


def probe_answers(S_hat: Any = MISSING, beta_hat: Any = MISSING, risk_hat: Any = MISSING) -> dict:
    """The three answers of 1.2 as lists and floats."""
    out: dict[str, Any] = {}
    if S_hat is MISSING:
        out["S_hat_error"] = "not defined"
    else:
        try:
            flat = np.asarray(S_hat).ravel()
            out["S_hat_is_mask"] = flat.dtype == bool
            out["S_hat"] = [int(v) if float(v).is_integer() else float(v) for v in flat.tolist()]
        except (TypeError, ValueError):
            out["S_hat"] = None
        out["S_hat_repr"] = short_repr(S_hat)
    if beta_hat is MISSING:
        out["beta_hat_error"] = "not defined"
    else:
        out["beta_hat"] = to_array(beta_hat, max_size=10_000)
    out["risk_hat"] = None if risk_hat is MISSING else to_number(risk_hat)
    out["risk_hat_repr"] = "not defined" if risk_hat is MISSING else short_repr(risk_hat)
    return out
