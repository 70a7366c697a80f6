"""Benchmark of the pages (not a test; figures go to README.md): the class report of a large class,
and the feedback page of a submission with figures.

The class is made from a graded OUT folder (e.g. `make demo`'s `out`): its submissions' stored results
are repeated under new names, with their points varied, up to N submissions; the report is rendered
and written as `assn1 grade` does, and timed. Then every stored submission's feedback page is rendered.

    .venv/bin/python tests/benchmarks/bench_pages.py out [--submissions 70]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder.config import find_config, load_config  # noqa: E402
from autograder.gradebook import open_gradebook  # noqa: E402
from autograder.pages.write import reference_figures, write_pages  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="an OUT folder of `assn1 grade`")
    parser.add_argument("--submissions", type=int, default=70)
    args = parser.parse_args(argv)
    config = load_config(find_config())
    gradebook = open_gradebook(args.out)
    stored = list(gradebook.load().values())
    gradebook.close()
    results = []
    for i in range(args.submissions):
        base = stored[i % len(stored)].result(config)
        results.append(dataclasses.replace(base, name=f"student{i:03d}", seconds=base.seconds * (1 + i % 7 / 10)))
    with tempfile.TemporaryDirectory(prefix="assn1-bench-pages-") as tmp:
        started = time.perf_counter()
        write_pages(config, results, Path(tmp), only=set())  # the report alone: pages exist for none
        report_s = time.perf_counter() - started
        size = (Path(tmp) / "report.html").stat().st_size
    started = time.perf_counter()
    reference_figures(config)  # timed alone: each page below draws them again with its report
    figures_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="assn1-bench-pages-") as tmp:
        pages = []
        for entry in stored:
            result = entry.result(config)
            (Path(tmp) / result.name).mkdir()
            executed = args.out / result.name / "executed.ipynb"
            if executed.is_file():
                (Path(tmp) / result.name / "executed.ipynb").write_bytes(executed.read_bytes())
            started = time.perf_counter()
            write_pages(config, [result], Path(tmp), only={result.name})
            page = Path(tmp) / result.name / "feedback.html"
            pages.append((result.name, time.perf_counter() - started, page.stat().st_size))
    print("| page | seconds | size |")
    print("|---|---|---|")
    print(f"| report.html, {args.submissions} submissions | {report_s:.2f} | {size / 1e3:,.0f} KB |")
    print(f"| the reference figures, drawn once per batch | {figures_s:.2f} | |")
    for name, seconds, size in pages:
        print(f"| {name}/feedback.html (with its report) | {seconds:.2f} | {size / 1e3:,.0f} KB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
