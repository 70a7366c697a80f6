"""Measure the problem 1 tolerances at full size: how often honest answers pass and wrong ones fail.

Not a test: a full run takes tens of minutes on one core. For each data set (the generated look-alike of
grading.yml, and the course's file when it is at ../shared/data/), y is re-drawn under the key's model
(X as given, the key's refit coefficients on its columns, no intercept, noise variance s2); on every re-draw
the beta_values and risk_band keys are built exactly as grading builds them, honest and wrong answers are
computed from that re-draw, and each is judged through the one judging path with grading.yml's settings.
Draw -1 is the data as it is. Results go to --log as one JSON line per draw (a long run can be followed and
resumed) and the summary, a markdown table for docs/p1-tolerances.md, to stdout.

    OMP_NUM_THREADS=1 .venv/bin/python tests/benchmarks/simulate_p1.py --data generated --draws 200 --reference-every 4
    OMP_NUM_THREADS=1 .venv/bin/python tests/benchmarks/simulate_p1.py --data course --draws 200 --reference-every 4
    .venv/bin/python tests/benchmarks/simulate_p1.py --summary-only --log LOG   # the table from a finished log
    .venv/bin/python tests/benchmarks/simulate_p1.py --data course --why --draws 200   # why not fixed centres
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LassoCV, LassoLarsIC, lars_path
from sklearn.model_selection import KFold

from autograder.checks.p1_lasso import beta_tolerance, lower_factor, upper_factor
from autograder.checks.spec import CheckConfig
from autograder.config import load_config
from autograder.data import problem1
from autograder.judging import judge_answers
from autograder.keys import configured_checks, key_context
from autograder.suite.p1_lasso import Problem1Data, beta_key, problem1_data, risk_key
from reference import p1_lasso as ref

BETA, RISK = "q1_2_beta.beta_values", "q1_2_risk.risk_band"
COURSE_FILE = ROOT.parent / "shared" / "data" / "problem1_Xy.pkl"
HONEST, WRONG, INFO = "honest", "wrong", "undecided"

# --- the data -------------------------------------------------------------------------------------


def load_data(which: str) -> tuple[Problem1Data, dict[str, CheckConfig]]:
    """The generated look-alike or the course's file, split into strong and plausible columns as grading does."""
    folder = Path(tempfile.mkdtemp(prefix="simulate_p1_"))
    shutil.copyfile(ROOT / "grading.yml", folder / "grading.yml")
    config = load_config(folder / "grading.yml")
    if which == "course":
        problem1.data_path(config).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(COURSE_FILE, problem1.data_path(config))
    else:
        problem1.generate(config)
    data = problem1_data(key_context(config, BETA))
    shutil.rmtree(folder)
    return data, {i: c for i, c in configured_checks(config).items() if i in (BETA, RISK)}


def redraw(data: Problem1Data, rng: np.random.Generator) -> Problem1Data:
    """y again under the key's model: the refit on the key's columns without its intercept, plus fresh noise."""
    coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(data.y)), data.X[:, data.columns]]), data.y, rcond=None)
    residual = data.y - np.column_stack([np.ones(len(data.y)), data.X[:, data.columns]]) @ coef
    sigma = math.sqrt(residual @ residual / (len(data.y) - len(data.columns) - 1))
    y = data.X[:, data.columns] @ coef[1:] + sigma * rng.standard_normal(len(data.y))
    return Problem1Data(data.X, y, data.strong, data.plausible)


# --- what students do -----------------------------------------------------------------------------


def ols(X: np.ndarray, y: np.ndarray, S, intercept: bool = True) -> np.ndarray:
    """Least-squares slopes on the columns S."""
    Z = np.column_stack([np.ones(len(y)), X[:, list(S)]]) if intercept else X[:, list(S)]
    theta = np.linalg.lstsq(Z, y, rcond=None)[0]
    return theta[1:] if intercept else theta


def in_sample(X: np.ndarray, y: np.ndarray, S) -> float:
    Z = np.column_stack([np.ones(len(y)), X[:, list(S)]])
    residual = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
    return float(residual @ residual / len(y))


def bic_support(X: np.ndarray, y: np.ndarray) -> list[int]:
    """Each support along the lasso path refitted by least squares; the smallest BIC wins (up to 20 columns)."""
    _, _, coefs = lars_path(X - X.mean(axis=0), y - y.mean(), method="lasso")
    best, support = math.inf, []
    for S in {tuple(np.flatnonzero(c)) for c in coefs.T}:
        if 0 < len(S) <= 20:
            bic = len(y) * math.log(in_sample(X, y, S)) + (len(S) + 1) * math.log(len(y))
            best, support = min((best, support), (bic, list(S)))
    return support


def lassocv_fit(X: np.ndarray, y: np.ndarray) -> LassoCV:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LassoCV(cv=5, random_state=0).fit(X, y)


def lassocv_support(X: np.ndarray, y: np.ndarray) -> list[int]:
    return np.flatnonzero(lassocv_fit(X, y).coef_).tolist()


def aic_support(X: np.ndarray, y: np.ndarray) -> list[int]:
    return np.flatnonzero(LassoLarsIC(criterion="aic").fit(X, y).coef_).tolist()


def cv_whole(X: np.ndarray, y: np.ndarray, select: Callable, k: int, seed: int) -> float:
    """K-fold cross-validated squared error of select-then-least-squares, the selection redone in every fold."""
    squared = np.zeros(len(y))
    for train, test in KFold(k, shuffle=True, random_state=seed).split(X):
        S = select(X[train], y[train])
        Z = np.column_stack([np.ones(len(y)), X[:, S]])
        squared[test] = (y[test] - Z[test] @ np.linalg.lstsq(Z[train], y[train], rcond=None)[0]) ** 2
    return float(squared.mean())


def cv_fixed(X: np.ndarray, y: np.ndarray, S, k: int, seed: int) -> float:
    """K-fold cross-validated squared error of least squares on the fixed columns S (k = n: leave-one-out)."""
    return cv_whole(X, y, lambda *_: list(S), k, seed)


def beta_answers(X: np.ndarray, y: np.ndarray, data: Problem1Data, fits: dict) -> dict[str, tuple]:
    """(kind, S_hat, beta_hat) per way of estimating beta on this re-draw."""
    bic, lcv = fits["bic"], fits["lassocv"]
    lcv_S = np.flatnonzero(lcv.coef_).tolist()
    aic = aic_support(X, y)
    big = ols(X, y, lcv_S)
    Z = np.column_stack([np.ones(len(y)), X[:, lcv_S]])
    resid = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
    se = np.sqrt(resid @ resid / (len(y) - Z.shape[1]) * np.diag(np.linalg.inv(Z.T @ Z))[1:])
    kept = [i for i, t in enumerate(np.abs(big / se)) if t > 3]
    on_all = dict(zip(data.columns, ols(X, y, data.columns)))
    out = {
        "refit on BIC support": (HONEST, bic, ols(X, y, bic)),
        "refit on LassoCV support": (HONEST, lcv_S, ols(X, y, lcv_S)),
        "refit on AIC-lasso support": (HONEST, aic, ols(X, y, aic)),
        "refit on strong columns": (HONEST, data.strong, ols(X, y, data.strong)),
        "refit on every true column, reported for the strong": (HONEST, data.strong, [on_all[j] for j in data.strong]),
        "refit without intercept on BIC support": (HONEST, bic, ols(X, y, bic, intercept=False)),
        "lasso values, LassoCV": (WRONG, lcv_S, lcv.coef_[lcv_S]),
        "lasso values, LassoLarsIC(bic)": (WRONG, *_lasso_bic_values(X, y)),
        "fit on LassoCV support, reported for its |t| > 3 columns": (
            INFO,
            [lcv_S[i] for i in kept],
            big[kept],
        ),
    }
    if "reference" in fits:
        S = fits["reference"]
        out["reference"] = (HONEST, S, ols(X, y, S))
    return out


def _lasso_bic_values(X: np.ndarray, y: np.ndarray) -> tuple[list[int], np.ndarray]:
    coef = LassoLarsIC(criterion="bic").fit(X, y).coef_
    S = np.flatnonzero(coef).tolist()
    return S, coef[S]


def risk_answers(X: np.ndarray, y: np.ndarray, data: Problem1Data, fits: dict, seed: int) -> dict[str, tuple]:
    """(kind, S_hat, risk_hat) per way of estimating the predictive risk on this re-draw."""
    bic, lcv_S = fits["bic"], np.flatnonzero(fits["lassocv"].coef_).tolist()
    n = len(y)
    rss = in_sample(X, y, bic) * n
    s2 = rss / (n - len(bic) - 1)
    out = {
        "5-fold CV of BIC select-and-refit": (HONEST, bic, cv_whole(X, y, bic_support, 5, seed)),
        "10-fold CV of BIC select-and-refit": (HONEST, bic, cv_whole(X, y, bic_support, 10, seed)),
        "5-fold CV of LassoCV select-and-refit": (HONEST, lcv_S, cv_whole(X, y, lassocv_support, 5, seed)),
        "5-fold CV of AIC-lasso select-and-refit": (HONEST, aic_support(X, y), cv_whole(X, y, aic_support, 5, seed)),
        "3-fold CV of refit on BIC support": (HONEST, bic, cv_fixed(X, y, bic, 3, seed)),
        "5-fold CV of refit on BIC support": (HONEST, bic, cv_fixed(X, y, bic, 5, seed)),
        "10-fold CV of refit on BIC support": (HONEST, bic, cv_fixed(X, y, bic, 10, seed)),
        "leave-one-out CV of refit on BIC support": (HONEST, bic, cv_fixed(X, y, bic, n, seed)),
        "10-fold CV of refit on LassoCV support": (HONEST, lcv_S, cv_fixed(X, y, lcv_S, 10, seed)),
        "Cp (in-sample + 2 s2 (k+1) / n) of BIC support": (HONEST, bic, rss / n + 2 * s2 * (len(bic) + 1) / n),
        "2-fold CV of refit on BIC support": (INFO, bic, cv_fixed(X, y, bic, 2, seed)),
        "residual variance s2 of BIC support": (INFO, bic, s2),
        "in-sample MSE of refit on BIC support": (WRONG, bic, rss / n),
        "in-sample MSE of refit on LassoCV support": (WRONG, lcv_S, in_sample(X, y, lcv_S)),
        "in-sample MSE of refit on every true column": (WRONG, data.columns, in_sample(X, y, data.columns)),
        "in-sample MSE of least squares on all 50 columns": (WRONG, bic, in_sample(X, y, range(X.shape[1]))),
        "variance of y (no model)": (WRONG, bic, float(np.var(y))),
    }
    if "reference" in fits:
        S = fits["reference"]
        out["reference (CV of its whole procedure)"] = (HONEST, S, ref.predictive_risk_cv(X, y, seed=seed).estimate)
        out["in-sample MSE of refit on reference support"] = (WRONG, S, in_sample(X, y, S))
    return out


# --- one draw -------------------------------------------------------------------------------------


def run_draw(data: Problem1Data, configs: dict, index: int, seed: int, with_reference: bool) -> dict:
    """Keys, answers and verdicts on re-draw `index` (-1: the data as it is)."""
    rng = np.random.default_rng([seed, index + 1])
    drawn = data if index < 0 else redraw(data, rng)
    start = time.perf_counter()
    keys = {BETA: beta_key(drawn), RISK: risk_key(drawn, np.random.default_rng([seed, index + 1, 1]))}
    key_s = time.perf_counter() - start
    X, y = drawn.X, drawn.y
    fits = {"bic": bic_support(X, y), "lassocv": lassocv_fit(X, y)}
    if with_reference:
        fits["reference"] = ref.select_support(X, y, seed=index + 1).tolist()
    verdicts = []
    for check_id, answers in (
        (BETA, beta_answers(X, y, drawn, fits)),
        (RISK, risk_answers(X, y, drawn, fits, seed=index + 1)),
    ):
        for name, (kind, S, value) in answers.items():
            answer = {"S_hat": np.asarray(S, dtype=int)}
            answer.update({"beta_hat": np.asarray(value)} if check_id == BETA else {"risk_hat": value})
            result = judge_answers(check_id, answer, keys[check_id], configs[check_id])
            full = result.status == "passed"
            verdicts.append(
                {
                    "check": check_id,
                    "answer": name,
                    "kind": kind,
                    "full": full,
                    "points": result.points,
                    "of": result.max_points,
                    "why": "" if full else shortfall(result.message),
                }
            )
    return {"draw": index, "key_s": key_s, "tolerances": tolerances(keys, configs), "verdicts": verdicts}


def shortfall(message: str) -> str:
    """What a failed beta_values or risk_band message charges: values outside the spread, strong signals not
    in S_hat, a risk below or above the band."""
    found = [
        why
        for phrase, why in (
            ("not within", "outside"),
            ("missing from", "missing"),
            ("below", "below"),
            ("above", "above"),
        )
        if phrase in message
    ]
    return "+".join(found) or "other"


def tolerances(keys: dict, configs: dict) -> dict[str, float]:
    """The beta tolerance (standard errors) and the risk band's factors at grading.yml's alpha."""
    beta_alpha, risk_alpha = configs[BETA].params["alpha"], configs[RISK].params["alpha"]
    return {
        "beta (SE)": beta_tolerance(keys[BETA]["beta_spread"], beta_alpha, len(keys[BETA]["strong"])),
        "risk lower (x in-sample)": lower_factor(keys[RISK]["risk_lower"], risk_alpha),
        "risk upper (x s2)": upper_factor(keys[RISK]["risk_upper"], risk_alpha),
    }


# --- the summary ----------------------------------------------------------------------------------


def summary(records: list[dict], label: str) -> str:
    """A markdown table: per answer, the share of re-draws with full points (honest) or not (wrong)."""
    drawn = [r for r in records if r["draw"] >= 0]
    actual = next((r for r in records if r["draw"] < 0), None)
    lines = [
        f"{label}: {len(drawn)} re-draws; key build {np.median([r['key_s'] for r in drawn]):.2f} s median, "
        + f"{max(r['key_s'] for r in drawn):.2f} s max; tolerances at grading.yml's alpha (median, range): "
        + ", ".join(
            f"{name} {np.median(v):.3g} ({min(v):.3g}-{max(v):.3g})"
            for name in drawn[0]["tolerances"]
            for v in [[r["tolerances"][name] for r in drawn]]
        ),
        "",
        "| check | answer | kind | re-draws | full points | rejected (for) | mean points | on the data as it is |",
        "|---|---|---|---:|---:|---|---:|---|",
    ]
    names = dict.fromkeys((v["check"], v["answer"], v["kind"]) for r in drawn for v in r["verdicts"])
    for check_id, name, kind in names:
        mine = [v for r in drawn for v in r["verdicts"] if (v["check"], v["answer"]) == (check_id, name)]
        full = [v["full"] for v in mine]
        reasons = Counter(v.get("why", "") for v in mine if not v["full"])
        why = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
        on_data = [v for v in (actual or {}).get("verdicts", []) if (v["check"], v["answer"]) == (check_id, name)]
        verdict = ("passes" if on_data[0]["full"] else f"fails ({on_data[0]['points']:g} points)") if on_data else "-"
        cell = name.replace("|", "\\|")  # a pipe in a markdown table cell
        lines.append(
            f"| {check_id.split('.')[1]} | {cell} | {kind} | {len(full)} | {100 * np.mean(full):.1f} % "
            f"| {100 * (1 - np.mean(full)):.1f} %{f' ({why})' if why else ''} | {np.mean([v['points'] for v in mine]):.2f} / "
            f"{mine[0]['of']:g} | {verdict} |"
        )
    return "\n".join(lines)


def why_not_fixed_centres(data: Problem1Data, draws: int, seed: int) -> str:
    """The spreads that rule out judging against the data alone (the refit on the true columns for beta_hat, the
    noise variance for risk_hat), as quantiles over re-draws: the evidence behind judging against S_hat's own fit."""
    rows = {name: [] for name in WHY}
    for index in range(draws):
        drawn = redraw(data, np.random.default_rng([seed, index + 1]))
        X, y = drawn.X, drawn.y
        key = beta_key(drawn)
        fit = lassocv_fit(X, y)
        S = np.flatnonzero(fit.coef_).tolist()
        refit = dict(zip(S, ols(X, y, S)))
        strong = [j for j in drawn.strong if j in S]
        bic = bic_support(X, y)
        for name, value in zip(
            WHY,
            (
                farthest(refit, key, strong),
                farthest({j: fit.coef_[j] for j in S}, key, strong),
                cv_whole(X, y, bic_support, 5, index + 1) / key["s2"],
                in_sample(X, y, bic) / key["s2"],
                in_sample(X, y, drawn.columns) / key["s2"],
            ),
        ):
            rows[name].append(value)
    levels = (0.005, 0.01, 0.05, 0.5, 0.95, 0.99, 0.995)
    lines = ["| quantity | " + " | ".join(f"{q:g}" for q in levels) + " |", "|---" + "|---:" * len(levels) + "|"]
    for name, values in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in np.quantile(values, levels)) + " |")
    return f"{draws} re-draws, quantiles\n\n" + "\n".join(lines)


def farthest(values: dict, key: dict, strong: list[int]) -> float:
    """The largest distance of a strong coefficient from the key's refit on the true columns, in its standard errors."""
    return max(abs(values[j] - key["beta"][str(j)]) / key["se"][str(j)] for j in strong)


WHY = (
    "LassoCV then refit: max over strong of abs(beta - refit on true columns) / se",
    "LassoCV values: max over strong of abs(beta - refit on true columns) / se",
    "5-fold CV of BIC select-and-refit / s2",
    "in-sample MSE of refit on BIC support / s2",
    "in-sample MSE of refit on every true column / s2",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=["generated", "course"], default="generated")
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--reference-every", type=int, default=4, help="run the (slow) reference on every n-th draw")
    parser.add_argument("--seed", type=int, default=365)
    parser.add_argument("--log", type=Path, help="JSON lines, one per draw; an existing log is resumed")
    parser.add_argument("--summary-only", action="store_true")
    parser.add_argument("--why", action="store_true", help="only the spreads against fixed centres (no keys, fast)")
    args = parser.parse_args(argv)
    if args.why:
        print(why_not_fixed_centres(load_data(args.data)[0], args.draws, args.seed))
        return 0
    log = args.log or Path(f"simulate_p1_{args.data}.jsonl")
    records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    if not args.summary_only:
        data, configs = load_data(args.data)
        done = {r["draw"] for r in records}
        with log.open("a") as out:
            for index in range(-1, args.draws):
                if index in done:
                    continue
                with_reference = index < 0 or index % args.reference_every == 0
                record = {
                    "data": args.data,
                    "seed": args.seed,
                    **run_draw(data, configs, index, args.seed, with_reference),
                }
                out.write(json.dumps(record) + "\n")
                out.flush()
                records.append(record)
                print(f"draw {index}: key {record['key_s']:.2f} s", file=sys.stderr, flush=True)
    print(summary(records, f"{records[0]['data']} data, seed {records[0]['seed']}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
