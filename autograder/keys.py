"""Build the keys and per-check settings of every automatic check (grader side).

The same function serves the notebook bundles written by `assn1 build` (public checks only for
students, all checks for the autograder) and live grading. Each check draws its inputs from its
own generator, seeded by the assignment seed and the check's id, so keys are reproducible.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np

from autograder.checks.spec import CheckConfig
from autograder.config import Config
from autograder.errors import ConfigError
from autograder.suite import ITEMS
from autograder.suite.item import KeyContext


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
                out[check_id] = CheckConfig(check_id, s.points, s.hidden, s.rtol, s.atol, dict(s.params))
    return out


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


def build_bundle(config: Config, include_hidden: bool) -> dict:
    """{"configs": {id: settings}, "keys": {id: key}} for the public checks, or for all of them.

    Every key carries the probe time limits, so the probe in the kernel obeys grading.yml."""
    checks = {i: c for i, c in configured_checks(config).items() if include_hidden or not c.hidden}
    limits = {"call_s": config.limits.probe_call_timeout_s, "budget_s": config.limits.probe_budget_s}
    return {
        "configs": {i: dataclasses.asdict(c) for i, c in checks.items()},
        "keys": {i: {**ITEMS[i].make_key(key_context(config, i)), "limits": limits} for i in checks},
    }
