"""Run one grader-side function on untrusted input in a fresh, confined interpreter.

Some evidence is a file, not a value in the kernel (a trained model). The grader must not load it
in its own process: `run_isolated` starts `python -m autograder.isolated REQUEST` behind the
sandbox's command prefix (memory and CPU limits, no network, read-only file system but for the
work folder), and reads back the function's plain JSON result from a file. Anything the function
raises comes back as an error message, never as a Python object.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

REQUEST, RESULT = "request.json", "result.json"


class IsolatedError(RuntimeError):
    """The isolated function failed, crashed, ran out of time or memory; the message says which."""


def run_isolated(
    target: str, kwargs: dict[str, Any], workdir: Path, prefix: list[str], env: dict[str, str], timeout_s: float
) -> Any:
    """Call `module:function(**kwargs)` in a new interpreter behind `prefix`; return its JSON result."""
    (workdir / RESULT).unlink(missing_ok=True)
    (workdir / REQUEST).write_text(json.dumps({"target": target, "kwargs": kwargs}), encoding="utf-8")
    command = [*prefix, sys.executable, "-m", "autograder.isolated", str(workdir / REQUEST)]
    try:
        proc = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise IsolatedError(f"took longer than {timeout_s:g} s and was stopped") from None
    result_file = workdir / RESULT
    if not result_file.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        memory = " (out of memory?)" if proc.returncode in (-9, 137) or "MemoryError" in tail[0] else ""
        raise IsolatedError(f"the checking process died with status {proc.returncode}{memory}: {tail[0][:200]}")
    outcome = json.loads(result_file.read_text(encoding="utf-8"))
    if "error" in outcome:
        raise IsolatedError(outcome["error"])
    return outcome["value"]


def _main(request_path: str) -> int:
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    out = Path(request_path).with_name(RESULT)
    try:
        module, _, name = request["target"].partition(":")
        value = getattr(importlib.import_module(module), name)(**request["kwargs"])
        outcome = {"value": value}
    except Exception as exc:  # noqa: BLE001 - reported to the grader as text
        message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        outcome = {"error": message, "trace": traceback.format_exc(limit=3)[-2000:]}
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(outcome), encoding="utf-8")
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1]))
