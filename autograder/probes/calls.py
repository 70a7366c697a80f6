"""The one way probes call student code: value or exception, duration, and a time limit."""

from __future__ import annotations

import math
import signal
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable

import numpy as np


class ProbeTimeout(BaseException):
    """The student's code ran past the probe's time limit (a BaseException, so `except Exception` in
    student code can't swallow it)."""


@contextmanager
def time_limit(seconds: float):
    """Raise ProbeTimeout in the main thread after `seconds` (no limit off the main thread)."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise ProbeTimeout(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call(fn: Callable[..., Any], *args: Any, timeout_s: float = 10.0, **kwargs: Any) -> dict:
    """Call student code; return {"value", "error", "seconds"} with error "Type: message" or None."""
    started = time.perf_counter()
    try:
        with time_limit(timeout_s):
            value = fn(*args, **kwargs)
        error = None
    except ProbeTimeout as exc:
        value, error = None, f"timeout: {exc}"
    except BaseException as exc:  # noqa: BLE001 - a student's exception is a result, not a crash
        if isinstance(exc, KeyboardInterrupt):
            raise
        detail = str(exc)[:200]
        value, error = None, f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
    return {"value": value, "error": error, "seconds": time.perf_counter() - started}


def to_number(value: Any) -> float | None:
    """A float from a Python/numpy/sympy scalar or a size-1 array; None if it is not one (strings aren't)."""
    if isinstance(value, (str, bytes)) or value is None:
        return None
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if array.size != 1:
        return None
    return float(array.reshape(()))


def to_array(value: Any, max_size: int = 1_000_000) -> dict:
    """{"shape", "data"} of a numeric array (data flattened), or {"error"} if it is not one."""
    if value is None or value is ... or isinstance(value, (str, bytes)):
        return {"error": f"got {value!r}, not an array"}
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        return {"error": f"not a numeric array ({type(value).__name__}: {str(exc)[:80]})"}
    if array.size > max_size:
        return {"error": f"array of {array.size} entries is larger than {max_size}"}
    return {"shape": list(array.shape), "data": [x if math.isfinite(x) else float(x) for x in array.ravel().tolist()]}


def short_repr(value: Any, limit: int = 60) -> str:
    """repr(value) on one line, cut to `limit` characters, for a message about the answer."""
    try:
        text = " ".join(repr(value).split())
    except Exception as exc:  # noqa: BLE001 - a student's __repr__ may raise
        text = f"<{type(value).__name__} whose repr raised {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_callable(answer: Any, names: tuple[str, ...]) -> Callable[..., Any] | None:
    """A function of `names` from a Python callable or a sympy expression in those symbols."""
    if callable(answer):
        return answer
    free = getattr(answer, "free_symbols", None)
    if free is None or not hasattr(answer, "subs"):
        return None
    by_name = {s.name: s for s in free}

    def evaluate(*args):
        return answer.subs({by_name[n]: a for n, a in zip(names, args) if n in by_name}).evalf()

    return evaluate
