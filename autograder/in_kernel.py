"""Run one check inside a notebook's kernel, for otter's test files and `grader.check`.

The key and settings come from `assn1_keys.json` beside this module, written by `assn1 build`
(public checks only in the student's copy). In a development checkout without that file they are
built from grading.yml. Probing and judging go through `autograder.judging`, the engine's own path.
These checks are the students' own (`grader.check`); grades come from the engine on every path.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from autograder.checks.spec import CheckConfig
from autograder.judging import judge_answers, measure_files, prepare_keys
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


@lru_cache(maxsize=1)
def _prepared_keys() -> dict:
    """The keys with each measured file's batch prepared (test data decompressed), once per kernel."""
    return prepare_keys(_bundle()["keys"])[0]


def run_check(check_id: str, env: dict[str, Any]) -> CheckResult:
    """Probe the answers `check_id` reads from `env` (the notebook's globals) and judge them."""
    bundle = _bundle()
    if check_id not in bundle["keys"]:
        raise KeyError(f"check `{check_id}` is not in this bundle")
    if ITEMS[check_id].file is None:
        key, files = bundle["keys"][check_id], None
    else:
        key, files = _prepared_keys()[check_id], _measurements()
    return judge_answers(check_id, env, key, CheckConfig(**bundle["configs"][check_id]), files)


@lru_cache(maxsize=1)
def _measurements() -> dict[str, dict]:  # by file name
    """The submitted files beside the notebook, measured as the engine measures them (each step in its
    own interpreter, without the engine's sandbox), from copies; once, when a check first needs them."""
    keys = _prepared_keys()
    check_ids = [i for i in keys if ITEMS[i].file is not None]
    workdir = Path(tempfile.mkdtemp(prefix="assn1-files-"))
    for check_id in check_ids:
        name = ITEMS[check_id].file.name
        if (Path.cwd() / name).is_file() and not (workdir / name).exists():
            (workdir / name).write_bytes((Path.cwd() / name).read_bytes())
    package = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")])}

    def run(target: str, inputs: dict[str, str] | None = None, **kwargs):
        from autograder.isolated import run_isolated

        return run_isolated(target, kwargs, workdir, [], env, timeout_s=600, inputs=inputs)

    return measure_files(workdir, keys, check_ids, run)


def require(check_id: str, env: dict[str, Any]) -> None:
    """Raise AssertionError with the check's one-sentence message unless it passed."""
    result = run_check(check_id, env)
    if not result.passed:
        raise AssertionError(result.message)
