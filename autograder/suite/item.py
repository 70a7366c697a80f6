"""One automatic check of a question, with everything needed to run it on either side."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class KeyContext:
    """What key builders may read (grader side only): a seeded generator and the data files."""

    rng: np.random.Generator
    data_dir: Path
    answer_key_dir: Path
    cache_dir: Path
    test_segments: tuple[int, ...]
    problem1_file: str
    course_sha256: str
    course_key: dict
    strong_t: float


@dataclass(frozen=True)
class Item:
    """question.name identifies the check; `answers` are the notebook names it reads.

    make_key runs in the grader (it may use the reference solutions); probe runs in the student's
    kernel and returns plain data; check compares the two, in the grader or in the kernel. The
    engine hands the probe the key without its `secret` fields.
    """

    question: str
    name: str
    answers: tuple[str, ...]
    make_key: Callable[[KeyContext], dict]
    probe: Callable[[dict, dict], Any]
    check: Callable[..., Any]
    secret: tuple[str, ...] = ()  # key fields the probe must not see (expected values, the truth)
    engine_only: bool = False  # reads what only the engine records (figures); no otter test runs it
    # A file of the submission the check also judges (a trained model). The grader copies it before
    # the notebook runs, and `inspect(path, key, run)` measures it from the grader's side, calling
    # `run("module:function", **kwargs)` to do anything with the file in a confined process.
    # The check then sees {"answers": the probe's data or None, "file": inspect's data or {"error": ...}}.
    submitted_file: str | None = None
    inspect: Callable[[Path, dict, Callable[..., Any]], dict] | None = None
    # Grader-side work done once per batch of submissions, before any is graded (e.g. decompressing
    # a test set every worker then shares); returns the key with what it made added.
    prepare: Callable[[dict], dict] | None = None

    @property
    def id(self) -> str:
        return f"{self.question}.{self.name}"


def measure_file(item: Item, path: Path, key: dict, run: Callable[..., Any]) -> dict:
    """What `item.inspect` finds in the submitted file at `path`, or {"error": why not}.

    The engine and the in-kernel checks (otter, grader.check) both measure files through this."""
    from autograder.isolated import IsolatedError

    if not path.is_file():
        return {"error": "it was not submitted next to the notebook"}
    try:
        return item.inspect(path, key, run)
    except IsolatedError as exc:
        return {"error": str(exc).rstrip(".")}
