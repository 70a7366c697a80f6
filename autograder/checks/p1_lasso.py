"""Checks for problem 1 (selected support, coefficient estimates, predictive risk)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

from autograder.checks.figures import check_best_axes, curve_count
from autograder.checks.spec import CheckConfig
from autograder.results import CheckResult, failed, passed


def _indices(observed: dict) -> list[int] | None:
    values = observed.get("S_hat")
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and float(v).is_integer() for v in values):
        return None
    return [int(v) for v in values]


def check_support_format(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """S_hat is a non-empty collection of distinct 0-based column indices of X."""
    p = key["n_cols"]
    if observed.get("S_hat_error"):
        return failed(cfg, f"`S_hat` could not be read: {observed['S_hat_error']}.")
    if observed.get("S_hat_is_mask"):
        return failed(
            cfg, "`S_hat` is a boolean mask; give the selected column indices instead (e.g. np.flatnonzero(mask))."
        )
    S = _indices(observed)
    if S is None:
        return failed(
            cfg, f"`S_hat` should be a list or array of integer column indices; got {observed.get('S_hat_repr')}."
        )
    if not S:
        return failed(cfg, "`S_hat` is empty; the model has at least one nonzero coefficient.")
    if len(set(S)) != len(S):
        return failed(cfg, "`S_hat` lists a column more than once.")
    if min(S) < 0 or max(S) >= p:
        return failed(cfg, f"`S_hat` should hold 0-based indices between 0 and {p - 1}; got {min(S)}..{max(S)}.")
    return passed(cfg, f"`S_hat` holds {len(S)} distinct column indices.")


def check_support_recovery(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """S_hat contains every strong signal and no clear null; each error costs `per_error` of the points."""
    S = _indices(observed)
    if not S:
        return failed(cfg, "`S_hat` is missing or not a list of column indices.")
    strong, plausible = set(key["strong"]), set(key["strong"]) | set(key["plausible"])
    missed = len(strong - set(S))
    extra = len(set(S) - plausible)
    errors = missed + extra
    if errors == 0:
        return passed(cfg, f"`S_hat` contains every strong signal and no clear null ({len(S)} columns).")
    share = max(0.0, 1.0 - errors * cfg.params["per_error"])
    parts = []
    if missed:
        parts.append(f"misses {missed} strong signal{'s' * (missed > 1)}")
    if extra:
        parts.append(f"includes {extra} column{'s' * (extra > 1)} with no clear signal")
    return failed(cfg, f"`S_hat` {' and '.join(parts)}.", points=round(share * cfg.points, 6))


def check_beta_format(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """beta_hat has one finite value per index of S_hat, or is a full vector of length p."""
    S = _indices(observed)
    beta = observed.get("beta_hat")
    if observed.get("beta_hat_error") or not isinstance(beta, dict) or "error" in beta:
        why = observed.get("beta_hat_error") or (beta or {}).get("error", "not set")
        return failed(cfg, f"`beta_hat` should be a numeric array: {why}.")
    values = np.asarray(beta["data"], dtype=float)
    n = len(S) if S else None
    if len(beta["shape"]) != 1 or values.size not in {n, key["n_cols"]}:
        return failed(
            cfg,
            f"`beta_hat` should have one value per index of `S_hat` ({n}) or {key['n_cols']} values; got shape {tuple(beta['shape'])}.",
        )
    if not np.all(np.isfinite(values)):
        return failed(cfg, "`beta_hat` contains NaN or infinite values.")
    return passed(cfg, f"`beta_hat` has {values.size} finite values matching `S_hat`.")


def beta_on_support(observed: dict, n_cols: int) -> dict[int, float] | None:
    """beta_hat as {column: estimate} whether given in S_hat order or as a full length-p vector."""
    S = _indices(observed)
    beta = observed.get("beta_hat") or {}
    if not S or "data" not in beta or len(beta["shape"]) != 1:
        return None
    values = [float(v) for v in beta["data"]]
    if len(values) == len(S):
        return dict(zip(S, values))
    if len(values) == n_cols:
        return {j: values[j] for j in S}
    return None


@dataclass(frozen=True)
class Gram:
    """The data as least squares needs it: Z'Z, Z'y and y'y for Z = [1, X], so a check can refit any
    columns without holding X and y."""

    n: int
    ztz: np.ndarray
    zty: np.ndarray
    yty: float

    @classmethod
    def of(cls, X: np.ndarray, y: np.ndarray) -> Gram:
        Z = np.column_stack([np.ones(len(y)), X])
        return cls(len(y), Z.T @ Z, Z.T @ y, float(y @ y))

    @classmethod
    def from_key(cls, raw: dict) -> Gram:
        return cls(int(raw["n"]), np.asarray(raw["ztz"], dtype=float), np.asarray(raw["zty"], dtype=float), raw["yty"])

    def to_key(self) -> dict:
        return {"n": self.n, "ztz": self.ztz.tolist(), "zty": self.zty.tolist(), "yty": self.yty}

    def refit(self, columns: list[int]) -> tuple[dict[int, float], float]:
        """Least-squares slopes (with an intercept) on `columns`, by column, and the residual sum of squares."""
        rows = [0] + [j + 1 for j in columns]
        A, b = self.ztz[np.ix_(rows, rows)], self.zty[rows]
        theta = np.linalg.lstsq(A, b, rcond=None)[0]
        return dict(zip(columns, theta[1:].tolist())), max(self.yty - float(theta @ b), 0.0)


def usable_columns(observed: dict, n_cols: int) -> list[int]:
    """The distinct in-range columns of S_hat, sorted: what a refit on the student's support can use."""
    return sorted({j for j in _indices(observed) or [] if 0 <= j < n_cols})


def _quantile(p: float) -> float:
    """The standard normal's p-quantile (the standard library's, exact to double precision: importing
    scipy.stats for it cost a second of every grade)."""
    return statistics.NormalDist().inv_cdf(p)


def beta_tolerance(spread: list[list[float]], alpha: float, n_strong: int) -> float:
    """Standard errors an honest estimate may lie from the refit on S_hat: each honest variant's deviation
    is normal (mean m, sd s, in standard errors), so |m| + z s with a Bonferroni z bounds all strong
    coefficients at once with probability 1 - alpha."""
    z = _quantile(1 - alpha / (2 * max(n_strong, 1)))
    return max(abs(m) + z * s for m, s in spread)


def check_beta_values(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """Each strong coefficient in S_hat is within the honest spread of the least-squares refit on S_hat."""
    estimates = beta_on_support(observed, key["n_cols"])
    if estimates is None:
        return failed(cfg, "`beta_hat` does not line up with `S_hat`, so its values can't be checked.")
    strong = [int(j) for j in key["strong"]]
    present = [j for j in strong if j in estimates]
    if not present:
        return failed(cfg, "`S_hat` contains none of the strong signals, so no coefficient can be checked.")
    refit, _ = Gram.from_key(key["gram"]).refit(usable_columns(observed, key["n_cols"]))
    alpha = cfg.params["alpha"]
    tolerance = beta_tolerance(key["beta_spread"], alpha, len(strong))
    far = [j for j in present if abs(estimates[j] - refit[j]) > tolerance * key["se"][str(j)]]
    missing = len(strong) - len(present)
    within = (
        f"{tolerance:.2f} standard errors (the honest spread at alpha={alpha:g}) of the least-squares refit on `S_hat`"
    )
    if not far and not missing:
        return passed(cfg, f"every strong coefficient is within {within}.")
    share = (len(present) - len(far)) / len(strong)
    return failed(cfg, _beta_shortfall(len(far), missing, within), points=round(share * cfg.points, 6))


def _beta_shortfall(far: int, missing: int, within: str) -> str:
    """What costs beta_values points: strong coefficients outside the spread, strong signals not estimated."""
    parts = []
    if far:
        parts.append(
            f"{far} strong coefficient{'s' * (far != 1)} of `S_hat` {'are' if far != 1 else 'is'} not within {within} "
            "(shrunken lasso values?)"
        )
    if missing:
        parts.append(
            f"{missing} strong signal{'s are' if missing > 1 else ' is'} missing from `S_hat`, so not estimated"
        )
    return "; ".join(parts) + "."


def check_risk_format(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """risk_hat is a single finite, positive number (a mean of squared errors can't be negative)."""
    value = observed.get("risk_hat")
    if value is None:
        return failed(cfg, f"`risk_hat` should be a number; got {observed.get('risk_hat_repr')}.")
    if not math.isfinite(value):
        return failed(cfg, f"`risk_hat` should be finite; got {value}.")
    if value <= 0:
        return failed(cfg, f"`risk_hat` should be positive (an expected squared error); got {value:.4g}.")
    return passed(cfg, "`risk_hat` is a positive number.")


def lower_factor(spread: list[list[float]], alpha: float) -> float:
    """The least ratio of an honest out-of-sample estimate to the in-sample error of the same least-squares
    fit: (ratio - 1)^(1/3) is close to normal (Wilson-Hilferty) for each honest variant; the smallest
    alpha/2 quantile over the variants, never below 1 (cross-validating a fixed fit never beats it)."""
    z = _quantile(alpha / 2)
    return 1.0 + min(max(m + z * s, 0.0) ** 3 for m, s in spread)


def upper_factor(spread: list[float], alpha: float) -> float:
    """The largest ratio of an honest estimate to the noise variance: the 1 - alpha/2 quantile of a
    log-normal fitted to the most pessimistic honest procedure's estimates."""
    m, s = spread
    return math.exp(m + _quantile(1 - alpha / 2) * s)


def check_risk_band(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """risk_hat lies where honest out-of-sample estimates of E(Y - X beta_hat)^2 lie on this data: above the
    in-sample error of the least-squares fit on S_hat, below what the most pessimistic honest procedure gives."""
    value = observed.get("risk_hat")
    if value is None or not math.isfinite(value):
        return failed(cfg, "`risk_hat` is not a finite number.")
    alpha = cfg.params["alpha"]
    gram = Gram.from_key(key["gram"])
    columns = usable_columns(observed, key["n_cols"])
    model = "`S_hat`" if columns else "the true columns"
    in_sample = gram.refit(columns or sorted(key["strong"] + key["plausible"]))[1] / gram.n
    low = lower_factor(key["risk_lower"], alpha)
    high = upper_factor(key["risk_upper"], alpha)
    if value < low * in_sample:
        return failed(
            cfg,
            f"`risk_hat` = {value:.4g} is below what any honest estimate of the squared prediction error gives here: "
            f"less than {low:.3g} times the in-sample error of the least-squares fit on {model} (alpha={alpha:g}); "
            "a training error, or an unsquared mean residual?",
        )
    if value > high * key["s2"]:
        return failed(
            cfg,
            f"`risk_hat` = {value:.4g} is far above the prediction error a reasonable model reaches here "
            f"(more than {high:.3g} times the noise variance, alpha={alpha:g}).",
        )
    return passed(cfg, f"`risk_hat` = {value:.4g} is in the plausible range.")


def check_path_plot(observed: dict, key: dict, *, cfg: CheckConfig) -> CheckResult:
    """The 1.1 figure has a log-scaled x axis, both axes labelled, and one curve per coefficient."""
    n = key["min_curves"]
    return check_best_axes(
        observed,
        [
            ("a log-scaled x axis", lambda ax: ax["xscale"] == "log"),
            ("labels on both axes", lambda ax: bool(ax["xlabel"].strip() and ax["ylabel"].strip())),
            (f"at least {n} curves (one per coefficient)", lambda ax: curve_count(ax) >= n),
        ],
        "lasso path plot",
        cfg=cfg,
    )
