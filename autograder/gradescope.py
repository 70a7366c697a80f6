"""Grade the submission of an /autograder tree with the engine: Gradescope, `otter grade` and `otter run`.

The autograder zip carries this project in `files/assn1/` (/autograder/source/files/assn1 on the
grading machine) with grading.yml and the keys `assn1 build` made. Its run_autograder calls

    python -m autograder.gradescope [AUTOGRADER_DIR] [--isolation LEVEL] [--exclude NAME...]

which grades AUTOGRADER_DIR/submission (default /autograder) exactly as `assn1 grade` grades a
submission (`grading.grade_batch`, the best isolation level the machine allows) and writes
AUTOGRADER_DIR/results/results.json with `reports.gradescope_results`, the builder `assn1 grade` uses,
and results.pkl, the per-question results `otter grade` reads, with the same scores. otter's own
notebook run and its test files decide nothing here. `autograder.otter_plugin` calls the same
command when `otter run` grades.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder.config import find_config, load_config
from autograder.errors import Assn1Error
from autograder.grading import grade_batch
from autograder.in_kernel import BUNDLE_NAME
from autograder.options import GradeOptions
from autograder.reports import check_line, gradescope_results, submission_output, write_json
from autograder.results import SubmissionResult
from autograder.sandbox import LEVELS
from autograder.submissions import NOTEBOOK_SUFFIX, Submission

PROJECT = Path(__file__).resolve().parent.parent  # the zip's copy of the project: grading.yml, keys, data
AUTOGRADER_DIR = Path("/autograder")
DIR_VARIABLE = "ASSN1_AUTOGRADER_DIR"  # read by the P4 item to find the data setup.sh made in the tree


def grade_tree(autograder_dir: Path, isolation: str = "auto", exclude: tuple[str, ...] = ()) -> SubmissionResult:
    """Grade autograder_dir/submission (less the top-level names in `exclude`) with the engine and write
    results/results.json and results/results.pkl; return the result."""
    config = load_config(find_config(PROJECT))
    # This environment is the students' (environment.yml holds grading.yml's pins): kernels run on it too.
    config = dataclasses.replace(config, environment=dataclasses.replace(config.environment, dir=Path(sys.prefix)))
    keys = PROJECT / BUNDLE_NAME  # every check's key, hidden ones included, as `assn1 build` made them
    if not keys.is_file():
        raise Assn1Error(f"{keys} is missing; rebuild the zip with `assn1 build`.")
    bundle = json.loads(keys.read_text(encoding="utf-8"))
    os.environ[DIR_VARIABLE] = str(autograder_dir)
    _keep_from_student_code(autograder_dir)
    with tempfile.TemporaryDirectory(prefix="assn1-gradescope-") as tmp:
        submission = collect(autograder_dir / "submission", Path(tmp) / "submission", exclude)
        options = GradeOptions(config.path, Path(tmp) / "out", True, isolation)
        (result,) = grade_batch(config, [submission], options, progress=False, bundle=bundle)
    results = autograder_dir / "results"
    write_json(gradescope_results(result), results / "results.json")
    with open(results / "results.pkl", "wb") as fh:
        pickle.dump(otter_results(result), fh)
    return result


def collect(folder: Path, target: Path, exclude: tuple[str, ...] = ()) -> Submission:
    """The submission in `folder` as the engine takes it: a zip of its files (a notebook and the files
    beside it, links and other non-files left out), named after the notebook as `assn1 grade` names a
    submission; or the one zip the folder holds when it holds no notebook."""
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and p.relative_to(folder).parts[0] not in exclude
    )
    notebooks = [p for p in files if p.suffix == NOTEBOOK_SUFFIX and ".ipynb_checkpoints" not in p.parts]
    zips = [p for p in files if p.suffix == ".zip" and p.parent == folder]
    if not notebooks and len(zips) == 1:
        return Submission(zips[0].stem, zips[0])
    first = min(notebooks, key=lambda p: (len(p.relative_to(folder).parts), p.name)) if notebooks else None
    name = first.stem if first else "submission"
    target.mkdir(parents=True, exist_ok=True)
    packed = target / f"{name}.zip"
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder).as_posix())
    return Submission(name, packed)


def _keep_from_student_code(autograder_dir: Path) -> None:
    """Make the zip's files (keys, grading.yml, tests) and the submission's metadata root's alone.

    Student code runs as the user nobody at every level a root grader picks; without bubblewrap
    nothing hides these folders from it but their permissions."""
    for path, mode in ((autograder_dir / "source", 0o700), (autograder_dir / "submission_metadata.json", 0o600)):
        if path.exists():
            os.chmod(path, mode)


def otter_results(result: SubmissionResult):
    """The result as otter's GradingResults, which `otter grade` reads from results.pkl and `otter run`
    returns: per autograded question a test file named by its id, one test case per check (its points,
    visibility and line of results.json), the question's score exactly the engine's, partial credit included."""
    from otter.test_files import GradingResults
    from otter.test_files.abstract_test import TestCase, TestCaseResult
    from otter.test_files.ok_test import OKTestFile

    files = []
    for q in result.questions:
        if q.manual:
            continue
        if q.checks:
            cases = [
                (TestCase(c.check_id, "", c.hidden, c.max_points, None, None), c.passed, check_line(c))
                for c in q.checks
            ]
        else:  # nothing judged: the submission could not be graded
            cases = [(TestCase(q.name, "", False, q.max_points, None, None), False, result.status_text)]
        test_file = OKTestFile(q.name, q.name, [case for case, _, _ in cases], all_or_nothing=False)
        test_file.test_case_results = [TestCaseResult(case, line, ok) for case, ok, line in cases]
        test_file.update_score(q.points)
        files.append(test_file)
    graded = GradingResults(files)
    graded.set_output(submission_output(result))
    return graded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.gradescope",
        description="Grade AUTOGRADER_DIR/submission as `assn1 grade` does; write results/results.json.",
    )
    parser.add_argument("autograder_dir", type=Path, nargs="?", default=AUTOGRADER_DIR)
    parser.add_argument("--isolation", choices=["auto", *LEVELS], default="auto")
    parser.add_argument(
        "--exclude", nargs="*", default=[], metavar="NAME", help="top-level names that are not the student's"
    )
    args = parser.parse_args(argv)
    try:
        result = grade_tree(args.autograder_dir.resolve(), args.isolation, tuple(args.exclude))
    except Assn1Error as exc:
        print(f"assn1: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"assn1: graded {result.name} at isolation {result.isolation}: {result.total:.2f} / {result.possible:g} "
        f"({result.status.value}) in {result.seconds:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
