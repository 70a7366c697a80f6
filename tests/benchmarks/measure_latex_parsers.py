"""Which LaTeX parser reads more of the students' formulas: the table of tests/manual/formula_table.py run
through extraction and the judge with each candidate parser (not a test).

    .venv/bin/python tests/benchmarks/measure_latex_parsers.py [--parser NAME ...] [--show]

The candidates other than sympy's ANTLR parser are not dependencies: `pip install lark latex2sympy2_extended`
(latex2sympy2_extended accepts the ANTLR 4.11 runtime sympy needs) to measure them.

Per parser: how many of the answers that write a formula it reads (not `unreadable`), how many verdicts
agree with the table, the share of correct variants that read as `matches`, wrong ones read as `matches`
(must be 0), and the time. `--show` lists each disagreement.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "manual"))

from formula_table import CASES, run_table

from autograder.manual.formulas import PARSERS


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parser", nargs="*", default=list(PARSERS), choices=PARSERS)
    parser.add_argument("--show", action="store_true", help="list the rows whose verdict differs from the table")
    args = parser.parse_args()
    written = [c for c in CASES if c.expected in ("matches", "differs")]
    correct = [c for c in CASES if c.expected == "matches"]
    wrong = [c for c in CASES if c.expected == "differs"]
    print(f"{len(CASES)} answers: {len(written)} write a readable formula ({len(correct)} correct, {len(wrong)} wrong)")
    print(
        f"{'parser':<14} {'reads':>12} {'verdicts agree':>15} {'correct→matches':>16} {'wrong→matches':>14} {'seconds':>8}"
    )
    for name in args.parser:
        missing = _missing(name)
        if missing:
            print(f"{name:<14} not installed: pip install {missing}")
            continue
        started = time.monotonic()
        rows = run_table(name)
        seconds = time.monotonic() - started
        got = {id(c): s for c, s in rows}
        reads = sum(got[id(c)].verdict != "unreadable" for c in written)
        agree = sum(s.verdict == c.expected for c, s in rows)
        right = sum(got[id(c)].verdict == "matches" for c in correct)
        false = sum(got[id(c)].verdict == "matches" for c in wrong)
        print(
            f"{name:<14} {reads:>3}/{len(written)} {reads / len(written):5.1%} {agree:>5}/{len(rows)} {agree / len(rows):6.1%}"
            f" {right:>5}/{len(correct)} {right / len(correct):6.1%} {false:>8}/{len(wrong)} {seconds:8.1f}"
        )
        if args.show:
            for case, s in rows:
                if s.verdict != case.expected:
                    print(
                        f"    {case.formula} [{case.why}] expected {case.expected}, got {s.verdict}: {s.parsed} | {s.note}"
                    )
    return 0


def _missing(parser: str) -> str:
    """The package a parser needs when it is not installed (only sympy's ANTLR one is a dependency)."""
    import importlib.util

    need = {
        "sympy": ("antlr4", "antlr4-python3-runtime==4.11.*"),
        "sympy-lark": ("lark", "lark"),
        "latex2sympy2": ("latex2sympy2_extended", "latex2sympy2_extended"),
    }[parser]
    return "" if importlib.util.find_spec(need[0]) else need[1]


if __name__ == "__main__":
    raise SystemExit(main())
