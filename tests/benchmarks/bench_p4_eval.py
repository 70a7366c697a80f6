"""Benchmark the grader's Problem 4 evaluation against a naive `model.evaluate` on the whole test set.

Not a test: it needs the full-size test segments (`assn1 data generate --problem 4`) and a model file.
Each step runs in its own process so its peak RSS is its own:

  naive    Keras+TensorFlow: load the model, read segments 7-9 into one array, model.evaluate
  convert  the grader's first step: safe-mode load, facts, ONNX export (Keras+TensorFlow)
  onnx     the grader's second step: ONNX Runtime over the memory-mapped cache, batch by batch

    python tests/benchmarks/bench_p4_eval.py MODEL.keras [--data-dir data] [--batch 64] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

NAIVE = """
import json, os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, {root!r})
import keras
from reference.p4_cnn import load_data
model = keras.models.load_model({model!r}, compile=False)
model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
images, labels = load_data({segments!r}, {data!r})
start = time.perf_counter()
_, acc = model.evaluate(images, labels, verbose=0)
print(json.dumps({{"accuracy": acc, "images": len(labels), "seconds": time.perf_counter() - start}}))
"""


def measured(code: list[str]) -> tuple[dict, float, float]:
    """(last JSON line printed, wall seconds, peak RSS in MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(code, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status:
        raise SystemExit(f"{code[:3]} failed with status {status}")
    return json.loads(out.strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024


def step(target: str, **kwargs) -> list[str]:
    call = f"import json,sys; sys.path.insert(0,{str(ROOT)!r}); from autograder.probes import p4_models as m; "
    call += f"print(json.dumps(m.{target}(**{kwargs!r})))"
    return [sys.executable, "-c", call]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "cache")
    parser.add_argument("--segments", type=int, nargs="+", default=[7, 8, 9])
    parser.add_argument("--batch", type=int, default=None, help="evaluation batch (default: the grader's)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args(argv)

    from autograder.data.problem4 import test_set
    from autograder.probes.p4_models import BATCH

    args.batch = args.batch or BATCH

    start = time.perf_counter()
    cache = test_set(args.data_dir, args.cache_dir, args.segments)
    print(f"test set: {cache.count:,} images, cache ready in {time.perf_counter() - start:.1f} s ({cache.images})")
    rows = []
    if not args.skip_naive:
        code = NAIVE.format(root=str(ROOT), model=str(args.model), segments=args.segments, data=str(args.data_dir))
        rows.append(("naive model.evaluate (TensorFlow)", *measured([sys.executable, "-c", code])))
    with tempfile.TemporaryDirectory() as tmp:
        onnx = str(Path(tmp) / "model.onnx")
        rows.append(
            (
                "convert: safe load + ONNX export",
                *measured(step("inspect_model", model_file=str(args.model), onnx_file=onnx, max_unpacked_mb=200.0)),
            )
        )
        files = {"images_file": str(cache.images), "labels_file": str(cache.labels)}
        rows.append(
            (
                "evaluate: ONNX Runtime on the cache",
                *measured(step("evaluate_onnx", onnx_file=onnx, threads=args.threads, batch=args.batch, **files)),
            )
        )
    print("| step | accuracy | images/s (timed part) | wall s (whole process) | peak RSS MB |")
    print("|---|---|---|---|---|")
    for name, out, wall, rss in rows:
        rate = f"{out['images'] / out['seconds']:,.0f}" if "seconds" in out else "-"
        acc = f"{out['accuracy']:.4f}" if "accuracy" in out else "-"
        print(f"| {name} | {acc} | {rate} | {wall:.1f} | {rss:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
