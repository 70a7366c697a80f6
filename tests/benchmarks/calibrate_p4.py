"""Calibrate the Problem 4 data: train the course's baseline and the reference's improved CNNs, test on 7-9.

Not a test: a full-size run takes an hour or more on two cores. It checks that the synthetic
segments reproduce the course's published behaviour (baseline on segments 0-2 for 2 epochs:
validation >= 0.97 but test 0.80-0.93; on segments 0-6 for 10 epochs: test >= 0.98; improved
models >= 0.97) and prints a markdown table of mean and spread over seeds for docs/p4-calibration.md.

    python tests/benchmarks/calibrate_p4.py --data-dir data --seeds 0 1 2 [--rows ...] [--save-dir DIR]

Each finished run is appended to --log as one JSON line, so a long run can be followed and resumed.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from reference import p4_cnn  # noqa: E402


@dataclass(frozen=True)
class Row:
    """One calibration setting and the range its test accuracy must fall in."""

    model: str
    segments: tuple[int, ...]
    epochs: int
    holdout: str  # "last" is the course's own validation_split; "random" the reference's
    test_range: tuple[float, float]
    min_val: float = 0.0
    keep_best: bool = False  # end with the best validation epoch (the reference's improved models do)


ROWS = {
    "baseline_0-2": Row("baseline", (0, 1, 2), 2, "last", (0.80, 0.93), min_val=0.97),
    "baseline_0-6": Row("baseline", tuple(range(7)), 10, "last", (0.98, 1.0)),
    "improved_1": Row("improved_1", tuple(range(7)), 2, "random", (0.97, 1.0), keep_best=True),
    "improved_2": Row("improved_2", tuple(range(7)), 2, "random", (0.97, 1.0), keep_best=True),
}
TEST_SEGMENTS = (7, 8, 9)


def _run(name: str, row: Row, seed: int, data_dir: Path, test: tuple, save_dir: Path | None) -> dict:
    images, labels = p4_cnn.load_data(row.segments, data_dir)
    start = time.perf_counter()
    result = p4_cnn.train(
        row.model, images, labels, epochs=row.epochs, seed=seed, holdout=row.holdout, verbose=2, keep_best=row.keep_best
    )
    train_s = time.perf_counter() - start
    del images, labels
    test_acc = p4_cnn.evaluate(result.model, *test)
    if save_dir is not None:
        p4_cnn.save_model(result.model, save_dir / f"{name}_seed{seed}.keras")
    return {
        "row": name,
        "seed": seed,
        "val_accuracy": result.val_accuracy,
        "test_accuracy": test_acc,
        "keep_best": row.keep_best,
        "train_s": round(train_s, 1),
        "params": result.model.count_params(),
    }


def table(records: list[dict]) -> str:
    """Markdown: per row, the seeds, validation and test accuracy (mean ± sd, min-max) and the target."""
    lines = [
        "| setting | seeds | validation acc. (mean, min) | test acc. on 7-9 (mean ± sd) | min-max | target | mean in range |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in ROWS.items():
        runs = [r for r in records if r["row"] == name]
        if not runs:
            continue
        test = [r["test_accuracy"] for r in runs]
        val = [r["val_accuracy"] for r in runs]
        sd = statistics.stdev(test) if len(test) > 1 else 0.0
        ok = row.test_range[0] <= statistics.mean(test) <= row.test_range[1] and statistics.mean(val) >= row.min_val
        target = f"{row.test_range[0]:.2f}-{row.test_range[1]:.2f}" + (f", val ≥ {row.min_val}" if row.min_val else "")
        lines.append(
            f"| {row.model}, segments {row.segments[0]}-{row.segments[-1]}, {row.epochs} epochs | {len(runs)} "
            f"| {statistics.mean(val):.4f}, {min(val):.4f} | {statistics.mean(test):.4f} ± {sd:.4f} | {min(test):.4f}-{max(test):.4f} "
            f"| {target} | {'yes' if ok else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("--rows", nargs="+", choices=sorted(ROWS), default=list(ROWS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--save-dir", type=Path, default=None, help="also save each trained model here")
    parser.add_argument("--log", type=Path, default=Path("p4_calibration.jsonl"))
    args = parser.parse_args(argv)

    done = []
    if args.log.exists():
        done = [json.loads(line) for line in args.log.read_text().splitlines() if line.strip()]
    print(f"python {platform.python_version()}, keras backend {p4_cnn.keras.backend.backend()}", flush=True)
    test = p4_cnn.load_data(TEST_SEGMENTS, args.data_dir)
    for name in args.rows:
        for seed in args.seeds:
            if any(r["row"] == name and r["seed"] == seed for r in done):
                continue
            record = _run(name, ROWS[name], seed, args.data_dir, test, args.save_dir)
            print(json.dumps(record), flush=True)
            with args.log.open("a") as fh:
                fh.write(json.dumps(record) + "\n")
            done.append(record)
    print(table(done))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
