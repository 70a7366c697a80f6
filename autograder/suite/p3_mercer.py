"""Problem 3 items: alpha_hat on chosen matrices, the regression function, the kernels, the lambdas."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autograder.checks import p3_mercer as checks
from autograder.checks import p3_mistakes
from autograder.probes.calls import short_repr, to_number
from autograder.probes.p3_mercer import GRADER_KERNELS, gram, probe_alpha, probe_regress
from autograder.suite.item import Formula, Item, KeyContext, Param

REGRESS_NAMES = ("mercer_kernel_regress", "mercere_kernel_regress")
KERNEL_NAMES = ("kernel1", "kernel2")
VALUE_KERNELS = ("gaussian(0.3)", "laplacian(0.5)", "polynomial(2)")  # regress_values' kernels


def regress_function(answers: dict):
    """The student's regression function under either spelling the assignment uses."""
    for name in REGRESS_NAMES:
        if answers.get(name) is not None:
            return answers[name]
    return None


@dataclass(frozen=True)
class MatrixKind:
    """A kind of K that alpha_hat is probed on. A singular kind is exactly singular as stored (it has two
    equal rows), so whether an answer breaks on it does not depend on the machine's rounding."""

    name: str
    singular: bool
    make: Callable[[np.random.Generator, int], np.ndarray]


def _well_conditioned(rng: np.random.Generator, n: int) -> np.ndarray:
    A = rng.standard_normal((n, n))
    return A @ A.T + n * np.eye(n)


def _ill_conditioned(rng: np.random.Generator, n: int) -> np.ndarray:
    """Condition number 1e6, far from singular in double precision: every answer's verdict has a margin."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    K = (Q * np.logspace(0, -6, n)) @ Q.T
    return (K + K.T) / 2


def _duplicated_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """Gaussian Gram matrix of n / 2 points each drawn twice: equal rows, rank n / 2."""
    x = np.repeat(rng.uniform(-1, 1, n // 2), 2)
    return np.exp(-((x[:, None] - x[None, :]) ** 2) / (2 * 0.5**2))


MATRIX_KINDS = {
    kind.name: kind
    for kind in (
        MatrixKind("well-conditioned K", False, _well_conditioned),
        MatrixKind("ill-conditioned K", False, _ill_conditioned),
        MatrixKind("zero K", True, lambda rng, n: np.zeros((n, n))),
        MatrixKind("K of ones", True, lambda rng, n: np.ones((n, n))),
        MatrixKind("Gram matrix of duplicated points", True, _duplicated_points),
    )
}


def _alpha_cases(rng: np.random.Generator, kinds: tuple[str, ...], n: int = 12) -> list[dict]:
    """Each kind of K with lambda 0.01 and 1 (lambda > 0, so the minimizer exists for singular K too)."""
    cases = []
    for kind in (MATRIX_KINDS[name] for name in kinds):
        K = kind.make(rng, n)
        for lmbda in (0.01, 1.0):
            article = "an" if kind.name[0] in "aeiou" else "a"
            cases.append(
                {
                    "label": f"{article} {kind.name} with lambda={lmbda:g}",
                    "K": K.tolist(),
                    "Y": rng.standard_normal(n).tolist(),
                    "lmbda": lmbda,
                    "singular": kind.singular,
                }
            )
    return cases


def _alpha_objective_key(ctx: KeyContext) -> dict:
    from reference import p3_mercer as ref

    cases = _alpha_cases(ctx.rng, tuple(MATRIX_KINDS))
    best = []
    for case in cases:
        K, Y = np.array(case["K"]), np.array(case["Y"])
        best.append(checks.objective(K, Y, ref.alpha_hat(K, Y, case["lmbda"]), case["lmbda"]))
    return {"cases": cases, "best_objective": best}


def _regress_cases(
    rng: np.random.Generator, kernels: list[str], lmbdas: list[float], n: int = 30, m: int = 37
) -> list[dict]:
    cases = []
    for kernel in kernels:
        for lmbda in lmbdas:
            X = np.sort(rng.uniform(-1, 1, n))
            cases.append(
                {
                    "label": f"kernel {kernel}, lambda={lmbda:g}",
                    "kernel": kernel,
                    "X": X.tolist(),
                    "y": (3 * X**2 + 0.25 * rng.standard_normal(n)).tolist(),
                    "x": np.linspace(-1, 1, m).tolist(),
                    "lmbda": lmbda,
                }
            )
    return cases


def _probe_regress_cases(answers: dict, key: dict) -> list[dict]:
    """The regression on the key's cases, with kernels offered in the conventions of the student's own."""
    own = [answers[name] for name in KERNEL_NAMES if name in answers]
    return probe_regress(regress_function(answers), key["cases"], key["limits"]["call_s"], own)


def _regress_values_key(ctx: KeyContext) -> dict:
    from reference import p3_mercer as ref

    cases = _regress_cases(ctx.rng, list(VALUE_KERNELS), [0.01, 0.1, 1.0])
    expected = [
        ref.mercer_kernel_regress(
            GRADER_KERNELS[c["kernel"]].pair, np.array(c["X"]), np.array(c["y"]), np.array(c["x"]), c["lmbda"]
        ).tolist()
        for c in cases
    ]
    return {"cases": cases, "expected": expected}


def _limits_key(ctx: KeyContext) -> dict:
    X = np.linspace(-1, 1, 15)
    y = (3 * X**2 + 0.25 * ctx.rng.standard_normal(15)).tolist()
    base = {"kernel": "gaussian(0.05)", "X": X.tolist(), "y": y, "x": X.tolist()}
    return {"cases": [{**base, "lmbda": 1e-10, "label": "tiny lambda"}, {**base, "lmbda": 1e8, "label": "huge lambda"}]}


def _probe_kernels(answers: dict, key: dict) -> dict:
    timeout = key["limits"]["call_s"]
    return {name: gram(answers.get(name), key["points"], key["points"], timeout) for name in KERNEL_NAMES}


def _probe_lambda_risk(answers: dict, key: dict) -> dict:
    """Simulated risk of each kernel at the student's lambda and over the key's fine grid."""
    from autograder.probes.simulation import risk_curve

    out = {}
    for kernel_name, lambda_name in (("kernel1", "lambda_hat_1"), ("kernel2", "lambda_hat_2")):
        chosen = to_number(answers.get(lambda_name))
        probe = gram(answers.get(kernel_name), [0.0, 0.5], [0.0, 0.5], key["limits"]["call_s"])
        if chosen is None or not chosen > 0 or "error" in probe:
            out[kernel_name] = {"error": f"`{lambda_name}` or `{kernel_name}` is not usable"}
            continue
        grid = list(key["grid"]) + [chosen]
        out[kernel_name] = risk_curve(
            answers[kernel_name], probe["convention"], grid, key["trials"], key["seed"], key["limits"]["budget_s"]
        )
    return out


def _probe_lambdas(answers: dict, key: dict) -> dict:
    out = {}
    for name in ("lambda_hat_1", "lambda_hat_2"):
        out[name] = to_number(answers.get(name))
        out[name + "_repr"] = short_repr(answers.get(name), 40)
    return out


ITEMS = [
    Item(
        "q3_1",
        "alpha_stationary",
        ("alpha_hat",),
        make_key=lambda ctx: {"cases": _alpha_cases(ctx.rng, ("well-conditioned K",))},
        probe=lambda answers, key: probe_alpha(answers.get("alpha_hat"), key["cases"], key["limits"]["call_s"]),
        check=checks.check_alpha_stationary,
    ),
    Item(
        "q3_1",
        "alpha_objective",
        ("alpha_hat",),
        make_key=_alpha_objective_key,
        probe=lambda answers, key: probe_alpha(answers.get("alpha_hat"), key["cases"], key["limits"]["call_s"]),
        check=checks.check_alpha_objective,
        secret=("best_objective",),
    ),
    Item(
        "q3_2",
        "regress_shape",
        REGRESS_NAMES + KERNEL_NAMES,  # the kernels: the convention the regression is written for
        make_key=lambda ctx: {"cases": _regress_cases(ctx.rng, ["gaussian(0.3)"], [0.1])},
        probe=_probe_regress_cases,
        check=checks.check_regress_shape,
    ),
    Item(
        "q3_2",
        "regress_limits",
        REGRESS_NAMES + KERNEL_NAMES,  # the kernels: the convention the regression is written for
        make_key=_limits_key,
        probe=_probe_regress_cases,
        check=checks.check_regress_limits,
        params={"shrink": Param(0.01, 1e-9, 1.0, doc="largest fit with a huge lambda, relative to max |y|")},
    ),
    Item(
        "q3_2",
        "regress_values",
        REGRESS_NAMES + KERNEL_NAMES,  # the kernels: the convention the regression is written for
        make_key=_regress_values_key,
        probe=_probe_regress_cases,
        check=checks.check_regress_values,
        secret=("expected",),
    ),
    Item(
        "q3_2_kernels",
        "kernels_valid",
        KERNEL_NAMES,
        make_key=lambda ctx: {"points": np.sort(ctx.rng.uniform(-1, 1, 25)).tolist()},
        probe=_probe_kernels,
        check=checks.check_kernels_valid,
    ),
    Item(
        "q3_3",
        "lambda_risk",
        (*KERNEL_NAMES, "lambda_hat_1", "lambda_hat_2"),
        make_key=lambda ctx: {
            "grid": np.logspace(-6, 2, 41).tolist(),
            "trials": 200,
            "seed": int(ctx.rng.integers(2**31)),
        },
        probe=_probe_lambda_risk,
        check=checks.check_lambda_risk,
        params={"factor": Param(1.5, 1.0, 100.0, doc="how many times the best simulated risk a lambda may reach")},
    ),
    Item(
        "q3_3",
        "lambdas_chosen",
        ("lambda_hat_1", "lambda_hat_2"),
        make_key=lambda ctx: {},
        probe=_probe_lambdas,
        check=checks.check_lambdas_chosen,
    ),
]


# The formula the hand-graded derivation of 3.1 ends in, for the suggested verdict of the manual pages.
FORMULAS = [
    Formula(
        "q3_1_derive",
        "alpha_hat",
        "alpha hat",
        names=("alpha",),
        reference="(K + lambda*I)**(-1)*Y",
        symbols=("K", "I", "Y", "lambda"),
        kind="matrix",
        aliases={
            "K": ("K", "G", "Kn"),
            "I": ("I", "In", "Id"),
            "Y": ("Y", "y", "Yn"),
            "lambda": ("lambda", "lmbda", "lam", "lamda"),
        },
        matrices={"K": "spd", "I": "identity", "Y": "vector"},
        known_wrong=(
            ("(K + lambda)**(-1)*Y", "lambda is added to every entry of K: the identity is missing"),
            ("(K + lambda*I)*Y", "the inverse is missing"),
            ("K**(-1)*Y", "lambda is missing"),
        ),
    ),
]

MISCONCEPTIONS = p3_mistakes.MISCONCEPTIONS  # the known mistakes its failed checks are matched against
