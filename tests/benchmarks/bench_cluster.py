"""Benchmark of grading on a dask.distributed cluster (not a test; figures go to README.md).

N copies of a notebook (default: the reference with 50 trials per problem-3 simulation, as in
bench_engine.py) graded on this machine twice over: by the local pool with -j 2, and through the
scheduler of a `distributed.LocalCluster` of 2 worker processes (1 thread each). The cluster is started
before the clock starts (a real one is already running); opening the batch on it (each worker checks its
version and data, builds its station, starts its grading processes) is timed. The scheduler's overhead
per task = cluster wall time / local wall time - 1. Rounds alternate local and cluster, so a change of
load on the machine hits both alike.

    .venv/bin/python tests/benchmarks/bench_cluster.py [--notebook PATH] [--copies 20] [--rounds 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import yaml
from distributed import LocalCluster

from autograder.config import load_config
from autograder.data import problem1, problem4
from autograder.executors import DaskCluster, Executor, LocalPool
from autograder.grading import GradeOptions, grade_batch
from autograder.submissions import find_submissions

ROOT = Path(__file__).resolve().parents[2]


def _lighter():
    spec = importlib.util.spec_from_file_location("bench_engine", Path(__file__).with_name("bench_engine.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lighter


def course(folder: Path):
    """A private grading.yml with its data: problem 1's file and the P4 test segments (128 images each)."""
    folder.mkdir()
    raw = yaml.safe_load((ROOT / "grading.yml").read_text())
    raw["environment"]["dir"] = str(load_config(ROOT / "grading.yml").environment.dir)  # the project's
    (folder / "grading.yml").write_text(yaml.safe_dump(raw))
    config = load_config(folder / "grading.yml")
    problem1.generate(config)
    problem4.generate(config, segments=config.data.problem4.test_segments, images_per_segment=128)
    return config


def seconds(config, folder: Path, out: Path, executor: Executor) -> tuple[float, float]:
    """Wall time of the batch, and the mean time one submission took inside its grading process."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    results = grade_batch(
        config, find_submissions([folder]), GradeOptions(config.path, out), executor=executor, progress=False
    )
    wall = time.monotonic() - started
    assert all(r.status.value == "Completed" for r in results), [(r.name, r.status_text) for r in results]
    return wall, statistics.mean(r.seconds for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", type=Path, default=ROOT / "examples" / "submissions" / "reference.ipynb")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = course(Path(tmp) / "course")
        many = Path(tmp) / "many"
        many.mkdir()
        light = _lighter()(args.notebook)
        for i in range(args.copies):
            nbformat.write(light, many / f"copy{i:02d}.ipynb")
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, memory_limit=0
        )
        ratios = []
        try:
            for round_ in range(1, args.rounds + 1):
                local, local_each = seconds(config, many, Path(tmp) / "local", LocalPool(2))
                dask, dask_each = seconds(config, many, Path(tmp) / "dask", DaskCluster(cluster.scheduler_address))
                ratios.append(dask / local - 1)
                print(
                    f"round {round_}: {args.copies} x {args.notebook.name} (50 trials per simulation): "
                    f"local -j 2 {local:.1f} s ({local_each:.1f} s per submission in its process), "
                    f"LocalCluster 2 workers {dask:.1f} s ({dask_each:.1f} s); overhead {100 * ratios[-1]:+.1f} %",
                    flush=True,
                )
        finally:
            cluster.close()
    print(f"scheduler overhead per task: median {100 * statistics.median(ratios):+.1f} % over {len(ratios)} round(s)")


if __name__ == "__main__":
    main()
