"""One automatic check of a question, declared once, with everything needed to run it on either side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# `run("module:function", **kwargs)`: calls a grader-side function in a confined process of its own.
Runner = Callable[..., Any]


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
class Param:
    """A setting a check reads from its `params` in grading.yml: the default, the allowed range
    (inclusive), and another param it must exceed. A default of None makes it required."""

    default: float | None
    low: float | None = None
    high: float | None = None
    above: str | None = None
    doc: str = ""


@dataclass(frozen=True)
class MeasuredFile:
    """A file of the submission a check judges (a trained model), measured from the grader's side.

    The engine copies `name` from beside the notebook before the notebook runs (the notebook cannot
    swap it), then calls `measure(path, key, run)`, which does anything with the file through `run`,
    in confined processes. `prepare(batch)` runs once per batch of submissions on the key's "batch"
    field (what every check of every submission shares, e.g. a decompressed test set) and returns it
    completed; the engine memoises it on that field alone.
    """

    name: str
    measure: Callable[[Path, dict, Runner], dict]
    prepare: Callable[[dict], dict] | None = None


@dataclass(frozen=True)
class Item:
    """question.name identifies the check; `answers` are the notebook names it reads.

    make_key runs in the grader (it may use the reference solutions); probe runs in the student's
    kernel (or in-process for the otter path and the tests) and returns plain data; check compares
    the two, always through `autograder.judging.judge`. The probe never sees the key's `secret` fields.
    """

    question: str
    name: str
    answers: tuple[str, ...]
    make_key: Callable[[KeyContext], dict]
    probe: Callable[[dict, dict], Any] | None  # None for a figure check: the engine observes for it
    check: Callable[..., Any]
    secret: tuple[str, ...] = ()  # key fields the probe must not see (expected values, the truth)
    # A figure check: it reads the figures the cells of its question displayed, which only the engine
    # records (so no otter test runs it); its check sees {"question": "1.1", "figures": [...]}.
    engine_only: bool = False
    params: dict[str, Param] = field(default_factory=dict)  # what grading.yml's `params` may set
    # When set, the check sees {"answers": the probe's data or None, "file": the measurement or
    # {"error", "fault"}, "printed": {name: text}} instead of the probe's data alone.
    file: MeasuredFile | None = None
    # Names whose values the check also reads from the notebook's saved outputs ("NAME = value"
    # lines), as text, never evaluated: figures computed on data the grader does not give the kernel.
    saved_output: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.question}.{self.name}"


@dataclass(frozen=True)
class Formula:
    """A formula a hand-graded answer ends in, declared for the suggested verdict (never a score).

    `names`: how the quantity is written left of "=" once decorations are dropped ("h" covers h^*,
    h^\\star, h_0, \\hat h, h_{opt}); `reference`: the right answer, a sympy expression in the
    canonical `symbols` (our text, never the student's); `aliases`: other spellings of a symbol once
    braces, backslashes and font commands are dropped ("lmbda" for lambda, "y" for Y, "In" for I).
    `kind`: "value" (equal to the reference), "rate" (the same exponent of `rate_in`), or "matrix"
    (equal when `matrices` are substituted: "spd" a random symmetric positive-definite matrix,
    "identity", "vector"). `rate_ok`: a value given only as a rate (O(...)) matches when its rate is
    right (a bound) rather than differing. `given`: a decorated name in the answer that stands for a
    known quantity (h^* in R(h^*) = c_1 h^{*4} + ...), with its expression. `words`: prose that names a
    bare formula ("the risk decays like $n^{-4/(p+4)}$"). `known_wrong`: (expression, what it is)
    pairs a differing answer is compared with, to say where it differs (each, like the reference, a
    sympy expression in the canonical symbols)."""

    question: str
    name: str
    title: str
    names: tuple[str, ...]
    reference: str
    symbols: tuple[str, ...]
    kind: str = "value"
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rate_in: str = "n"
    rate_ok: bool = False
    given: dict[str, str] = field(default_factory=dict)
    words: tuple[str, ...] = ()
    known_wrong: tuple[tuple[str, str], ...] = ()
    matrices: dict[str, str] = field(default_factory=dict)
    exponent: str = ""  # the reference's exponent of `rate_in` as notes show it, when sympy's is long

    @property
    def id(self) -> str:
        return f"{self.question}.{self.name}"
