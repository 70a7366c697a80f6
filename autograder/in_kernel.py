"""Run one check inside a notebook's kernel, for otter's test files and `grader.check`.

The key and settings come from `assn1_keys.json` beside this module, written by `assn1 build`
(public checks only in the student's copy). In a development checkout without that file they are
built from grading.yml. The probe, the check and the message are the engine's own.
"""

from __future__ import annotations

import json
import tempfile
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
    key = bundle["keys"][check_id]
    answers = {name: env[name] for name in item.answers if name in env}
    observed = item.probe(answers, key)
    if item.submitted_file is not None:
        key, found = _inspect_here(check_id)
        observed = {"answers": observed, "file": found, "printed": {}}
    return item.check(observed, key, cfg=CheckConfig(**bundle["configs"][check_id]))


def _inspect_here(check_id: str) -> tuple[dict, dict]:
    """The check's key made ready (test data decompressed) and what its submitted file measures."""
    key = _bundle()["keys"][check_id]
    try:
        key = ITEMS[check_id].prepare(key) if ITEMS[check_id].prepare else key
    except Exception as exc:  # noqa: BLE001 - no test data here: the check cannot be judged
        return key, {"error": f"the test data is not available here ({exc})"}
    shared = {k: v for k, v in key.items() if k not in ("file", "reported")}  # the same for every check of a file
    return key, _measure(ITEMS[check_id].submitted_file, json.dumps(shared, sort_keys=True))


@lru_cache(maxsize=None)
def _measure(file: str, key_json: str) -> dict:
    """The submitted file beside the notebook, measured as the engine measures it (each step in its own
    interpreter, without the engine's sandbox); once per file, whichever check asks first."""
    import os

    from autograder.isolated import run_isolated
    from autograder.suite.item import measure_file

    item = next(i for i in ITEMS.values() if i.submitted_file == file)
    package = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")])}
    workdir = Path(tempfile.mkdtemp(prefix=f"assn1-{file}-"))
    kept = workdir / file
    if (Path.cwd() / file).is_file():  # measured from a copy, as in the engine
        kept.write_bytes((Path.cwd() / file).read_bytes())

    def run(target: str, **kwargs):
        return run_isolated(target, kwargs, workdir, [], env, timeout_s=600)

    return measure_file(item, kept, json.loads(key_json), run)


def require(check_id: str, env: dict[str, Any]) -> None:
    """Raise AssertionError with the check's one-sentence message unless it passed."""
    result = run_check(check_id, env)
    if not result.passed:
        raise AssertionError(result.message)
