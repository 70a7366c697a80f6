"""Checks for problem 2 (optimal bandwidth, risk bound, rates, sample size)."""

from __future__ import annotations

import numpy as np

from autograder.checks.compare import mismatch
from autograder.checks.figures import check_best_axes, curve_count
from autograder.checks.spec import CheckConfig
from autograder.results import CheckResult, failed, passed


def bound(h, c1, c2, n, p):
    """The risk bound of the assignment, c1 h^4 + c2 / (n h^p), in logs so large p and n don't overflow."""
    h, c1, c2, n, p = (np.asarray(a, dtype=float) for a in (h, c1, c2, n, p))
    return c1 * h**4 + c2 * np.exp(-np.log(n) - p * np.log(h))


def _unusable(name: str, observed: dict, cfg: CheckConfig) -> CheckResult | None:
    """A failure result when the probe got no numbers at all, else None."""
    if observed.get("error") and all(v is None for v in observed["values"]):
        return failed(cfg, f"`{name}` could not be evaluated: {observed['error']}.")
    return None


def check_formula_values(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """The student's formula equals the expected values at every probed point, within rtol."""
    name = key["name"]
    early = _unusable(name, observed, cfg)
    if early:
        return early
    m = mismatch(observed["values"], key["values"], cfg.rtol, cfg.atol)
    if m.n_bad:
        extra = f" (first error: {observed['error']})" if observed.get("error") else ""
        return failed(cfg, f"`{name}` is wrong at some inputs: {m.describe(cfg.rtol, cfg.atol)}{extra}.")
    return passed(cfg, f"`{name}` matches at all {m.n_total} probed inputs.")


def check_bandwidth_minimizes_bound(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """optimal_bandwidth(c1, c2, n, p) is a minimizer of c1 h^4 + c2/(n h^p) at each probed point."""
    early = _unusable("optimal_bandwidth", observed, cfg)
    if early:
        return early
    h = np.array([np.nan if v is None else v for v in observed["values"]])
    pts = np.asarray(key["points"], dtype=float)
    c1, c2, n, p = pts.T
    step = cfg.params["step"]
    with np.errstate(all="ignore"):
        at = bound(h, c1, c2, n, p)
        worse = np.minimum(bound(h * (1 - step), c1, c2, n, p), bound(h * (1 + step), c1, c2, n, p))
        ok = (h > 0) & np.isfinite(at) & (at <= worse * (1 + cfg.rtol))
    if not ok.all():
        return failed(
            cfg,
            f"`optimal_bandwidth` does not minimize c1 h^4 + c2/(n h^p) at {int((~ok).sum())} / {ok.size} probed inputs "
            f"(a bandwidth {step:g} larger or smaller gives a lower bound, or the value is not positive).",
        )
    return passed(cfg, f"`optimal_bandwidth` minimizes the bound at all {ok.size} probed inputs.")


def check_risk_bound_at_bandwidth(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """risk_bound(c1, c2, n, p) equals c1 h^4 + c2/(n h^p) at the student's own h = optimal_bandwidth(...)."""
    early = _unusable("risk_bound", observed, cfg)
    if early:
        return early
    pts = np.asarray(key["points"], dtype=float)
    h = np.array([np.nan if v is None else v for v in observed["h"]])
    with np.errstate(all="ignore"):
        expected = bound(h, *pts.T)
    m = mismatch(observed["values"], expected, cfg.rtol, cfg.atol)
    if m.n_bad:
        return failed(
            cfg,
            f"`risk_bound` differs from c1 h^4 + c2/(n h^p) at your `optimal_bandwidth`: {m.describe(cfg.rtol, cfg.atol)}.",
        )
    return passed(cfg, f"`risk_bound` equals the bound at your bandwidth at all {m.n_total} inputs.")


def check_sample_size_scaling(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """log sample_size(R, p) is linear in log R with slope -(p+4)/4 for every p (constants are free,
    and so is rounding n to a whole number)."""
    early = _unusable("sample_size", observed, cfg)
    if early:
        return early
    risks = np.asarray(key["risks"], dtype=float)
    dims = list(key["dims"])
    values = np.array([np.nan if v is None else v for v in observed["values"]], dtype=float).reshape(
        len(dims), len(risks)
    )
    wrong = []
    for p, row in zip(dims, values):
        with np.errstate(all="ignore"):
            logn = np.log(row)
        if not np.all(np.isfinite(logn)):
            wrong.append(f"p={p:g}: not a positive number at every risk")
            continue
        expected = -(p + 4) / 4
        # log n - expected * log R must be one constant. Rounding n to a whole number moves each offset by
        # less than log(n / (n - 1)), so some constant must lie within that (plus rtol) of every offset.
        offsets = logn - expected * np.log(risks)
        allowed = cfg.rtol + np.log(np.maximum(row, 2.0) / (np.maximum(row, 2.0) - 1))
        if np.max(offsets - allowed) > np.min(offsets + allowed):
            slope = np.polyfit(np.log(risks), logn, 1)[0]
            wrong.append(f"p={p:g}: slope {slope:.3g}, expected {expected:.3g}")
    if wrong:
        shown = "; ".join(wrong[:3]) + (f"; and {len(wrong) - 3} more" if len(wrong) > 3 else "")
        if observed.get("error"):
            shown += f" (first error: {observed['error']})"
        return failed(
            cfg,
            f"`sample_size` should scale as R^(-(p+4)/4) (log n against log R, rtol={cfg.rtol:g}): {shown}.",
        )
    return passed(cfg, f"`sample_size` scales as R^(-(p+4)/4) for all {len(dims)} dimensions probed.")


EXPONENTS = ("bandwidth_exponent", "risk_exponent")


def check_exponent_format(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """bandwidth_exponent(p) and risk_exponent(p) are numbers in (-1, 0): h and R shrink as n grows."""
    for name in EXPONENTS:
        early = _unusable(name, observed[name], cfg)
        if early:
            return early
        values = np.array([np.nan if v is None else v for v in observed[name]["values"]])
        if not np.all((values > -1) & (values < 0)):
            dims = [int(p) for (p,) in key["points"]]
            return failed(cfg, f"`{name}(p)` should be a number between -1 and 0 for p = {dims[0]}..{dims[-1]}.")
    return passed(cfg, "both exponents are numbers between -1 and 0.")


def check_exponent_values(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """bandwidth_exponent(p) and risk_exponent(p) are the exponents of n in h* and in the risk at h*."""
    results = [check_formula_values(observed[name], key[name], cfg=cfg) for name in EXPONENTS]
    bad = [r for r in results if not r.passed]
    if bad:
        return failed(cfg, " ".join(r.message for r in bad))
    return passed(cfg, f"both exponents are right for all {len(key['dims'])} values of p probed.")


def _monotone(line: list | None) -> bool:
    if not line or len(line[0]) < 2:
        return False
    x, y = np.asarray(line[0], dtype=float), np.asarray(line[1], dtype=float)
    order = np.argsort(x, kind="stable")
    steps = np.diff(y[order])
    return bool(np.all(steps <= 0) or np.all(steps >= 0))


def check_cod_plot(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """The 2.3 figure shows one monotone curve per dimension (at least 20) with labelled axes."""
    n = key["min_curves"]
    return check_best_axes(
        observed,
        [
            (f"at least {n} curves (one per dimension p)", lambda ax: curve_count(ax) >= n),
            (
                "every curve monotone in the risk",
                lambda ax: bool(ax["lines"]) and all(_monotone(l) for l in ax["lines"]),
            ),
            ("labels on both axes", lambda ax: bool(ax["xlabel"].strip() and ax["ylabel"].strip())),
        ],
        "curse-of-dimensionality plot",
        cfg=cfg,
    )
