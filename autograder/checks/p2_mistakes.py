"""Problem 2's known mistakes: wrong forms of h*, of the bound, of the rates and of the sample size.

Each detector evaluates a known wrong form at the points the check probed and asks whether the
student's values are that form (a wrong answer recognised, never the right one revealed).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograder.checks.figures import all_axes, curve_count
from autograder.misconceptions import Misconception

H_MIN, H_VALUES = "q2_1.bandwidth_minimizes_bound", "q2_1.bandwidth_values"
R_AT_H = "q2_1.risk_bound_at_bandwidth"
EXP_VALUES, N_SCALING, COD_PLOT = "q2_2.exponent_values", "q2_3.sample_size_scaling", "q2_3.cod_plot"
MATCH = 1e-6  # relative agreement that makes two values the same


def _values(observed: dict) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in observed["values"]], dtype=float)


def _agrees(values: np.ndarray, expected: np.ndarray) -> bool:
    with np.errstate(all="ignore"):
        return bool(values.size and np.all(np.abs(values - expected) <= MATCH * np.abs(expected)))


def _bandwidth_is(form: Callable[..., np.ndarray]) -> Callable[[dict, dict], bool]:
    """A detector: the probed optimal_bandwidth equals `form(c1, c2, n, p)` at every probed point."""

    def detect(observed: dict, key: dict) -> bool:
        c1, c2, n, p = np.asarray(key["points"], dtype=float).T
        return _agrees(_values(observed), form(c1, c2, n, p))

    return detect


def _bandwidth_power_off(observed: dict, key: dict) -> bool:
    """h = (p c2 / (4 c1 n))^e with one wrong exponent e for all points: 1/(p + k), k != 4, or a constant."""
    c1, c2, n, p = np.asarray(key["points"], dtype=float).T
    base = np.log(p * c2 / (4 * c1 * n))
    usable = np.abs(base) > 1e-3  # where the base is near 1, every power gives nearly the same h
    with np.errstate(all="ignore"):
        e = np.log(_values(observed))[usable] / base[usable]
    if not (e.size > 1 and np.all(np.isfinite(e)) and np.all(e != 0)):
        return False
    k = 1 / e - p[usable]
    return (_constant(k) and abs(k[0] - 4) > 1e-3) or _constant(e)


def _constant(v: np.ndarray) -> bool:
    return bool(np.all(np.abs(v - v[0]) <= 1e-6 * max(1.0, abs(v[0]))))


def _bound_without_variance(observed: dict, key: dict) -> bool:
    """risk_bound is c1 h^4 alone at the student's own h."""
    c1 = np.asarray(key["points"], dtype=float)[:, 0]
    h = np.array([np.nan if v is None else v for v in observed["h"]], dtype=float)
    return _agrees(_values(observed), c1 * h**4)


def _exponent(observed: dict, name: str) -> np.ndarray:
    return _values(observed[name])


def _risk_rate_is_bandwidth_rate(observed: dict, key: dict) -> bool:
    return _agrees(_exponent(observed, "risk_exponent"), np.asarray(key["bandwidth_exponent"]["values"]))


def _exponents_positive(observed: dict, key: dict) -> bool:
    """Either exponent is the right one with its sign flipped."""
    return any(
        _agrees(_exponent(observed, name), -np.asarray(key[name]["values"]))
        for name in ("bandwidth_exponent", "risk_exponent")
    )


def _sample_size_wrong_power(observed: dict, key: dict) -> bool:
    """For every p, n is an exact power of R (log n linear in log R), and some power is not the expected one."""
    risks, dims = np.log(np.asarray(key["risks"], dtype=float)), list(key["dims"])
    with np.errstate(all="ignore"):
        logn = np.log(_values(observed)).reshape(len(dims), len(risks))
    if not np.all(np.isfinite(logn)):
        return False
    wrong = False
    for p, row in zip(dims, logn):
        slope, offset = np.polyfit(risks, row, 1)
        if np.max(np.abs(row - (slope * risks + offset))) > 1e-6 * max(1.0, float(np.max(np.abs(row)))):
            return False  # not a power law: counting, rounding or something else
        wrong |= abs(slope + (p + 4) / 4) > 1e-3 * (p + 4) / 4
    return wrong


def _too_few_curves(observed: dict, key: dict) -> bool:
    counts = [curve_count(ax) for ax in all_axes(observed)]
    return bool(counts) and 0 < max(counts) < key["min_curves"]


MISCONCEPTIONS = (
    Misconception(
        "p2.bandwidth-missing-p",
        "the factor p dropped from h*",
        "Differentiate c2 / (n h^p) again: the power p comes down as a factor, and it stays in the optimal bandwidth.",
        (H_MIN, H_VALUES),
        _bandwidth_is(lambda c1, c2, n, p: (c2 / (4 * c1 * n)) ** (1 / (p + 4))),
    ),
    Misconception(
        "p2.bandwidth-c1-c2-swapped",
        "c1 and c2 swapped in h*",
        "A larger variance constant should call for a wider bandwidth and a larger bias constant for a narrower "
        "one; check which constant ends up on top.",
        (H_MIN, H_VALUES),
        _bandwidth_is(lambda c1, c2, n, p: (p * c1 / (4 * c2 * n)) ** (1 / (p + 4))),
    ),
    Misconception(
        "p2.bandwidth-wrong-power",
        "a wrong power in h*",
        "Setting the derivative to zero gives h^(something) on one side: collect every power of h, "
        "h^3 and h^-(p+1), before taking the root.",
        (H_MIN, H_VALUES),
        _bandwidth_power_off,
    ),
    Misconception(
        "p2.risk-bound-missing-variance",
        "the variance term left out of the risk bound",
        "The bound at h* is bias squared plus variance; at the optimal bandwidth neither term is negligible.",
        (R_AT_H,),
        _bound_without_variance,
    ),
    Misconception(
        "p2.risk-rate-as-bandwidth-rate",
        "the bandwidth's rate reported as the risk's",
        "The risk is of the order of h^4 at the optimum, so its rate is the bandwidth's rate raised to that "
        "power, not the bandwidth's rate itself.",
        (EXP_VALUES,),
        _risk_rate_is_bandwidth_rate,
    ),
    Misconception(
        "p2.exponent-sign",
        "an exponent of n with the wrong sign",
        "The bandwidth and the risk both shrink as n grows, so their exponents of n are negative.",
        (EXP_VALUES,),
        _exponents_positive,
    ),
    Misconception(
        "p2.sample-size-wrong-power",
        "a wrong power of R in the sample size",
        "Invert the risk's rate: if R shrinks like n to some power, n grows like R to the reciprocal power, "
        "so check the rate you start from and the inversion.",
        (N_SCALING,),
        _sample_size_wrong_power,
    ),
    Misconception(
        "p2.cod-too-few-curves",
        "too few curves in the curse-of-dimensionality plot",
        "The plot shows the curse only when each dimension p from 1 to 20 has its own curve of sample size "
        "against risk, all on one axes.",
        (COD_PLOT,),
        _too_few_curves,
    ),
)
