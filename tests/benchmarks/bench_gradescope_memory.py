"""Peak memory of a full grade through the autograder zip's run_autograder step, as Gradescope runs it.

Not a test: it needs dist/autograder.zip (`assn1 build`). It lays out a rehearsal tree, makes the
full-size P4 test segments there with the zip's setup_data.sh (about a minute on 2 cores; set
ASSN1_IMAGES_PER_SEGMENT for fewer), then grades one submission as the rehearsal does
(`rehearsal.run_one`: grade_submission.sh, the step run_autograder runs) and samples every process
of that run 10 times a second:

  peak PSS, summed   the most memory all the run's processes held at once, each shared page counted
                     once (proportional set size): what the container's memory must hold
  peak RSS, summed   the same with shared pages counted in every process that maps them (an upper bound)
  per process        each process's own peak RSS, largest first (the kernel, the model-file steps, ...)
  cgroup peak        the high-water mark of a memory cgroup holding the run, page cache included
                     (cgroup v1, where one can be made under this process's own; else "n/a")

    python tests/benchmarks/bench_gradescope_memory.py [SUBMISSION] [--zip dist/autograder.zip]

SUBMISSION defaults to examples/submissions/p4_complete.zip, the complete example.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder.rehearsal import run_one, set_up  # noqa: E402
from autograder.submissions import Submission  # noqa: E402

MB = 1024 * 1024


class Sampler(threading.Thread):
    """Samples the memory of this process's descendants (the run's processes) until `stop` is set."""

    def __init__(self, every_s: float = 0.1):
        super().__init__(daemon=True)
        self.every_s = every_s
        self.stop = threading.Event()
        self.peak_pss = self.peak_rss = 0
        self.each: dict[str, int] = {}  # command -> its peak RSS

    def run(self) -> None:
        me = psutil.Process()
        while not self.stop.is_set():
            pss = rss = 0
            for process in me.children(recursive=True):
                try:
                    info = process.memory_full_info()
                    name = " ".join(process.cmdline()[:4])[:90]
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                pss, rss = pss + info.pss, rss + info.rss
                self.each[name] = max(self.each.get(name, 0), info.rss)
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            time.sleep(self.every_s)


def memory_cgroup() -> tuple[Path, Path] | None:
    """A new memory cgroup (v1) under this process's own and that own one, or None where none can be made."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            parent = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
            try:
                (parent / f"assn1-bench-{os.getpid()}").mkdir()
            except OSError:
                return None
            return parent / f"assn1-bench-{os.getpid()}", parent
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", type=Path, nargs="?", default=ROOT / "examples/submissions/p4_complete.zip")
    parser.add_argument("--zip", type=Path, default=ROOT / "dist" / "autograder.zip")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="assn1-bench-memory-") as tmp:
        started = time.perf_counter()
        tree = set_up(args.zip, Path(tmp))
        print(f"setup_data.sh: {time.perf_counter() - started:.0f} s")
        cgroup = memory_cgroup()
        if cgroup is not None:  # this process joins it: what it has is charged where it was, what the run makes here
            (cgroup[0] / "cgroup.procs").write_text(str(os.getpid()))
        sampler = Sampler()
        sampler.start()
        try:
            rehearsed = run_one(tree, Submission(args.submission.stem, args.submission))
        finally:
            sampler.stop.set()
            sampler.join()
            cgroup_peak = "n/a"
            if cgroup is not None:
                cgroup_peak = f"{int((cgroup[0] / 'memory.max_usage_in_bytes').read_text()) / MB:,.0f} MB"
                (cgroup[1] / "cgroup.procs").write_text(str(os.getpid()))
                cgroup[0].rmdir()
    results = rehearsed.results
    ran = [line for line in results.get("output", "").splitlines() if "isolation" in line]
    print(f"score {results['score']}; wall {rehearsed.seconds:.0f} s; {ran[0] if ran else 'isolation not stated'}")
    print(f"peak PSS, summed:  {sampler.peak_pss / MB:,.0f} MB")
    print(f"peak RSS, summed:  {sampler.peak_rss / MB:,.0f} MB")
    print(f"cgroup peak:       {cgroup_peak}")
    print("per process (peak RSS):")
    for name, rss in sorted(sampler.each.items(), key=lambda item: -item[1])[:6]:
        print(f"  {rss / MB:7,.0f} MB  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
