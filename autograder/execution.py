"""Run a submission's notebook in a confined kernel, cell by cell, then ask it for plain data.

The kernel is started through the sandbox's command prefix and reached over unix sockets (jupyter's
ipc transport), so it can live in its own network namespace. Cells run under a per-cell and a
per-notebook time limit; a cell that kills the kernel (os._exit, a crash, running out of memory) is
recorded, the kernel restarted, the cells before it replayed, and the rest run without it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from autograder.results import Unobserved

IGNORE_TAG = "otter_ignore"
MAX_RESTARTS = 3
RESULT_START, RESULT_END = "<<assn1-result>>", "<<end-assn1-result>>"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# The display messages in which the setup code sends each cell's figure descriptions (probing.py).
FIGURES_MIME = "application/vnd.assn1.figures+json"
# otter's own calls: the grader does the checking, so these lines never run under grading.
OTTER_LINE = re.compile(
    r"^\s*(import otter\b.*|grader\s*=\s*otter\.Notebook\(.*\)|grader\.(check|check_all|export)\(.*\))\s*$"
)


class ConfinedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command starts behind the sandbox's prefix, on `python` (the
    student environment's interpreter) when one is given, else on the kernelspec's own."""

    prefix: list[str] = []
    python: str = ""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        command = super().format_kernel_cmd(extra_arguments)
        if self.python:  # the python3 kernelspec is `<python> -m ipykernel_launcher -f <connection file>`
            command = [self.python, *command[1:]]
        return [*self.prefix, *command]


@dataclass
class CellRecord:
    index: int
    status: str  # ran / error / timeout / killed-kernel / skipped-tag / not-reached
    seconds: float = 0.0
    detail: str = ""
    traceback: str = ""  # of an error: IPython's traceback text, colours removed


@dataclass
class Execution:
    """What happened while a notebook ran, and the plain data the probes read back (or why not)."""

    notebook: nbformat.NotebookNode
    cells: list[CellRecord] = field(default_factory=list)
    probes: dict[str, Any] = field(default_factory=dict)  # check id -> plain data, or Unobserved
    restarts: int = 0
    timed_out: bool = False
    seconds: float = 0.0
    startup_error: str = ""
    figures: dict[int, list[dict]] = field(default_factory=dict)  # cell index -> figures it displayed
    phases: dict[str, float] = field(default_factory=dict)  # seconds: kernel start, setup, cells, each probe

    def timed(self, phase: str, since: float) -> None:
        self.phases[phase] = self.phases.get(phase, 0.0) + time.monotonic() - since


def prepare(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy with otter's init/check/export lines removed and outputs cleared."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(line for line in cell.source.splitlines() if not OTTER_LINE.match(line))
            cell.outputs, cell.execution_count = [], None
    return nb


@dataclass(frozen=True)
class RunSpec:
    """How to run one notebook: the sandbox's command prefix, its folders and environment, the grader's
    own code (setup, the probes' loader, one probe per check) and the time limits."""

    prefix: list[str]
    scratch: Path
    connection_dir: Path
    env: dict[str, str]
    setup_code: str
    loader_code: str
    probe_code: dict[str, str]
    cell_timeout_s: float
    notebook_timeout_s: float
    probe_timeout_s: float
    figure_token: str = ""  # figure messages without it are not the setup code's, and are dropped
    python: str = ""  # the kernel's interpreter (the student environment's); "" for the kernelspec's own


def run(nb: nbformat.NotebookNode, spec: RunSpec) -> Execution:
    """Execute `nb` in a confined kernel, then run each probe and parse its JSON result."""
    return asyncio.run(_run(nb, spec))


async def _run(nb: nbformat.NotebookNode, spec: RunSpec) -> Execution:
    prefix, scratch, connection_dir, env = spec.prefix, spec.scratch, spec.connection_dir, spec.env
    setup_code, probe_code, cell_timeout_s = spec.setup_code, spec.probe_code, spec.cell_timeout_s
    started = time.monotonic()
    deadline = started + spec.notebook_timeout_s
    result = Execution(notebook=nb, cells=[CellRecord(i, "not-reached") for i in range(len(nb.cells))])
    client = NotebookClient(
        nb,
        timeout=cell_timeout_s,
        allow_errors=True,
        interrupt_on_timeout=True,
        skip_cells_with_tag=IGNORE_TAG,
        startup_timeout=120,
        kernel_name="python3",
    )
    replay: list[int] = []
    position = 0
    try:
        while True:
            t0 = time.monotonic()
            try:
                await _start(client, prefix, scratch, env, connection_dir / f"run-{result.restarts}", spec.python)
                result.timed("kernel start", t0)
            except Exception as exc:  # noqa: BLE001 - reported as the submission's status
                log = connection_dir / "kernel.log"
                tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
                result.startup_error = f"kernel did not start: {type(exc).__name__}: {str(exc)[:160]}" + (
                    f" ({tail[0][:200]})" if tail else ""
                )
                break
            try:
                t0 = time.monotonic()
                await _execute_code(client, setup_code, timeout=120)
                result.timed("setup", t0)
                cells_started = time.monotonic()
                for index in replay:
                    await _execute_cell(client, nb, index, max(1.0, min(cell_timeout_s, deadline - time.monotonic())))
                    result.figures[index] = take_figures(nb.cells[index], spec.figure_token)
                while position < len(nb.cells):
                    cell = nb.cells[position]
                    record = result.cells[position]
                    if cell.cell_type != "code" or not cell.source.strip():
                        record.status = "ran"
                    elif IGNORE_TAG in cell.metadata.get("tags", []):
                        record.status = "skipped-tag"
                    elif time.monotonic() >= deadline:
                        result.timed_out = True
                        record.detail = "notebook time limit reached"
                        break
                    else:
                        t0 = time.monotonic()
                        status, detail = await _execute_cell(client, nb, position, min(cell_timeout_s, deadline - t0))
                        result.figures[position] = take_figures(cell, spec.figure_token)
                        record.status, record.detail, record.seconds = status, detail, time.monotonic() - t0
                        record.traceback = error_traceback(cell) if status == "error" else ""
                        if status in ("ran", "error", "timeout"):
                            replay.append(position)
                    position += 1
                result.timed("cells", cells_started)
                t0 = time.monotonic()
                await _execute_code(client, spec.loader_code, timeout=spec.probe_timeout_s)
                result.timed("probe loading", t0)
                for check_id, code in probe_code.items():
                    t0 = time.monotonic()
                    text = await _execute_code(client, code, timeout=spec.probe_timeout_s)
                    result.probes[check_id] = _parse_result(text, spec.probe_timeout_s)
                    result.timed(f"probe {check_id}", t0)
                break
            except DeadKernelError as exc:
                record = result.cells[position] if position < len(result.cells) else None
                if record is not None:
                    record.status, record.detail = "killed-kernel", f"the kernel died in this cell ({str(exc)[:120]})"
                    position += 1
                result.restarts += 1
                await _stop(client)
                if result.restarts > MAX_RESTARTS or time.monotonic() >= deadline:
                    gone = Unobserved(f"the kernel died {result.restarts} times and was not restarted again", "limit")
                    for check_id in probe_code:
                        result.probes.setdefault(check_id, gone)
                    break
    finally:
        await _stop(client)
    result.seconds = time.monotonic() - started
    return result


async def _start(
    client: NotebookClient, prefix: list[str], scratch: Path, env: dict, connection_dir: Path, python: str = ""
) -> None:
    """A fresh kernel behind `prefix`, its sockets in a folder of their own (a restart must not meet stale ones)."""
    connection_dir.mkdir()
    os.chmod(connection_dir, 0o777)  # the kernel's user creates its sockets here
    km = ConfinedKernelManager(kernel_name="python3", transport="ipc")
    km.prefix, km.python = prefix, python
    km.connection_file = str(connection_dir / "kernel.json")
    km.ip = str(connection_dir / "ipc")
    # Interrupt through the control channel: a signal would stop the sandbox's launcher, not the kernel.
    km.kernel_spec.interrupt_mode = "message"
    client.km = km
    km.write_connection_file()
    os.chmod(km.connection_file, 0o644)
    owner = connection_dir.parent.stat()  # the kernel's user (sandbox.hand_over)
    if os.geteuid() == 0 and owner.st_uid != 0:  # ipykernel 6 rewrites its connection file as it starts
        os.chown(km.connection_file, owner.st_uid, owner.st_gid)
    with open(connection_dir.parent / "kernel.log", "ab") as log:  # the kernel's own chatter, for diagnosis
        await km.start_kernel(cwd=str(scratch), env=env, stdout=log, stderr=log)
    await client.async_start_new_kernel_client()


async def _stop(client: NotebookClient) -> None:
    km = client.km
    try:
        if km is not None and await km.is_alive():
            await km.shutdown_kernel(now=True)
    except Exception:  # noqa: BLE001 - best effort: the kernel may already be gone
        pass
    finally:
        if getattr(client, "kc", None) is not None:
            client.kc.stop_channels()
            client.kc = None
        if km is not None:
            try:
                await km.cleanup_resources()
            except Exception:  # noqa: BLE001
                pass


def take_figures(cell: nbformat.NotebookNode, token: str) -> list[dict]:
    """Remove the figure messages from a cell's outputs; return the descriptions the setup code sent
    with `token`, if the cell also displayed a figure (an image among its outputs), else []."""
    sent, kept = [], []
    for output in cell.get("outputs", []):
        payload = output.get("data", {}).get(FIGURES_MIME) if output.get("output_type") == "display_data" else None
        if payload is None:
            kept.append(output)
        elif isinstance(payload, dict) and payload.get("token") == token and isinstance(payload.get("figures"), list):
            sent += [f for f in payload["figures"] if isinstance(f, dict)]
    cell.outputs = kept
    shown = any(
        "image/png" in o.get("data", {}) for o in kept if o.get("output_type") in ("display_data", "execute_result")
    )
    return sent if shown and token else []


def error_traceback(cell: nbformat.NotebookNode) -> str:
    """The traceback text of a cell's first error output, without the terminal colours."""
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if not errors:
        return ""
    return ANSI.sub("", "\n".join(str(line) for line in errors[0].get("traceback", [])))[-20_000:]


async def _execute_cell(client: NotebookClient, nb, index: int, timeout: float) -> tuple[str, str]:
    client.timeout = max(1, int(timeout))
    cell = nb.cells[index]
    cell.outputs = []
    try:
        await client.async_execute_cell(cell, index)
    except CellTimeoutError:
        return "timeout", f"cell ran longer than {client.timeout} s"
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        # nbclient stops a cell past its time limit by interrupting the kernel
        timeout = any(o.get("ename") in ("KeyboardInterrupt", "CellTimeoutError") for o in errors)
        return ("timeout" if timeout else "error"), f"{errors[0].get('ename')}: {str(errors[0].get('evalue'))[:200]}"
    return "ran", ""


async def _execute_code(client: NotebookClient, code: str, timeout: float) -> str | None:
    """Run code that isn't part of the notebook (setup, probes); return what it printed to stdout,
    or None when it ran past `timeout` (it is interrupted).

    It goes straight to the kernel client, so the notebook's cells and execution counts stay as they were.
    """
    kc = client.kc
    msg_id = kc.execute(code, store_history=False, allow_stdin=False)
    deadline = time.monotonic() + timeout
    printed: list[str] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            await client.km.interrupt_kernel()
            return None
        try:
            msg = await kc.get_iopub_msg(timeout=min(remaining, 5))
        except asyncio.TimeoutError:
            continue
        except Exception:  # noqa: BLE001 - queue.Empty from the client: keep waiting until the deadline
            if not await client.km.is_alive():
                raise DeadKernelError("the kernel died while running grader code") from None
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content.get("name") == "stdout":
            printed.append(content.get("text", ""))
        elif kind == "status" and content.get("execution_state") == "idle":
            return "".join(printed)


def _parse_result(text: str | None, timeout_s: float, max_bytes: int = 20_000_000) -> Any:
    """The probe's plain data, or Unobserved saying why there is none and whose doing that was."""
    if text is None:
        return Unobserved(f"probing your answers took longer than {timeout_s:g} s (limits.probe_budget_s)", "limit")
    start, end = text.rfind(RESULT_START), text.rfind(RESULT_END)
    if start < 0 or end < start:
        return Unobserved("the grader's probe printed no result (the kernel may have been unresponsive)", "grader")
    payload = text[start + len(RESULT_START) : end]
    if len(payload) > max_bytes:
        return Unobserved(f"the answers came back larger than {max_bytes} bytes", "submission")
    try:
        value = json.loads(payload)
    except json.JSONDecodeError as exc:
        return Unobserved(f"the grader's probe printed invalid JSON ({exc})", "grader")
    if isinstance(value, dict) and "probe_error" in value:
        return Unobserved(f"the grader's probe raised {str(value['probe_error'])[:200]}", "grader")
    if not isinstance(value, dict) or "value" not in value:
        return Unobserved("the grader's probe result has the wrong form", "grader")
    return value["value"]


def kernel_env(scratch: Path, shipped: Path, seed: int, python: str = "") -> dict[str, str]:
    """A small, explicit environment for the kernel: nothing of the grader's leaks in. With `python`
    (the student environment's interpreter), its folder comes first on PATH, as in an activated one."""
    path = os.environ.get("PATH", "/usr/bin:/bin")
    return {
        "PATH": f"{Path(python).parent}{os.pathsep}{path}" if python else path,
        "HOME": str(scratch),
        "PYTHONPATH": str(shipped),
        "PYTHONHASHSEED": str(seed),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "LANG": "C.UTF-8",
        **{k: v for k, v in os.environ.items() if k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }
