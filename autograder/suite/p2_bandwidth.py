"""Problem 2 items: the bandwidth formulas at chosen points, the exponents, the sample-size scaling."""

from __future__ import annotations

import numpy as np

from autograder.checks import p2_bandwidth as checks
from autograder.checks import p2_mistakes
from autograder.probes.p2_bandwidth import evaluate
from autograder.suite.item import Formula, Item, KeyContext, Param

PUBLIC_POINTS = [[1.0, 1.0, 100.0, 1.0], [0.5, 2.0, 1e4, 3.0], [3.0, 0.2, 1e6, 10.0], [1.0, 1.0, 1e3, 20.0]]
DIMS = list(range(1, 21))
RISKS = np.linspace(0.1, 0.5, 9).tolist()


def reference_curves(ctx: KeyContext):
    """The reference's 2.3 figure, for the feedback pages."""
    from reference.p2_bandwidth import curse_of_dimensionality_figure

    return curse_of_dimensionality_figure().figure


FIGURES = {"q2_3": reference_curves}  # question -> the reference's figure, beside the student's on the page


def random_points(rng: np.random.Generator, count: int = 60) -> list[list[float]]:
    """(c1, c2, n, p) over wide log ranges, large p and n included."""
    c1 = 10 ** rng.uniform(-3, 3, count)
    c2 = 10 ** rng.uniform(-3, 3, count)
    n = np.round(10 ** rng.uniform(1, 12, count))
    p = rng.integers(1, 101, count)
    return np.column_stack([c1, c2, n, p]).tolist()


def _values_key(name: str):
    def make_key(ctx: KeyContext) -> dict:
        from reference import p2_bandwidth as ref

        points = random_points(ctx.rng)
        fn = getattr(ref, name)
        return {"name": name, "points": points, "values": [float(fn(*pt)) for pt in points]}

    return make_key


def _evaluate(name: str, answers: dict, key: dict) -> dict:
    limits = key["limits"]
    return evaluate(name, answers.get(name), key["points"], timeout_s=limits["call_s"], budget_s=limits["budget_s"])


def _probe_values(name: str):
    return lambda answers, key: _evaluate(name, answers, key)


def _exponent_key(ctx: KeyContext) -> dict:
    from reference import p2_bandwidth as ref

    dims = [float(p) for p in list(range(1, 21)) + [30, 50, 100]]
    return {
        "dims": dims,
        "points": [[p] for p in dims],
        **{name: {"name": name, "values": [float(getattr(ref, name)(p)) for p in dims]} for name in checks.EXPONENTS},
    }


def _probe_exponents(answers: dict, key: dict) -> dict:
    return {name: _evaluate(name, answers, key) for name in checks.EXPONENTS}


def _probe_bound_at_bandwidth(answers: dict, key: dict) -> dict:
    h = _evaluate("optimal_bandwidth", answers, key)
    risk = _evaluate("risk_bound", answers, key)
    return {**risk, "h": h["values"]}


def _sample_size_key(ctx: KeyContext) -> dict:
    return {"risks": RISKS, "dims": DIMS, "points": [[r, float(p)] for p in DIMS for r in RISKS]}


ITEMS = [
    Item(
        "q2_1",
        "bandwidth_minimizes_bound",
        ("optimal_bandwidth",),
        make_key=lambda ctx: {"points": PUBLIC_POINTS},
        probe=_probe_values("optimal_bandwidth"),
        check=checks.check_bandwidth_minimizes_bound,
        params={"step": Param(1e-3, 1e-9, 0.5, doc="relative change of h that must not lower the bound")},
    ),
    Item(
        "q2_1",
        "risk_bound_at_bandwidth",
        ("optimal_bandwidth", "risk_bound"),
        make_key=lambda ctx: {"points": PUBLIC_POINTS},
        probe=_probe_bound_at_bandwidth,
        check=checks.check_risk_bound_at_bandwidth,
    ),
    Item(
        "q2_1",
        "bandwidth_values",
        ("optimal_bandwidth",),
        make_key=_values_key("optimal_bandwidth"),
        probe=_probe_values("optimal_bandwidth"),
        check=checks.check_formula_values,
        secret=("values",),
    ),
    Item(
        "q2_1",
        "risk_bound_values",
        ("risk_bound",),
        make_key=_values_key("risk_bound"),
        probe=_probe_values("risk_bound"),
        check=checks.check_formula_values,
        secret=("values",),
    ),
    Item(
        "q2_2",
        "exponent_format",
        checks.EXPONENTS,
        make_key=lambda ctx: {"points": [[float(p)] for p in DIMS]},
        probe=_probe_exponents,
        check=checks.check_exponent_format,
    ),
    Item(
        "q2_2",
        "exponent_values",
        checks.EXPONENTS,
        make_key=_exponent_key,
        probe=_probe_exponents,
        check=checks.check_exponent_values,
        secret=checks.EXPONENTS,
    ),
    Item(
        "q2_3",
        "sample_size_scaling",
        ("sample_size",),
        make_key=_sample_size_key,
        probe=_probe_values("sample_size"),
        check=checks.check_sample_size_scaling,
    ),
    Item(
        "q2_3",
        "cod_plot",
        (),
        make_key=lambda ctx: {"min_curves": len(DIMS)},
        probe=None,
        check=checks.check_cod_plot,
        engine_only=True,
    ),
]


# The formulas the hand-graded answers of 2.1 and 2.2 end in, for the suggested verdicts of the manual pages.
H_STAR = "(p*c2/(4*c1*n))**(1/(p+4))"
_SYMBOLS = ("c1", "c2", "n", "p")
_RISK_NAMES = ("R", "risk", "MSE", "Risk")
FORMULAS = [
    Formula(
        "q2_1_derive",
        "h_star",
        "h*",
        names=("h", "bandwidth"),
        reference=H_STAR,
        symbols=_SYMBOLS,
        known_wrong=(
            ("(c2/(4*c1*n))**(1/(p+4))", "the factor p is missing"),
            ("(p*c1/(4*c2*n))**(1/(p+4))", "c1 and c2 are swapped"),
        ),
    ),
    Formula(
        "q2_1_derive",
        "risk_bound",
        "R(h*)",
        names=_RISK_NAMES,
        reference=f"c1*({H_STAR})**4 + c2/(n*({H_STAR})**p)",
        symbols=_SYMBOLS,
        rate_ok=True,
        given={"h": H_STAR},
        exponent="-4/(p + 4)",
        known_wrong=((f"c1*({H_STAR})**4", "the variance term c2/(n h*^p) is missing"),),
    ),
    Formula(
        "q2_2_explain",
        "bandwidth_rate",
        "rate of h*",
        names=("h", "bandwidth"),
        reference="n**(-1/(p+4))",
        symbols=_SYMBOLS,
        kind="rate",
        words=("bandwidth",),
        known_wrong=(("n**(-4/(p+4))", "the risk's rate, not the bandwidth's"),),
    ),
    Formula(
        "q2_2_explain",
        "risk_rate",
        "rate of R(h*)",
        names=_RISK_NAMES,
        reference="n**(-4/(p+4))",
        symbols=_SYMBOLS,
        kind="rate",
        given={"h": "n**(-1/(p+4))"},
        words=("risk", "error", "MSE"),
        known_wrong=(("n**(-1/(p+4))", "the bandwidth's rate, not the risk's"),),
    ),
]

MISCONCEPTIONS = p2_mistakes.MISCONCEPTIONS  # the known mistakes its failed checks are matched against
