"""Benchmark of the grading engine (not a test; figures go to README.md).

1. Harness overhead: the same notebook run by bare nbclient (no sandbox, no probes) and graded by
   `assn1 grade -j 1`; overhead = engine time / bare time - 1.
2. Parallel speed-up: N copies of a notebook graded with -j 1 and with -j 2.

    .venv/bin/python tests/benchmarks/bench_engine.py [--notebook PATH] [--copies 20]
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder import execution
from autograder.config import find_config, load_config
from autograder.grading import GradeOptions, grade_batch
from autograder.submissions import find_submissions

ROOT = Path(__file__).resolve().parents[2]


def bare_seconds(notebook: Path, data_dir: Path, python: str = "") -> float:
    """nbclient alone, on the cells the engine runs (otter lines removed, otter_ignore cells skipped), on
    `python` (the students' environment's interpreter) when given, else on the python3 kernelspec's."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(data_dir, work / "data", ignore=shutil.ignore_patterns("answer_key", "cache"))
        nb = execution.prepare(nbformat.read(notebook, as_version=4))
        client = NotebookClient(
            nb,
            timeout=600,
            allow_errors=True,
            skip_cells_with_tag=execution.IGNORE_TAG,
            resources={"metadata": {"path": str(work)}},
        )
        if python:
            client.km = execution.ConfinedKernelManager(kernel_name="python3")
            client.km.python = python
        started = time.monotonic()
        client.execute()
        return time.monotonic() - started


def lighter(notebook: Path) -> nbformat.NotebookNode:
    """The notebook with 50 instead of 500 trials per problem-3 simulation, so 20 copies grade in minutes."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = re.sub(r"run_simulation\(([^)]*)\)", r"run_simulation(\1, trials=50)", cell.source)
    return nb


def engine_seconds(config, folder: Path, jobs: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        results = grade_batch(
            config, find_submissions([folder]), GradeOptions(config.path, Path(out)), jobs=jobs, progress=False
        )
        elapsed = time.monotonic() - started
    assert not any(r.grader_fault for r in results), [r.status_text for r in results]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", type=Path, default=ROOT / "examples" / "submissions" / "reference.ipynb")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument(
        "--only", choices=["overhead", "parallel"], default=None, help="run one of the two measurements"
    )
    args = parser.parse_args()
    config = load_config(find_config(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        single = Path(tmp) / "single"
        single.mkdir()
        shutil.copy(args.notebook, single / args.notebook.name)
        if args.only != "parallel":
            bare = bare_seconds(args.notebook, config.data.dir)
            engine = engine_seconds(config, single, jobs=1)
            print(
                f"overhead: bare nbclient {bare:.1f} s, assn1 grade -j 1 {engine:.1f} s, overhead {100 * (engine / bare - 1):.1f} %"
            )
        if args.only == "overhead":
            return
        many = Path(tmp) / "many"
        many.mkdir()
        light = lighter(args.notebook)
        for i in range(args.copies):
            nbformat.write(light, many / f"copy{i:02d}.ipynb")
        one = engine_seconds(config, many, jobs=1)
        two = engine_seconds(config, many, jobs=2)
        print(
            f"parallel: {args.copies} x {args.notebook.name} (50 trials per simulation): "
            f"-j 1 {one:.1f} s, -j 2 {two:.1f} s, speed-up {one / two:.2f}x"
        )


if __name__ == "__main__":
    main()
