"""Run one grader-side function on untrusted input in a fresh, confined interpreter.

Some evidence is a file, not a value in the kernel (a trained model). The grader must not load it
in its own process: `run_isolated` starts `python -m autograder.isolated REQUEST` behind the
sandbox's command prefix (memory and CPU limits, no network, read-only file system but for the
work folder), and reads back the function's plain JSON result from a file. Anything the function
raises comes back as an error message, never as a Python object, with whose fault it is: the
function raises `FileFault` when the submitted file itself is unusable (the student's), anything
else it raises is the grader's, and a process stopped by its time or memory limit is a limit's.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any, BinaryIO

REQUEST, RESULT = "request.json", "result.json"
FD_PREFIX = "fd:"


class FileFault(ValueError):
    """Raised by an isolated function when the submitted file itself can't be used (not a model,
    unsafe to load, wrong shapes): the submission's fault, not the grader's."""


class IsolatedError(RuntimeError):
    """The isolated function failed, crashed, ran out of time or memory; the message says which.

    `fault` is "submission" (FileFault), "limit" (stopped by its time or memory limit) or "grader"."""

    def __init__(self, message: str, fault: str = "grader"):
        super().__init__(message)
        self.fault = fault


def run_isolated(
    target: str,
    kwargs: dict[str, Any],
    workdir: Path,
    prefix: list[str],
    env: dict[str, str],
    timeout_s: float,
    inputs: dict[str, str] | None = None,
) -> Any:
    """Call `module:function(**kwargs)` in a new interpreter behind `prefix`; return its JSON result.

    `inputs` name grader files the function reads (keyword -> path): they are opened here, with the
    grader's rights, and handed over as open descriptors, so the confined process needs no right to
    their folder (it may run as `nobody`, the folder hidden). The function reads them with `open_input`.
    """
    (workdir / RESULT).unlink(missing_ok=True)
    with contextlib.ExitStack() as stack:
        try:
            handles = {name: stack.enter_context(open(path, "rb")) for name, path in (inputs or {}).items()}
        except OSError as exc:
            raise IsolatedError(f"the grader could not open {exc.filename}: {exc.strerror}", "grader") from None
        fds = {name: fh.fileno() for name, fh in handles.items()}
        request = {"target": target, "kwargs": {**kwargs, **{n: f"{FD_PREFIX}{fd}" for n, fd in fds.items()}}}
        (workdir / REQUEST).write_text(json.dumps(request), encoding="utf-8")
        command = [*prefix, sys.executable, "-m", "autograder.isolated", str(workdir / REQUEST)]
        try:
            proc = subprocess.run(
                command,
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                pass_fds=tuple(fds.values()),
            )
        except subprocess.TimeoutExpired:
            raise IsolatedError(f"took longer than {timeout_s:g} s and was stopped", "limit") from None
    result_file = workdir / RESULT
    if not result_file.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        memory = proc.returncode in (-9, 137) or "MemoryError" in tail[0]
        raise IsolatedError(
            f"the checking process died with status {proc.returncode}{' (out of memory?)' if memory else ''}: "
            f"{tail[0][:200]}",
            "limit" if memory else "grader",
        )
    outcome = json.loads(result_file.read_text(encoding="utf-8"))
    if "error" in outcome:
        raise IsolatedError(outcome["error"], outcome.get("fault", "grader"))
    return outcome["value"]


def open_input(ref: str) -> BinaryIO:
    """A file `run_isolated` handed over ("fd:N", read from its start), or a path (in-process callers)."""
    if ref.startswith(FD_PREFIX):
        handle = os.fdopen(int(ref[len(FD_PREFIX) :]), "rb", closefd=False)
        handle.seek(0)
        return handle
    return open(ref, "rb")


def _main(request_path: str) -> int:
    request = json.loads(Path(request_path).read_text(encoding="utf-8"))
    out = Path(request_path).with_name(RESULT)
    try:
        module, _, name = request["target"].partition(":")
        value = getattr(importlib.import_module(module), name)(**request["kwargs"])
        outcome = {"value": value}
    except Exception as exc:  # noqa: BLE001 - reported to the grader as text
        message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        # run as __main__, this module's FileFault is not the one the function raised: import that one
        file_fault = importlib.import_module("autograder.isolated").FileFault
        fault = "submission" if isinstance(exc, file_fault) else "limit" if isinstance(exc, MemoryError) else "grader"
        if fault == "grader":
            message = f"{type(exc).__name__}: {message}"
        outcome = {"error": message, "fault": fault, "trace": traceback.format_exc(limit=3)[-2000:]}
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(outcome), encoding="utf-8")
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1]))
