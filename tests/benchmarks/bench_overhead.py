"""Benchmark of the grader's own cost per submission (not a test; figures go to README.md).

For a short complete notebook (the reference solution with 20 trials per problem-3 simulation) and
for the reference itself, in alternating rounds: bare nbclient on the cells the engine runs, in the
students' environment (no sandbox, no probes), `assn1 grade -j 1` into a fresh folder, `assn1 check`,
and `otter run` with dist/autograder.zip (when built) on the students' environment; medians. One
untimed `assn1 grade` first fills the course's cache (keys, reference figures, data digests), as any
earlier batch on the same data would. Then one `assn1 grade -j 1` of the notebook, profiled, with its
time split into the command's steps and the submission's phases.

    .venv/bin/python tests/benchmarks/bench_overhead.py [--rounds 3] [--skip-reference] [--skip-short] [--skip-otter]
"""

from __future__ import annotations

import argparse
import os
import re
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

from autograder import environment  # noqa: E402
from autograder.config import find_config, load_config  # noqa: E402

REFERENCE = ROOT / "examples" / "submissions" / "reference.ipynb"


def short(notebook: Path, trials: int = 20) -> nbformat.NotebookNode:
    """The notebook with `trials` trials per problem-3 simulation instead of 500."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = re.sub(r"trials=500", f"trials={trials}", cell.source)
    return nb


def _timed(command: list[str], cwd: Path, env: dict | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: a grade below full marks is no failure of the command
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
        raise SystemExit(f"{' '.join(command[:4])} ... failed with {done.returncode}: {tail}")
    return elapsed


def measure(notebook: Path, rounds: int, otter: bool, config) -> dict[str, list[float]]:
    assn1 = [sys.executable, "-m", "autograder.cli", "--config", str(config.path)]
    zip_path = config.build.dist_dir / "autograder.zip"
    python = str(environment.require(config).python)
    times: dict[str, list[float]] = {"bare nbclient": [], "assn1 grade -j 1": [], "assn1 check": []}
    if otter and zip_path.is_file():
        times["otter run"] = []
    with tempfile.TemporaryDirectory(prefix="assn1-overhead-") as tmp:  # the course's cache, filled
        _timed([*assn1, "grade", str(notebook), "-o", str(Path(tmp) / "out")], ROOT)
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="assn1-overhead-") as tmp:
            tmp = Path(tmp)
            times["bare nbclient"].append(bare_seconds(notebook, config.data.dir, python))
            times["assn1 grade -j 1"].append(_timed([*assn1, "grade", str(notebook), "-o", str(tmp / "out")], ROOT))
            times["assn1 check"].append(_timed([*assn1, "check", str(notebook)], ROOT))
            if "otter run" in times:
                (tmp / "otter").mkdir()
                command = [python, "-m", "otter", "run", "-a", str(zip_path), "-o", str(tmp / "otter"), str(notebook)]
                env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the plugin, imported from the project (README)
                times["otter run"].append(_timed(command, ROOT, env))
    return times


# The command's own steps outside the submission's kernel, as (label, module, function) in the profile.
STEPS = (
    ("read grading.yml", "autograder/config.py", "load_config"),
    ("students' environment inspected", "autograder/environment.py", "_inspect"),
    ("isolation level chosen", "autograder/sandbox.py", "choose_isolation"),
    ("keys (kept in the course's cache)", "autograder/keys.py", "build_bundle"),
    ("station: checking code shipped, data staged", "autograder/grading.py", "open_station"),
    ("P4 test set prepared (kept in the cache)", "autograder/judging.py", "prepare_keys"),
    ("exports (CSV, results.json)", "autograder/reports.py", "export_all"),
    ("feedback page and report", "autograder/pages/write.py", "write_pages"),
    ("formula suggestions and manual pages", "autograder/cli.py", "_grader_files"),
)


def phases(notebook: Path, config) -> dict[str, float]:
    """One `assn1 grade -j 1` in this process under the profiler: the command's steps, the submission's
    phases as the gradebook recorded them, and the python start with the grader's imports, timed alone."""
    import cProfile
    import pstats

    from autograder.cli import main as assn1
    from autograder.gradebook import open_gradebook

    imports = (
        "import autograder.cli, autograder.batch, autograder.grading, autograder.executors, autograder.pages.write"
    )
    start_s = _timed([sys.executable, "-c", imports], ROOT)
    with tempfile.TemporaryDirectory(prefix="assn1-phases-") as tmp:
        environment._inspect.cache_clear()  # inspected afresh, as by a new `assn1 grade`
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.runcall(assn1, ["--config", str(config.path), "grade", str(notebook), "-o", str(Path(tmp) / "out")])
        total = time.perf_counter() - started
        gradebook = open_gradebook(Path(tmp) / "out")
        (stored,) = gradebook.load().values()
        gradebook.close()
    stats = pstats.Stats(profile).stats
    cumulative = {(file, name): entry[3] for (file, _, name), entry in stats.items()}
    out = {"python start and the grader's imports (timed alone)": start_s}
    for label, module, function in STEPS:
        out[label] = sum(s for (file, name), s in cumulative.items() if file.endswith(module) and name == function)
    timings = dict(stored.timings)
    probes = {k: v for k, v in timings.items() if k.startswith("probe ")}
    out.update({f"submission: {k}": v for k, v in timings.items() if not k.startswith("probe ")})
    out["submission: probes, all"] = sum(probes.values())
    out.update({f"submission: {k}": v for k, v in sorted(probes.items(), key=lambda kv: -kv[1])[:3]})
    out["the command in all, profiled (its steps overlap: keys and prepare lie within others)"] = total
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-short", action="store_true")
    parser.add_argument("--skip-otter", action="store_true")
    args = parser.parse_args(argv)
    config = load_config(find_config(ROOT))
    with tempfile.TemporaryDirectory(prefix="assn1-bench-") as tmp:
        notebooks = {}
        if not args.skip_short:
            notebooks["short"] = Path(tmp) / "short.ipynb"
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
            print(f"\n{name} notebook, where one `assn1 grade -j 1` spends its time:")
            print("| phase | s |")
            print("|---|---|")
            for phase, seconds in phases(notebook, config).items():
                print(f"| {phase} | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
