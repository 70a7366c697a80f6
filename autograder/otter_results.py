"""Write results.json for the autograder zip from the checks' own results, with `assn1 grade`'s builder.

otter's run_autograder runs the notebook and its test files; each test calls `in_kernel.require`,
which appends its CheckResult to the file named by ASSN1_CHECK_LOG (the zip's run_autograder sets
it). This step then replaces otter's results.json by one made from those results and grading.yml,
through `reports.gradescope_results`, the function `assn1 grade` uses:

    python -m autograder.otter_results RESULTS_JSON --checks CHECK_LOG [--seconds S]

A check with no result in the log did not run under otter: the figure checks only the engine can
judge, or every check when the notebook could not be run at all.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from autograder.config import Config, find_config, load_config
from autograder.judging import score_questions
from autograder.keys import configured_checks
from autograder.reports import gradescope_results, write_json
from autograder.results import CheckResult, SubmissionResult, failed
from autograder.suite import ITEMS

NOT_RUN = "this check reads what only `assn1 grade` records (the figures), so it did not run here"
NO_RESULT = "the notebook's tests did not reach this check"


def read_log(path: Path) -> list[CheckResult]:
    """The CheckResults in a check log, the last one per check (a test may be run more than once)."""
    found: dict[str, CheckResult] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                result = CheckResult.from_dict(json.loads(line))
                found[result.check_id] = result
    return list(found.values())


def complete(results: dict, config: Config, checks: list[CheckResult], seconds: float | None = None) -> dict:
    """results.json for Gradescope from the logged check results; otter's own `results` give the time."""
    logged = {c.check_id: c for c in checks}
    judged = []
    for check_id, cfg in configured_checks(config).items():
        if check_id in logged:
            judged.append(logged[check_id])
        else:
            judged.append(failed(cfg, NOT_RUN if ITEMS[check_id].engine_only else NO_RESULT))
    result = SubmissionResult(
        name="submission",
        source="submission",
        isolation="otter (the student's kernel, no sandbox)",
        seconds=float(seconds if seconds is not None else results.get("execution_time") or 0.0),
        questions=score_questions(config, judged),
        notes=("isolation: otter (checks ran in the student's kernel, without assn1's sandbox)",),
    )
    return gradescope_results(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the autograder's results.json from the logged check results.")
    parser.add_argument("results", type=Path)
    parser.add_argument("--checks", type=Path, required=True, help="the check log written by the notebook's tests")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    config = load_config(find_config(Path(__file__).resolve().parent))
    otter = json.loads(args.results.read_text(encoding="utf-8")) if args.results.is_file() else {}
    write_json(complete(otter, config, read_log(args.checks), args.seconds), args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
