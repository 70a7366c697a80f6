"""Benchmark of the gradebook (not a test; figures go to README.md): a batch, a rerun, a rescore.

A class of N small submissions (problem 2's functions and the lambdas, some with a wrong rate) is
graded once with `assn1 grade -j 2`, then graded again with nothing changed (every submission kept),
then again after a tolerance change in grading.yml (every submission rescored from its stored
observations, no kernel). Each is timed as the whole command, the way an instructor runs it:

    .venv/bin/python tests/benchmarks/bench_gradebook.py [--submissions 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import project_config  # noqa: E402
from engine.test_gradebook import WRONG_RATE  # noqa: E402
from engine.test_isolation import GOOD_P2, LAMBDAS  # noqa: E402


def _timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, next(line for line in done.stdout.splitlines() if line.startswith("kept "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assn1-bench-gradebook-") as tmp:
        root = Path(tmp)
        (root / "grading.yml").write_text(yaml.safe_dump(project_config()))  # the project's student environment
        assn1 = [sys.executable, "-m", "autograder.cli", "--config", str(root / "grading.yml")]
        subprocess.run([*assn1, "data", "generate"], check=True, capture_output=True)
        p4 = ["data", "generate", "--problem", "4", "--segments", "7", "8", "9", "--images-per-segment", "128"]
        subprocess.run([*assn1, *p4], check=True, capture_output=True)
        folder = root / "submissions"
        folder.mkdir()
        for i in range(args.submissions):
            cells = [GOOD_P2, LAMBDAS] + ([WRONG_RATE] if i % 3 == 0 else [])
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
            nbformat.write(nb, folder / f"student{i:03d}.ipynb")
        grade = [*assn1, "grade", str(folder), "-o", str(root / "out")]
        first, said_first = _timed([*grade, "-j", "2"])
        rerun, said_rerun = _timed(grade)
        raw = yaml.safe_load((root / "grading.yml").read_text())
        raw["problems"]["p2"]["questions"]["q2_2"]["checks"]["exponent_values"]["rtol"] = 1e-3
        (root / "grading.yml").write_text(yaml.safe_dump(raw))
        rescore, said_rescore = _timed(grade)
    print("| run | what `assn1 grade` said | wall s | vs the first run |")
    print("|---|---|---|---|")
    print(f"| first, -j 2, {args.submissions} submissions | {said_first} | {first:.1f} | 1 |")
    print(f"| again, nothing changed | {said_rerun} | {rerun:.2f} | {rerun / first:.3f} |")
    print(f"| again, after a tolerance change | {said_rescore} | {rescore:.2f} | {rescore / first:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
