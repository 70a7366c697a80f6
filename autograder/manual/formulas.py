"""Suggested verdicts for the formulas of hand-graded answers: read the student's LaTeX, compare it with
the reference. A suggestion for the grader, never a score.

Verdicts (`VERDICTS`):
- `matches`: equal to the reference (symbolic simplification, else at random positive values of the
  symbols; matrices: random symmetric positive-definite K), or, for a rate, the same exponent of n;
- `differs`: read, and not equal; the note says where when that is cheap ("exponent of n is
  -1/(p+2); the reference's is -1/(p+4)", "c1 and c2 are swapped");
- `unreadable`: the answer writes the quantity, but the parser could not read it (the text is shown);
- `image only`: no formula for it, but the answer holds an image (perhaps handwriting);
- `absent`: no formula for it and no image.

Everything the student wrote is hostile: it is parsed by a LaTeX parser and compared in a separate
process (`python -m autograder.manual.formulas`, started once per batch) with a memory limit and a
time limit per answer; a process that runs over is killed and the answer is `unreadable`. Nothing is
evaluated but sympy objects the parser built; the reference is our own text.
"""

from __future__ import annotations

import cmath
import dataclasses
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Literal

from autograder.errors import Assn1Error
from autograder.manual.latex import GIVEN, Candidate, candidates
from autograder.suite.item import Formula

Verdict = Literal["matches", "differs", "unreadable", "image only", "absent"]
VERDICTS: tuple[str, ...] = ("matches", "differs", "unreadable", "image only", "absent")
PARSERS = ("sympy", "sympy-lark", "latex2sympy2")  # sympy's ANTLR parser, sympy's Lark parser, latex2sympy2_extended
DEFAULT_PARSER = "sympy"  # reads the most of tests/manual/formula_table.py (README: "Suggested verdicts")
TIMEOUT_S = 10.0  # per answer and formula: parsing and comparing together
MEMORY_MB = 1024  # the worker process's address space
STARTUP_S = 120.0  # importing sympy and the parser, once per worker
_SIMPLIFY_S = 2  # symbolic simplification's share; the numeric comparison decides when it runs over
_POINTS = 6  # random points of the numeric comparison
_RTOL = 1e-8


@dataclass(frozen=True)
class Suggestion:
    """A suggested verdict for one formula of one submission's answer: `parsed` is what the parser read
    (sympy's text, canonical symbols), `latex` the student's text it came from, `note` where it differs
    or what to know (a form that needs K invertible, a rate given for a value)."""

    question: str
    formula: str
    title: str
    verdict: Verdict
    parsed: str = ""
    note: str = ""
    latex: str = ""


def suggest(answer, formula: Formula, judge: Judge, rivals: tuple[Formula, ...] = ()) -> Suggestion:
    """The suggestion for `formula` in an `extract.Answer`: absent, image only, or the judge's verdict
    on the formulas the answer writes for it (the last one it can read)."""
    parts = [
        (p.kind if p.kind != "output" else "markdown", p.text) for p in answer.parts if p.text and p.kind != "image"
    ]
    words = tuple(w for r in rivals if r is not formula for w in r.words)
    found = candidates(parts, formula, words)
    if not found:
        if answer.images:
            missing = [p for p in answer.images if p.kind == "missing image"]
            note = f"{len(missing)} image(s) not submitted" if missing else ""
            return Suggestion(formula.question, formula.id, formula.title, "image only", note=note)
        return Suggestion(formula.question, formula.id, formula.title, "absent")
    return judge.judge(formula, found)


class Judge:
    """The worker process that parses and compares, started on first use, restarted after a timeout."""

    def __init__(self, parser: str = DEFAULT_PARSER, timeout_s: float = TIMEOUT_S, memory_mb: int = MEMORY_MB):
        if parser not in PARSERS:
            raise ValueError(f"parser should be one of {', '.join(PARSERS)}; got {parser!r}")
        self.parser, self.timeout_s, self.memory_mb = parser, timeout_s, memory_mb
        self._proc: subprocess.Popen | None = None
        self._ready = False

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker: it holds nothing to keep, so it is killed rather than left to tear sympy down."""
        if self._proc is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def warm(self) -> None:
        """Start the worker now without waiting for it: its imports (sympy, about a second) then overlap
        whatever the caller does before its first answer."""
        if self._proc is None or self._proc.poll() is not None:
            env = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH", "HOME", "LANG", "TMPDIR")}
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "autograder.manual.formulas", self.parser, str(self.memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
            )
            self._ready = False

    def _start(self) -> subprocess.Popen:
        self.warm()
        if not self._ready:
            # the imports (sympy, the parser) happen before "ready" and count against no answer's time
            ready, _, _ = select.select([self._proc.stdout], [], [], STARTUP_S)
            if not ready or self._proc.stdout.readline().strip() != "ready":
                self._proc.kill()
                self._proc.wait()
                self._proc = None
                raise Assn1Error(
                    f"the formula parser ({self.parser}) did not start within {STARTUP_S:g} s; is sympy installed?"
                )
            self._ready = True
        return self._proc

    def judge(self, formula: Formula, found: list[Candidate]) -> Suggestion:
        """The verdict on the candidates, from the worker within the time limit."""
        proc = self._start()
        request = {"formula": dataclasses.asdict(formula), "candidates": [dataclasses.asdict(c) for c in found]}
        shown = found[-1].written if found else ""
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], self.timeout_s)
            line = proc.stdout.readline() if ready else ""
        except (OSError, ValueError):
            line = ""
        if not line:
            timed_out = proc.poll() is None
            proc.kill()
            proc.wait()
            self._proc = None
            why = (
                f"reading it took longer than {self.timeout_s:g} s"
                if timed_out
                else "the parser's process died (out of memory?)"
            )
            return Suggestion(formula.question, formula.id, formula.title, "unreadable", note=why, latex=shown)
        data = json.loads(line)
        return Suggestion(
            formula.question, formula.id, formula.title, data["verdict"], data["parsed"], data["note"], data["latex"]
        )


# ---------------------------------------------------------------- the worker's side (sympy lives here only)


def _parse(latex: str, parser: str):
    if parser == "sympy":
        from sympy.parsing.latex import parse_latex

        return parse_latex(latex)
    if parser == "sympy-lark":
        from sympy.parsing.latex import parse_latex

        return parse_latex(latex, backend="lark")
    import sympy
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig

    # latex2sympy2 reads I as the imaginary unit: the identity travels as \iota and comes back as I
    expr = latex2sympy(
        latex.replace("I", r"\iota "),
        conversion_config=ConversionConfig(interpret_as_mixed_fractions=False, lowercase_symbols=False),
    )
    return expr.subs(sympy.Symbol("iota"), sympy.Symbol("I")) if hasattr(expr, "subs") else expr


def _canonical_name(name: str) -> str:
    name = re.sub(r"\\?(?:mathbb|mathbf|boldsymbol|bm|mathrm|mathit|mathcal|text|hat|operatorname)", "", name)
    return re.sub(r"[\\{}_\s]", "", name)


def _canonical(expr, formula: dict):
    """The parsed expression over the formula's canonical symbols (positive scalars, or matrices as
    plain commutative symbols for the evaluator); the given quantity's placeholder substituted."""
    import sympy

    spell = {}
    for symbol in formula["symbols"]:
        for spelling in (symbol, *formula["aliases"].get(symbol, ())):
            spell[spelling] = symbol
    matrix = formula["kind"] == "matrix"
    table = {}
    for s in expr.free_symbols:
        name = _canonical_name(s.name)
        if name == GIVEN.lstrip("\\"):
            continue
        if name == "e" and "e" not in spell:
            table[s] = sympy.E
        elif name == "T" and matrix:
            table[s] = sympy.Symbol("T")
        else:
            table[s] = sympy.Symbol(spell.get(name, name), positive=not matrix)
    expr = expr.xreplace(table)
    placeholder = [s for s in expr.free_symbols if _canonical_name(s.name) == GIVEN.lstrip("\\")]
    if placeholder and formula["given"]:
        expr = expr.xreplace({placeholder[0]: _reference(next(iter(formula["given"].values())), formula)})
    return expr


def _reference(text: str, formula: dict):
    import sympy

    matrix = formula["kind"] == "matrix"
    local = {f"{s}_": sympy.Symbol(s, positive=not matrix) for s in formula["symbols"]}
    text = re.sub(
        r"\b([A-Za-z]\w*)\b", lambda m: f"{m.group(1)}_" if m.group(1) in formula["symbols"] else m.group(1), text
    )
    return sympy.sympify(text, locals=local)  # our own declaration's text, never the student's


class _Alarm(Exception):
    pass


def _within(seconds: int, fn, default=None):
    """fn() with a soft time limit in this (worker) process; `default` when it runs over."""

    def ring(signum, frame):
        raise _Alarm

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        return fn()
    except _Alarm:
        return default
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _points(symbols, seed: int, count: int = _POINTS):
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(count):
        point = {}
        for s in symbols:
            if s.name == "n":
                point[s] = rng.uniform(20.0, 5000.0)
            elif s.name == "p":
                point[s] = rng.uniform(1.0, 12.0)
            else:
                point[s] = rng.uniform(0.3, 4.0)
        out.append(point)
    return out


def _value(expr, point) -> complex | None:
    import sympy

    try:
        value = complex(sympy.N(expr.subs(point), 30))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None
    return value if cmath.isfinite(value) else None


def _equal_numerically(a, b, symbols, seed: int = 1) -> bool | None:
    """True/False at random positive points; None when either side has no value there."""
    for point in _points(symbols, seed):
        x, y = _value(a, point), _value(b, point)
        if x is None or y is None:
            return None
        if abs(x - y) > _RTOL * max(abs(x), abs(y), 1e-300):
            return False
    return True


def _show(expr) -> str:
    import sympy

    given = [s for s in getattr(expr, "free_symbols", ()) if _canonical_name(s.name) == GIVEN.lstrip("\\")]
    if given:
        expr = expr.xreplace({given[0]: sympy.Symbol("h*")})
    text = str(expr)
    return text if len(text) <= 300 else text[:297] + "..."


def _compare_scalar(expr, cand: dict, formula: dict) -> tuple[str, str]:
    import sympy

    ref = _reference(formula["reference"], formula)
    declared = {sympy.Symbol(s, positive=True) for s in formula["symbols"]}
    unknown = sorted(s.name for s in expr.free_symbols - declared)
    var = sympy.Symbol(formula["rate_in"], positive=True)
    symbols = sorted(declared | expr.free_symbols, key=lambda s: s.name)
    if formula["kind"] == "rate":
        return _compare_rate(expr, ref, var, symbols, formula)
    if not unknown:
        if _within(_SIMPLIFY_S, lambda: _simplifies_to_zero(expr - ref), False):
            return "matches", "equal by simplification"
        if _equal_numerically(expr, ref, symbols):
            return "matches", f"equal at {_POINTS} random positive values of {', '.join(formula['symbols'])}"
    if cand["rate"] or unknown:
        verdict, note = _compare_rate(expr, ref, var, symbols, formula)
        if verdict == "matches" and cand["rate"] and formula["rate_ok"]:
            return "matches", f"given as a rate ({note}), which is right; no constant is compared"
        if verdict == "matches" and cand["rate"]:
            return "differs", f"only the rate is given ({note}, which is right), not the formula"
        if unknown:
            return (
                "differs",
                f"uses {', '.join(unknown)}, which the reference does not ({', '.join(formula['symbols'])}); {note}",
            )
        return "differs", note
    return "differs", _where(expr, ref, symbols, formula)


def _simplifies_to_zero(expr) -> bool:
    import sympy

    quick = sympy.powsimp(sympy.expand_power_base(sympy.powdenest(expr, force=True), force=True), force=True)
    return quick == 0 or sympy.simplify(quick) == 0


def _same(a, b, symbols) -> bool:
    return bool(_equal_numerically(a, b, symbols, seed=2))


def _where(expr, ref, symbols, formula: dict) -> str:
    """Where a differing scalar formula differs: a known mistake, else the symbols whose exponent differs."""
    for text, what in formula["known_wrong"]:
        if _equal_numerically(expr, _reference(text, formula), symbols):
            return what
    notes = []
    for s in [s for s in symbols if s.name in formula["symbols"]]:
        mine, theirs = _elasticity(expr, s), _elasticity(ref, s)
        if _same(mine, theirs, symbols):
            continue
        if _power_law(mine, s, symbols) and _power_law(theirs, s, symbols):
            notes.append(f"exponent of {s.name} is {_show(_tidy(mine))}; the reference's is {_show(_tidy(theirs))}")
        else:
            notes.append(f"depends on {s.name} differently")
    if not notes:
        return "same exponents of every symbol; a different constant factor"
    return "; ".join(notes[:3])


def _elasticity(expr, var):
    """d log f / d log var, unsimplified: the exponent of `var` when f is a power law in it."""
    import sympy

    return var * sympy.diff(expr, var) / expr


def _power_law(elasticity, var, symbols) -> bool:
    """Whether the elasticity is the same at two values of `var` (the others at random values)."""
    import sympy

    moved = elasticity.subs(var, 3 * var + sympy.Rational(1, 2))
    return _same(elasticity, moved, symbols)


def _tidy(expr):
    import sympy

    return _within(1, lambda: sympy.simplify(expr), expr)


def _compare_rate(expr, ref, var, symbols, formula: dict) -> tuple[str, str]:
    if var not in expr.free_symbols:
        return "differs", f"does not depend on {var.name}"
    mine, theirs = _elasticity(expr, var), _elasticity(ref, var)
    expected = formula["exponent"] or _show(_tidy(theirs))
    if _same(mine, theirs, symbols):
        return "matches", f"exponent of {var.name}: {expected}"
    shown = _show(_tidy(mine)) if _power_law(mine, var, symbols) else "not constant (no power law)"
    for text, what in formula["known_wrong"]:
        if _same(mine, _elasticity(_reference(text, formula), var), symbols):
            return "differs", f"exponent of {var.name} is {shown}: {what}"
    return "differs", f"exponent of {var.name} is {shown}; the reference's is {expected}"


# matrices: evaluated with numpy on random symmetric positive-definite K, the identity, a vector Y


class _Shape(Exception):
    pass


def _evaluate(expr, values: dict):
    """A parsed matrix expression's value: its products are commutative in the parse, which is right for
    3.1 (every matrix is a function of the symmetric K); a scalar added to a matrix is added to every
    entry, as in numpy (so "(K + λ)^{-1}" is not "(K + λI)^{-1}")."""
    import numpy as np
    import sympy

    if expr.is_Symbol:
        if expr.name not in values:
            raise _Shape(f"unknown symbol {expr.name}")
        return values[expr.name]
    if expr.is_Number:
        return float(expr)
    if isinstance(expr, sympy.Add):
        total = 0.0
        for arg in expr.args:
            total = total + _evaluate(arg, values)
        return total
    if isinstance(expr, sympy.Mul):
        factors = [_evaluate(a, values) for a in expr.args]
        scalar = 1.0
        rows, squares, cols = [], [], []
        for f in factors:
            if np.ndim(f) == 0:
                scalar *= f
            elif f.shape[0] == f.shape[1]:
                squares.append(f)
            elif f.shape[1] == 1:
                cols.append(f)
            else:
                rows.append(f)
        if len(cols) > 1 or len(rows) > 1:
            raise _Shape("a product of two vectors")
        out = None
        for f in rows + squares + cols:
            out = f if out is None else out @ f
        return scalar if out is None else scalar * out
    if isinstance(expr, sympy.Pow):
        base, exp = expr.args
        if exp.is_Symbol and exp.name == "T":
            return np.transpose(_evaluate(base, values))
        value = _evaluate(base, values)
        if not exp.is_Integer:
            if np.ndim(value) == 0:
                return float(value) ** float(exp)
            raise _Shape("a matrix to a power that is not an integer")
        k = int(exp)
        if np.ndim(value) == 0:
            return float(value) ** k
        if value.shape[0] != value.shape[1]:
            raise _Shape("a power of a vector")
        if abs(k) > 8:
            raise _Shape("a matrix power beyond 8")
        return np.linalg.matrix_power(np.linalg.inv(value) if k < 0 else value, abs(k))
    raise _Shape(f"{type(expr).__name__} is not a matrix operation")


def _compare_matrix(expr, cand: dict, formula: dict) -> tuple[str, str]:
    import numpy as np

    ref = _reference(formula["reference"], formula)
    names = set(formula["symbols"]) | {"T"}
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in names)
    if unknown:
        return "differs", f"uses {', '.join(unknown)}, which the reference does not ({', '.join(formula['symbols'])})"
    rng = np.random.default_rng(3)
    for _ in range(3):
        values = _matrix_values(formula, rng)
        expected = _evaluate(ref, values)
        try:
            got = _evaluate(expr, values)
        except np.linalg.LinAlgError:
            return "differs", "inverts a singular matrix even for a positive-definite K"
        except _Shape as exc:
            return "differs", f"not a matrix expression for a vector: {exc}"
        if np.ndim(got) == 0 or np.shape(got) != np.shape(expected):
            shape = "a number" if np.ndim(got) == 0 else f"of shape {np.shape(got)[0]}x{np.shape(got)[1]}"
            return "differs", f"is {shape}, not a vector like Y" + _known(expr, formula, rng)
        if not np.allclose(got, expected, rtol=1e-7, atol=1e-10):
            return "differs", _known(expr, formula, rng).lstrip(
                ": "
            ) or "not equal to the reference at random symmetric positive-definite K"
    note = "equal at 3 random symmetric positive-definite K, lambda > 0"
    singular = _matrix_values(formula, rng, singular=True)
    try:
        _evaluate(expr, singular)
    except np.linalg.LinAlgError:
        note = "equal when K is invertible; this form inverts a matrix that is singular when K is (e.g. K^2 + lambda K)"
    except _Shape:
        pass
    return "matches", note


def _known(expr, formula: dict, rng) -> str:
    import numpy as np

    values = _matrix_values(formula, rng)
    try:
        got = _evaluate(expr, values)
    except Exception:  # noqa: BLE001 - only a hint
        return ""
    for text, what in formula["known_wrong"]:
        try:
            wrong = _evaluate(_reference(text, formula), values)
        except Exception:  # noqa: BLE001
            continue
        if np.shape(wrong) == np.shape(got) and np.allclose(got, wrong, rtol=1e-7, atol=1e-10):
            return f": {what}"
    return ""


def _matrix_values(formula: dict, rng, singular: bool = False, size: int = 6) -> dict:
    import numpy as np

    values = {}
    for symbol in formula["symbols"]:
        kind = formula["matrices"].get(symbol)
        if kind == "spd":
            if singular:  # exactly singular: a zero eigenvalue on the diagonal
                values[symbol] = np.diag([0.0, *rng.uniform(0.5, 2.0, size - 1)])
            else:
                a = rng.normal(size=(size, size))
                values[symbol] = a @ a.T + 0.5 * np.eye(size)
        elif kind == "identity":
            values[symbol] = np.eye(size)
        elif kind == "vector":
            values[symbol] = rng.normal(size=(size, 1))
        else:
            values[symbol] = float(rng.uniform(0.1, 2.0))
    return values


def judge_candidates(formula: dict, found: list[dict], parser: str) -> dict:
    """The verdict on one formula's candidates (worker side): the last direct one the parser reads, else
    the last implicit one; `unreadable` when none reads."""
    order = [c for c in reversed(found) if not c["implicit"]] + [c for c in reversed(found) if c["implicit"]]
    failure = ""
    for cand in order:
        try:
            parsed = _parse(cand["latex"], parser)
            if not hasattr(parsed, "free_symbols") or getattr(parsed, "is_Relational", False):
                raise ValueError("not an expression")
            expr = _canonical(parsed, formula)
        except Exception as exc:  # noqa: BLE001 - any parser failure means unreadable
            failure = failure or (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            continue
        try:
            if formula["kind"] == "matrix":
                verdict, note = _compare_matrix(expr, cand, formula)
            else:
                verdict, note = _compare_scalar(expr, cand, formula)
        except Exception as exc:  # noqa: BLE001 - a comparison that cannot be made
            verdict, note = "unreadable", f"read, but could not be compared ({type(exc).__name__})"
        if cand is not order[0] and verdict != "unreadable":
            note = f"{note}; the last formula for it could not be read, this is an earlier one".lstrip("; ")
        if cand["implicit"]:
            note = f"solved from {cand['written']}; {note}"
        return {"verdict": verdict, "parsed": _show(expr), "note": note, "latex": cand["written"]}
    return {
        "verdict": "unreadable",
        "parsed": "",
        "note": f"the parser could not read it ({failure})",
        "latex": order[0]["written"] if order else "",
    }


def _serve(parser: str, memory_mb: int) -> int:
    """The worker: one JSON request per line on stdin, one JSON verdict per line on stdout; its address
    space limited to `memory_mb` before anything is parsed."""
    import resource
    import warnings

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.filterwarnings("ignore")
    try:
        _parse("x", parser)  # imports the parser now, so that its time counts against no answer
    except Exception:  # noqa: BLE001 - a missing parser package: every answer will say so
        pass
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        started = time.monotonic()
        try:
            result = judge_candidates(request["formula"], request["candidates"], parser)
        except Exception as exc:  # noqa: BLE001 - reported as unreadable, the batch goes on
            result = {
                "verdict": "unreadable",
                "parsed": "",
                "note": f"could not be judged ({type(exc).__name__})",
                "latex": "",
            }
        result["seconds"] = round(time.monotonic() - started, 3)
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(
        _serve(
            sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PARSER, int(sys.argv[2]) if len(sys.argv) > 2 else MEMORY_MB
        )
    )
