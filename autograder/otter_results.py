"""Finish otter's results.json into the full Gradescope format this project promises.

otter's run_autograder writes per-question tests with scores and visibility, but no top-level score,
execution time, output or per-test status. The bundle's run_autograder calls this afterwards (and a
rehearsal does the same), so Gradescope gets the same fields as from `assn1 grade`, and the questions
graded by hand are listed with their points:

    python -m autograder.otter_results RESULTS_JSON [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from autograder.config import Config, find_config, load_config
from autograder.reports import hand_graded


def complete(results: dict, config: Config, seconds: float | None = None) -> dict:
    """results with score, execution_time, output, stdout_visibility and each test's status filled in."""
    tests = []
    for test in results.get("tests", []):
        test = dict(test)
        score, most = test.get("score"), test.get("max_score")
        passed = "All test cases passed" in test.get("output", "") or (most is not None and score == most)
        test["score"] = float(score or 0.0)
        test["max_score"] = float(most or 0.0)  # otter's "Public Tests" summary carries no points
        test["status"] = "passed" if passed else "failed"
        test["output"] = str(test.get("output", ""))
        test["visibility"] = test.get("visibility") or "visible"
        tests.append({k: test[k] for k in ("name", "score", "max_score", "status", "output", "visibility")})
    manual = [(q.title, q.points) for p in config.problems.values() for q in p.questions.values() if q.manual]
    output = [str(results.get("output") or "Graded by otter-grader from the assn1 bundle."), hand_graded(manual)]
    return {
        "score": round(sum(t["score"] for t in tests), 6),
        "execution_time": round(float(seconds if seconds is not None else results.get("execution_time") or 0.0), 2),
        "output": "\n".join(line for line in output if line),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Finish otter's results.json for Gradescope.")
    parser.add_argument("results", type=Path)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    config = load_config(find_config(Path(__file__).resolve().parent))
    finished = complete(json.loads(args.results.read_text(encoding="utf-8")), config, args.seconds)
    tmp = args.results.with_name(args.results.name + ".tmp")
    tmp.write_text(json.dumps(finished, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
