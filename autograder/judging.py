"""One judging path: plain observations -> the check -> a CheckResult, and whose fault a gap is.

The engine probes in the student's kernel and calls `judge` in the grader's process; the otter test
files (`in_kernel`) and the tests probe in their own process with `observe` and call the same
`judge` through `judge_answers`. Every path strips the key's secret fields with `probe_inputs`.

Whose fault decides the outcome: malformed data from the student's code reaches the check as plain
data and the check fails it with a message about the answer; an exception raised by the grader's own
code (a check, a probe, a measurement of a file) or missing data the grader needed is "errored".
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.results import CheckResult, Concern, QuestionScore, Unobserved, errored, failed
from autograder.misconceptions import explain
from autograder.suite import ITEMS, MISCONCEPTIONS
from autograder.suite.item import Item, Runner

if TYPE_CHECKING:
    from autograder.checks.spec import CheckConfig
    from autograder.config import Config

UNBUILT = "unbuilt"  # the field of a key whose builder failed, saying why (keys.build_bundle)
UNOBSERVED = "__assn1_unobserved__"  # how a stored observation says there was none (encode)


def probe_inputs(check_id: str, key: dict) -> dict:
    """The part of a key a probe may see: everything but the item's secret fields."""
    secret = set(ITEMS[check_id].secret)
    return {k: v for k, v in key.items() if k not in secret}


def observe(check_id: str, answers: dict, key: dict) -> Any:
    """Run the item's probe here on `answers`, as the kernel runs it: inputs only, result through JSON."""
    item = ITEMS[check_id]
    scope = {name: answers[name] for name in item.answers if name in answers}
    try:
        value = item.probe(scope, probe_inputs(check_id, key))
        return json.loads(json.dumps({"value": value}))["value"]
    except Exception as exc:  # noqa: BLE001 - the probe is the grader's code: its failure is the grader's
        return Unobserved(f"the probe raised {type(exc).__name__}: {str(exc)[:200]}", "grader")


def measure(item: Item, path: Path, key: dict, run: Runner) -> dict:
    """What the item's file measurement finds in `path`, or {"error": why not, "fault": whose}.

    The engine and the in-kernel checks (otter, grader.check) both measure files through this."""
    from autograder.isolated import IsolatedError

    batch = key.get("batch") or {}
    if "unavailable" in batch:
        return {
            "error": f"the grader could not prepare its test data ({batch['unavailable'].rstrip('.')})",
            "fault": "grader",
        }
    if not path.is_file():
        return {"error": "it was not submitted next to the notebook", "fault": "submission"}
    try:
        return item.file.measure(path, key, run)
    except IsolatedError as exc:
        return {"error": str(exc).rstrip("."), "fault": exc.fault}


def measure_files(kept: Path, keys: dict[str, dict], check_ids: list[str], run: Runner) -> dict[str, dict]:
    """The measurement of every file the checks measure, by file name, each measured once."""
    out: dict[str, dict] = {}
    for check_id in check_ids:
        item = ITEMS[check_id]
        if item.file is not None and item.file.name not in out:
            out[item.file.name] = measure(item, kept / item.file.name, keys[check_id], run)
    return out


def prepare_keys(keys: dict[str, dict]) -> tuple[dict[str, dict], list[str]]:
    """Each measured file's once-per-batch preparation run on its keys' "batch" field (the same batch:
    done once), and the problems met. A failed preparation marks its batch unavailable, so the checks
    that need it come out "errored" and the others still run."""
    done: dict[tuple, dict] = {}
    problems: list[str] = []
    out = dict(keys)
    for check_id, key in keys.items():
        file = ITEMS[check_id].file
        if file is None or file.prepare is None or "batch" not in key:
            continue
        memo = (file.prepare, json.dumps(key["batch"], sort_keys=True))
        if memo not in done:
            try:
                done[memo] = file.prepare(key["batch"])
            except Exception as exc:  # noqa: BLE001 - missing data or a bug: these checks can't be judged
                from autograder.errors import Assn1Error

                cause = str(exc) if isinstance(exc, Assn1Error) else f"{type(exc).__name__}: {exc}"
                problems.append(f"{check_id} and the checks sharing its data can't be judged: {cause}")
                done[memo] = {**key["batch"], "unavailable": cause}
        out[check_id] = {**key, "batch": done[memo]}
    return out, problems


def observation(check_id: str, probed: Any, files: dict[str, dict], printed: dict[str, str]) -> Any:
    """What the check of `check_id` sees: the probe's data alone, or with its file's measurement (and
    every submitted file's, by name, to compare) and the saved outputs' values."""
    item = ITEMS[check_id]
    if item.file is None and not item.saved_output:
        return probed
    return {
        "answers": None if isinstance(probed, Unobserved) else probed,
        "file": files.get(item.file.name) if item.file is not None else None,
        "files": files,
        "printed": {name: printed[name] for name in item.saved_output if name in printed},
    }


def judge(check_id: str, observed: Any, key: dict, cfg: CheckConfig) -> CheckResult:
    """The check's verdict on `observed`, or "errored" when the grader's side could not judge it."""
    item = ITEMS[check_id]
    if UNBUILT in key:
        return errored(cfg, key[UNBUILT])
    if isinstance(observed, Unobserved):
        return _unobserved(observed, cfg)
    measured = observed.get("file") if item.file is not None and isinstance(observed, dict) else None
    if isinstance(measured, dict) and measured.get("fault") == "grader":
        return errored(cfg, f"{item.file.name} could not be measured: {measured.get('error')}")
    try:
        result = item.check(observed, key, cfg=cfg)
    except Exception as exc:  # noqa: BLE001 - the check is the grader's code
        return errored(cfg, f"the check raised {type(exc).__name__}: {str(exc)[:200]}")
    problem = _malformed(result, cfg)
    if problem:
        return errored(cfg, problem)
    if isinstance(measured, dict) and measured.get("fault") == "limit":
        limit = Concern("limit", f"measuring {item.file.name} {measured.get('error')}", cfg.id)
        result = CheckResult(**{**result.__dict__, "concerns": (*result.concerns, limit)})
    return explain(result, observed, key, MISCONCEPTIONS)


def judge_answers(
    check_id: str,
    answers: dict,
    key: dict,
    cfg: CheckConfig,
    files: dict[str, dict] | None = None,
    printed: dict | None = None,
) -> CheckResult:
    """Probe `answers` in this process and judge them: the otter test files' and the tests' path."""
    return judge(check_id, observation(check_id, observe(check_id, answers, key), files or {}, printed or {}), key, cfg)


def encode(observed: Any) -> Any:
    """An observation as JSON-able data (Unobserved marked), for the gradebook; `decode` undoes it."""
    if isinstance(observed, Unobserved):
        return {UNOBSERVED: {"reason": observed.reason, "fault": observed.fault}}
    return observed


def decode(data: Any) -> Any:
    if isinstance(data, dict) and set(data) == {UNOBSERVED}:
        return Unobserved(data[UNOBSERVED]["reason"], data[UNOBSERVED]["fault"])
    return data


def _unobserved(observed: Unobserved, cfg: CheckConfig) -> CheckResult:
    if observed.fault == "grader":
        return errored(cfg, observed.reason)
    concerns = (Concern("limit", observed.reason, cfg.id),) if observed.fault == "limit" else ()
    return failed(cfg, f"your answers could not be read: {observed.reason}.", concerns=concerns)


def _malformed(result: Any, cfg: CheckConfig) -> str:
    """Why a check's return value is not a result for this check, or ""."""
    if not isinstance(result, CheckResult):
        return f"the check returned {type(result).__name__}, not a CheckResult"
    if result.check_id != cfg.id:
        return f"the check returned a result for {result.check_id}"
    if not (isinstance(result.points, (int, float)) and math.isfinite(result.points)):
        return f"the check gave {result.points!r} points"
    if not -1e-9 <= result.points <= cfg.points + 1e-9:
        return f"the check gave {result.points:g} points out of {cfg.points:g}"
    return ""


def score_questions(config: Config, results: list[CheckResult]) -> tuple[QuestionScore, ...]:
    """Every question of grading.yml, in its order, with the results of its checks and their points."""
    by_question: dict[str, list[CheckResult]] = {}
    for result in results:
        by_question.setdefault(result.check_id.split(".")[0], []).append(result)
    out = []
    for problem in config.problems.values():
        for name, question in problem.questions.items():
            checks = tuple(by_question.get(name, ()))
            points = round(sum(c.points for c in checks), 6)
            out.append(QuestionScore(name, question.title, points, question.points, question.manual, checks))
    return tuple(out)
