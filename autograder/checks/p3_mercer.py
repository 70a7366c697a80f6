"""Checks for problem 3 (closed form of alpha, Mercer kernel regression, kernels, lambdas)."""

from __future__ import annotations

import math

import numpy as np

from autograder.checks.compare import mismatch
from autograder.checks.spec import CheckConfig
from autograder.results import CheckResult, failed, passed


def objective(K: np.ndarray, Y: np.ndarray, a: np.ndarray, lmbda: float) -> float:
    """The penalized criterion of 3.1: ||Y - K a||^2 + lambda a^T K a."""
    r = Y - K @ a
    return float(r @ r + lmbda * a @ K @ a)


def _vectors(observed: list[dict], cases: list[dict], name: str) -> tuple[list[np.ndarray], str | None]:
    """Observed arrays as vectors of the case's length, or the first problem found."""
    for i, obs in enumerate(observed):
        if "error" in obs:
            return [], f"`{name}` raised on input {i + 1}: {obs['error']}"
    problem = _shape_problem(observed, cases, name)
    if problem:
        return [], problem
    return [np.asarray(obs["data"], dtype=float) for obs in observed], None


def _shape_problem(observed: list[dict], cases: list[dict], name: str) -> str | None:
    """The first returned array (of those that did not raise) that is not a vector of the case's length."""
    for obs, case in zip(observed, cases):
        n = len(case["Y"])
        if "error" not in obs and obs["shape"] not in ([n], [n, 1]):
            return f"`{name}` should return {n} coefficients; got shape {tuple(obs['shape'])}"
    return None


def check_alpha_stationary(observed: list[dict], key: dict, *, cfg: CheckConfig) -> CheckResult:
    """alpha_hat(K, Y, lmbda) zeroes the gradient of ||Y - K a||^2 + lambda a^T K a on each probed input."""
    cases = key["cases"]
    vectors, problem = _vectors(observed, cases, "alpha_hat")
    if problem:
        return failed(cfg, problem + ".")
    worst = 0.0
    for a, case in zip(vectors, cases):
        K, Y, lmbda = np.asarray(case["K"]), np.asarray(case["Y"]), case["lmbda"]
        gradient = 2 * (K @ K @ a + lmbda * K @ a - K @ Y)
        scale = 2 * np.linalg.norm(K, 2) * np.linalg.norm(Y)
        worst = max(worst, float(np.linalg.norm(gradient) / scale) if np.all(np.isfinite(a)) else math.inf)
    if worst > cfg.rtol:
        return failed(
            cfg,
            f"`alpha_hat` is not a minimizer: the objective's gradient there has relative size {worst:.2g} (rtol={cfg.rtol:g}).",
        )
    return passed(cfg, f"`alpha_hat` minimizes the objective on all {len(cases)} probed inputs.")


def _broke(obs: dict) -> bool:
    """alpha_hat raised, or returned non-finite values."""
    return "error" in obs or not np.all(np.isfinite(np.asarray(obs["data"], dtype=float)))


def _objective_problem(obs: dict, case: dict, best: float, cfg: CheckConfig) -> str | None:
    """Why alpha_hat's answer on one input is not a minimizer, or None.

    Two-sided: a value below the minimum only comes from rounding errors of a huge alpha on a K that is
    singular in floating point, whatever the machine computes the objective to be there."""
    if "error" in obs:
        return f"raised {obs['error']}"
    if _broke(obs):
        return "returned non-finite values"
    value = objective(np.asarray(case["K"]), np.asarray(case["Y"]), np.asarray(obs["data"], dtype=float), case["lmbda"])
    if value > best + cfg.rtol * abs(best) + cfg.atol:
        return "reaches an objective above the minimum"
    if value < best - cfg.rtol * abs(best) - cfg.atol:
        return "reaches an objective below the true minimum, which only rounding errors of a huge alpha give"
    return None


def _breaks_on_singular_k_alone(observed: list[dict], cases: list[dict], why: list[str | None]) -> bool:
    """Right on every invertible K, but an exactly singular K made alpha_hat raise or return non-finite values."""
    invertible_right = all(reason is None for reason, case in zip(why, cases) if not case["singular"])
    return invertible_right and any(_broke(obs) for obs, case in zip(observed, cases) if case["singular"])


def check_alpha_objective(observed: list[dict], key: dict, *, cfg: CheckConfig) -> CheckResult:
    """alpha_hat reaches the minimal objective value on each input, exactly singular K included (alpha
    need not be unique there, but with lambda > 0 a minimizer exists)."""
    cases = key["cases"]
    problem = _shape_problem(observed, cases, "alpha_hat")
    if problem:
        return failed(cfg, problem + ".")
    why = [_objective_problem(obs, c, best, cfg) for obs, c, best in zip(observed, cases, key["best_objective"])]
    bad = [(case, reason) for case, reason in zip(cases, why) if reason]
    if not bad:
        return passed(
            cfg, f"`alpha_hat` reaches the minimum objective on all {len(cases)} matrices, singular included."
        )
    first, reason = bad[0]
    message = (
        f"`alpha_hat` does not minimize the objective for {len(bad)} / {len(cases)} inputs "
        f"({', '.join(case['label'] for case, _ in bad)}): on {first['label']} it {reason} (rtol={cfg.rtol:g})"
    )
    if _breaks_on_singular_k_alone(observed, cases, why):
        message += "; the closed form must hold for singular K too, where with lambda > 0 a minimizer still exists"
    return failed(cfg, message + ".")


def check_regress_shape(observed: list[dict], key: dict, *, cfg: CheckConfig) -> CheckResult:
    """mercer_kernel_regress returns exactly shape (len(x),): a (m, 1) column broadcasts wrongly later."""
    for i, (obs, case) in enumerate(zip(observed, key["cases"])):
        m = len(case["x"])
        if "not_applicable" in obs:
            continue
        if "error" in obs:
            return failed(cfg, f"`mercer_kernel_regress` raised on input {i + 1}: {obs['error']}.")
        if obs["shape"] != [m]:
            return failed(
                cfg,
                f"`mercer_kernel_regress` should return shape ({m},) for {m} evaluation points; got {tuple(obs['shape'])}.",
            )
    return passed(cfg, f"`mercer_kernel_regress` returns shape (len(x),) on all {len(key['cases'])} inputs.")


def check_regress_values(observed: list[dict], key: dict, *, cfg: CheckConfig) -> CheckResult:
    """mercer_kernel_regress matches the expected fit for each probed kernel and lambda.

    Inputs the probe marks not applicable (the regression called the kernel the way the student's own
    kernels take it, and the grader's kernel has no such form) are left out; the others must all match.
    """
    bad, skipped = [], []
    for obs, case, expected in zip(observed, key["cases"], key["expected"]):
        label = case["label"]
        if "not_applicable" in obs:
            skipped.append(obs["not_applicable"])
            continue
        if "error" in obs:
            bad.append(f"{label}: raised {obs['error']}")
            continue
        if obs["shape"] != [len(case["x"])]:
            bad.append(f"{label}: shape {tuple(obs['shape'])}")
            continue
        m = mismatch(obs["data"], expected, cfg.rtol, cfg.atol)
        if m.n_bad:
            bad.append(f"{label}: {m.describe(cfg.rtol, cfg.atol)}")
    judged = len(key["cases"]) - len(skipped)
    if bad or not judged:
        first = bad[0] if bad else "no input could be judged"
        return failed(cfg, f"`mercer_kernel_regress` is wrong for {len(bad)} / {judged} inputs; {first}.")
    if skipped:
        return passed(
            cfg,
            f"`mercer_kernel_regress` matches on all {judged} kernel/lambda inputs it applies to "
            f"({len(skipped)} inputs left out: {skipped[0]}).",
        )
    return passed(cfg, f"`mercer_kernel_regress` matches on all {judged} kernel/lambda inputs.")


def check_regress_limits(observed: list[dict], key: dict, *, cfg: CheckConfig) -> CheckResult:
    """With a tiny lambda the fit interpolates y at the data points; with a huge one it shrinks to 0."""
    (tiny, huge), (c_tiny, c_huge) = observed, key["cases"]
    for obs in (tiny, huge):
        if "error" in obs:
            return failed(cfg, f"`mercer_kernel_regress` raised: {obs['error']}.")
        if len(obs["data"]) != len(c_tiny["x"]):
            return failed(
                cfg, f"`mercer_kernel_regress` returned {len(obs['data'])} values for {len(c_tiny['x'])} points."
            )
    y = np.asarray(c_tiny["y"])
    m = mismatch(tiny["data"], y, cfg.rtol, cfg.atol)
    if m.n_bad:
        return failed(
            cfg,
            f"with lambda={c_tiny['lmbda']:g} the fit at the data points should reproduce y: {m.describe(cfg.rtol, cfg.atol)}.",
        )
    size = float(np.max(np.abs(huge["data"])))
    if not size <= cfg.params["shrink"] * float(np.max(np.abs(y))):
        return failed(
            cfg, f"with lambda={c_huge['lmbda']:g} the fit should shrink towards 0; its largest value is {size:.3g}."
        )
    return passed(cfg, "`mercer_kernel_regress` interpolates as lambda -> 0 and shrinks as lambda grows.")


def check_kernels_valid(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """kernel1 and kernel2 are symmetric, give positive semi-definite Gram matrices, and differ."""
    grams = {}
    for name in ("kernel1", "kernel2"):
        obs = observed[name]
        if "error" in obs:
            return failed(cfg, f"`{name}` could not be evaluated: {obs['error']}.")
        G = np.asarray(obs["data"], dtype=float).reshape(obs["shape"])
        scale = max(float(np.max(np.abs(G))), 1e-300)
        if not np.allclose(G, G.T, rtol=0, atol=cfg.atol * scale):
            return failed(cfg, f"`{name}` is not symmetric: k(a, b) != k(b, a) on random points.")
        smallest = float(np.linalg.eigvalsh((G + G.T) / 2).min())
        if smallest < -cfg.rtol * scale:
            return failed(
                cfg,
                f"`{name}` is not positive semi-definite: its Gram matrix on random points has eigenvalue {smallest:.2g}.",
            )
        grams[name] = G
    if np.allclose(grams["kernel1"], grams["kernel2"], rtol=1e-9, atol=0):
        return failed(cfg, "`kernel1` and `kernel2` are the same kernel; the problem asks for two different ones.")
    return passed(cfg, "`kernel1` and `kernel2` are symmetric, positive semi-definite and different.")


def check_lambdas_chosen(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """lambda_hat_1 and lambda_hat_2 are set to positive finite numbers."""
    for name in ("lambda_hat_1", "lambda_hat_2"):
        value = observed.get(name)
        if value is None or not math.isfinite(value) or value <= 0:
            return failed(cfg, f"`{name}` should be a positive number; got {observed.get(name + '_repr', value)}.")
    return passed(cfg, "`lambda_hat_1` and `lambda_hat_2` are positive numbers.")


def check_lambda_risk(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """Each lambda_hat's simulated risk with its kernel is within `factor` of the best on a fine grid."""
    factor = cfg.params["factor"]
    problems, good = [], 0
    for kernel_name, lambda_name in (("kernel1", "lambda_hat_1"), ("kernel2", "lambda_hat_2")):
        curve = observed.get(kernel_name, {})
        if "error" in curve:
            problems.append(f"{lambda_name} could not be simulated ({curve['error']})")
            continue
        risks = np.asarray(curve["risk"], dtype=float)
        grid, mine = risks[:-1], risks[-1]
        best = int(np.nanargmin(grid))
        if np.isfinite(mine) and mine <= factor * grid[best]:
            good += 1
            continue
        chosen, best_lambda = curve["lmbdas"][-1], curve["lmbdas"][best]
        side = "smaller" if best_lambda < chosen else "larger"
        problems.append(
            f"`{lambda_name}` = {chosen:.3g} gives a simulated risk {mine / grid[best]:.3g} times the best with "
            f"`{kernel_name}`, which lies at {side} lambda (did your grid stop too early?)"
        )
    if problems:
        return failed(cfg, "; ".join(problems) + ".", points=round(cfg.points * good / 2, 6))
    return passed(cfg, f"both lambdas are within {factor:g}x of the best simulated risk for their kernel.")
