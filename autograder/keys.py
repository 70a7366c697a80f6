"""Build the keys and per-check settings of every automatic check (grader side).

The same function serves the notebook bundles written by `assn1 build` (public checks only for
students, all checks for the autograder) and live grading. Each check draws its inputs from its
own generator, seeded by the assignment seed and the check's id, so keys are reproducible.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zlib
from collections.abc import Callable

import numpy as np

from autograder.checks.spec import CheckConfig
from autograder.config import Config
from autograder.derived import Derived
from autograder.errors import Assn1Error, ConfigError
from autograder.judging import UNBUILT
from autograder.suite import ITEMS
from autograder.suite.item import Item, KeyContext


def configured_checks(config: Config) -> dict[str, CheckConfig]:
    """Every check grading.yml lists, by id `question.name`, with its points and tolerances."""
    out = {}
    for pname, problem in config.problems.items():
        for qname, question in problem.questions.items():
            for cname, s in question.checks.items():
                check_id = f"{qname}.{cname}"
                if check_id not in ITEMS:
                    raise ConfigError(
                        f"{config.path}: `problems.{pname}.questions.{qname}.checks.{cname}` names no known check; "
                        f"known ones for {qname}: {', '.join(i.name for i in ITEMS.values() if i.question == qname) or 'none'}."
                    )
                where = f"{config.path}: `problems.{pname}.questions.{qname}.checks.{cname}.params"
                params = check_params(ITEMS[check_id], s.params, where)
                out[check_id] = CheckConfig(check_id, s.points, s.hidden, s.rtol, s.atol, params)
    return out


def check_params(item: Item, given: dict[str, float], where: str) -> dict[str, float]:
    """The check's params: grading.yml's values over the item's defaults, each known, set and in range.

    `where` is "FILE: `problems....params" (the key path so far); errors name the full key."""
    declared = item.params
    for name in given:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise ConfigError(f"{where}.{name}` is not a setting of check `{item.id}`; its settings: {known}.")
    values = {}
    for name, param in declared.items():
        value = given.get(name, param.default)
        if value is None:
            raise ConfigError(f"{where}.{name}` is missing; check `{item.id}` needs it ({param.doc or 'no default'}).")
        low = "" if param.low is None else f">= {param.low:g}"
        high = "" if param.high is None else f"<= {param.high:g}"
        if (param.low is not None and value < param.low) or (param.high is not None and value > param.high):
            wanted = " and ".join(x for x in (low, high) if x)
            raise ConfigError(f"{where}.{name}` should be {wanted}; got {value:g}.")
        values[name] = float(value)
    for name, param in declared.items():
        if param.above is not None and not values[name] > values[param.above]:
            raise ConfigError(
                f"{where}.{name}` should be above `{param.above}` ({values[param.above]:g}); got {values[name]:g}."
            )
    return values


def key_context(config: Config, check_id: str) -> KeyContext:
    p1 = config.data.problem1
    return KeyContext(
        rng=np.random.default_rng([config.assignment.seed, zlib.crc32(check_id.encode())]),
        data_dir=config.data.dir,
        answer_key_dir=config.data.answer_key_dir,
        cache_dir=config.data.cache_dir,
        test_segments=tuple(config.data.problem4.test_segments),
        problem1_file=p1.file,
        course_sha256=p1.source.sha256,
        course_key={"strong": list(p1.course_key.strong), "plausible": list(p1.course_key.plausible)},
        strong_t=p1.strong_t,
    )


def build_bundle(
    config: Config, include_hidden: bool, make_keys: Callable[[Config, list[str]], dict] | None = None
) -> dict:
    """{"configs": {id: settings}, "keys": {id: key}} for the public checks, or for all of them.

    `make_keys` (default `build_keys`) gives the keys of the checks named; a batch passes `kept_keys`,
    which keeps them in the course's cache between runs. Every key carries the probe time limits, so the probe in the kernel obeys
    grading.yml.
    """
    checks = {i: c for i, c in configured_checks(config).items() if include_hidden or not c.hidden}
    limits = {"call_s": config.limits.probe_call_timeout_s, "budget_s": config.limits.probe_budget_s}
    made = (make_keys or build_keys)(config, list(checks))
    return {
        "configs": {i: dataclasses.asdict(c) for i, c in checks.items()},
        "keys": {i: {**made[i], "limits": limits} for i in checks},
    }


def kept_keys(derived: Derived) -> Callable[[Config, list[str]], dict]:
    """`build_keys` through the course's cache: keys are built again only when what they are made from changed."""

    def make(config: Config, ids: list[str]) -> dict:
        from autograder.fingerprint import derived_digest

        made_from = derived_digest(config, ids, derived.digest)
        which = hashlib.sha256(" ".join(sorted(ids)).encode()).hexdigest()[:16]  # all checks, or the public ones
        return derived.remember(f"keys {which}", made_from, lambda: build_keys(config, ids))

    return make


def build_keys(config: Config, check_ids: list[str]) -> dict:
    """Each named check's key, as plain JSON data (so a key kept between runs is the same as a fresh one).

    A key builder's Assn1Error (data the user must fix) stops here; any other exception is the grader's
    bug, recorded in the key as `unbuilt`, so that check comes out "errored" and the others still run.
    """
    return json.loads(json.dumps({i: _make_key(config, i) for i in check_ids}))


def unbuilt(bundle: dict) -> list[str]:
    """One line per check whose key could not be built."""
    return [f"{i}: {key[UNBUILT]}" for i, key in bundle["keys"].items() if UNBUILT in key]


def _make_key(config: Config, check_id: str) -> dict:
    try:
        return ITEMS[check_id].make_key(key_context(config, check_id))
    except Assn1Error:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug in the grader's key builder: this check errs, the rest run
        return {UNBUILT: f"its key could not be built: {type(exc).__name__}: {str(exc)[:200]}"}
