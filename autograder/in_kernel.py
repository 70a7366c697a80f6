"""Run one check inside a notebook's kernel, for otter's test files and `grader.check`.

The key and settings come from `assn1_keys.json` beside this module, written by `assn1 build`
(public checks only in the student's copy). In a development checkout without that file they are
built from grading.yml. The probe, the check and the message are the engine's own.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from autograder.checks.spec import CheckConfig
from autograder.results import CheckResult
from autograder.suite import ITEMS

BUNDLE_NAME = "assn1_keys.json"


@lru_cache(maxsize=1)
def _bundle() -> dict:
    shipped = Path(__file__).with_name(BUNDLE_NAME)
    if shipped.exists():
        return json.loads(shipped.read_text(encoding="utf-8"))
    from autograder.config import find_config, load_config
    from autograder.keys import build_bundle

    return build_bundle(load_config(find_config()), include_hidden=True)


def run_check(check_id: str, env: dict[str, Any]) -> CheckResult:
    """Probe the answers `check_id` reads from `env` (the notebook's globals) and judge them."""
    bundle = _bundle()
    if check_id not in bundle["keys"]:
        raise KeyError(f"check `{check_id}` is not in this bundle")
    item = ITEMS[check_id]
    answers = {name: env[name] for name in item.answers if name in env}
    observed = item.probe(answers, bundle["keys"][check_id])
    return item.check(observed, bundle["keys"][check_id], cfg=CheckConfig(**bundle["configs"][check_id]))


def require(check_id: str, env: dict[str, Any]) -> None:
    """Raise AssertionError with the check's one-sentence message unless it passed."""
    result = run_check(check_id, env)
    if not result.passed:
        raise AssertionError(result.message)
