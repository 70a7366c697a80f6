"""Benchmark of the grader's own cost per submission (not a test; figures go to README.md).

For a short complete notebook (the reference solution with 20 trials per problem-3 simulation) and
for the reference itself, in alternating rounds: bare nbclient on the cells the engine runs (no
sandbox, no probes), `assn1 grade -j 1` into a fresh folder, `assn1 check`, and `otter run` with
dist/autograder.zip (when built); medians. Then one `grade_batch` of the notebook with its time split
into the grader's phases.

    .venv/bin/python tests/benchmarks/bench_overhead.py [--rounds 3] [--skip-reference] [--skip-otter]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

from bench_engine import bare_seconds  # noqa: E402

from autograder.config import find_config, load_config  # noqa: E402
from autograder.grading import GradeOptions, grade_batch  # noqa: E402
from autograder.submissions import find_submissions  # noqa: E402

REFERENCE = ROOT / "examples" / "submissions" / "reference.ipynb"


def short(notebook: Path, trials: int = 20) -> nbformat.NotebookNode:
    """The notebook with `trials` trials per problem-3 simulation instead of 500."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = re.sub(r"trials=500", f"trials={trials}", cell.source)
    return nb


def _timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - started


def measure(notebook: Path, rounds: int, otter: bool, config) -> dict[str, list[float]]:
    assn1 = [sys.executable, "-m", "autograder.cli", "--config", str(config.path)]
    zip_path = config.build.dist_dir / "autograder.zip"
    times: dict[str, list[float]] = {"bare nbclient": [], "assn1 grade -j 1": [], "assn1 check": []}
    if otter and zip_path.is_file():
        times["otter run"] = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="assn1-overhead-") as tmp:
            tmp = Path(tmp)
            times["bare nbclient"].append(bare_seconds(notebook, config.data.dir))
            times["assn1 grade -j 1"].append(_timed([*assn1, "grade", str(notebook), "-o", str(tmp / "out")], ROOT))
            times["assn1 check"].append(_timed([*assn1, "check", str(notebook)], ROOT))
            if "otter run" in times:
                (tmp / "otter").mkdir()
                command = [
                    sys.executable,
                    "-m",
                    "otter",
                    "run",
                    "-a",
                    str(zip_path),
                    "-o",
                    str(tmp / "otter"),
                    str(notebook),
                ]
                times["otter run"].append(_timed(command, ROOT))
    return times


def phases(notebook: Path, config) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="assn1-phases-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        shutil.copy(notebook, folder / notebook.name)
        started = time.perf_counter()
        (result,) = grade_batch(
            config, find_submissions([folder]), GradeOptions(config.path, Path(tmp) / "out"), progress=False
        )
        total = time.perf_counter() - started
    timings = dict(result.timings)
    probes = {k: v for k, v in timings.items() if k.startswith("probe ")}
    out = {k: v for k, v in timings.items() if not k.startswith("probe ")}
    out["probes, all"] = sum(probes.values())
    out.update(dict(sorted(probes.items(), key=lambda kv: -kv[1])[:5]))
    out["grade_batch in all (keys, workspace, the above)"] = total
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-otter", action="store_true")
    args = parser.parse_args(argv)
    config = load_config(find_config(ROOT))
    with tempfile.TemporaryDirectory(prefix="assn1-bench-") as tmp:
        notebooks = {"short": Path(tmp) / "short.ipynb"}
        nbformat.write(short(REFERENCE), notebooks["short"])
        if not args.skip_reference:
            notebooks["reference"] = REFERENCE
        for name, notebook in notebooks.items():
            times = measure(notebook, args.rounds, not args.skip_otter, config)
            bare = statistics.median(times["bare nbclient"])
            print(f"\n{name} notebook, medians of {args.rounds} alternating rounds:")
            print("| run | median s | over bare nbclient |")
            print("|---|---|---|")
            for what, values in times.items():
                median = statistics.median(values)
                print(f"| {what} | {median:.1f} | {median - bare:+.1f} s |")
            print(f"\n{name} notebook, phases of one grade_batch:")
            print("| phase | s |")
            print("|---|---|")
            for phase, seconds in phases(notebook, config).items():
                print(f"| {phase} | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
