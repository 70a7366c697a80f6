"""The `assn1` command line: one subcommand per job, errors in one line."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from autograder import __version__
from autograder.config import Config, find_config, load_config
from autograder.errors import Assn1Error
from autograder.sandbox import LEVELS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assn1",
        description="Grade and prepare Intermediate Machine Learning, Assignment 1.",
    )
    parser.add_argument("--version", action="version", version=f"assn1 {__version__}")
    parser.add_argument(
        "--config", type=Path, default=None, help="grading.yml to use (default: the nearest one from here upwards)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    data = commands.add_parser("data", help="get, generate or verify the data files").add_subparsers(
        dest="data_command", metavar="ACTION"
    )
    generate = data.add_parser("generate", help="write look-alike data with a known truth (offline)")
    generate.add_argument("--problem", type=int, choices=[1], default=1, help="which problem's data (default 1)")
    generate.add_argument("--seed", type=int, default=None, help="seed (default: grading.yml's)")
    generate.add_argument("--force", action="store_true", help="replace the course's real file if present")
    generate.set_defaults(run=_data_generate)

    fetch = data.add_parser("fetch", help="download the course's real data files, verified by sha256")
    fetch.add_argument("--problem", type=int, choices=[1], default=1, help="which problem's data (default 1)")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    fetch.set_defaults(run=_data_fetch)

    verify = data.add_parser("verify", help="check the files in data/ (shape, type, size, checksum)")
    verify.set_defaults(run=_data_verify)

    build = commands.add_parser("build", help="generate student_template/ and the autograder from the master notebook")
    build.set_defaults(run=_build)

    grade = commands.add_parser("grade", help="grade submissions (notebooks or zips, or folders of them)")
    grade.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="submission files or folders")
    grade.add_argument("-o", "--out", type=Path, required=True, help="output folder")
    grade.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    grade.add_argument(
        "--timeout", type=float, default=None, help="notebook time limit in seconds (default: grading.yml)"
    )
    grade.add_argument(
        "--isolation",
        choices=["auto", *LEVELS],
        default="auto",
        help="confinement of student kernels (default: best available)",
    )
    grade.set_defaults(run=_grade)

    check = commands.add_parser("check", help="run the public checks on your notebook and print a table")
    check.add_argument("notebook", type=Path, help="your notebook (.ipynb) or submission zip")
    check.add_argument("--timeout", type=float, default=None, help="notebook time limit in seconds")
    check.set_defaults(run=_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help() if args.command is None else parser.parse_args([args.command, "--help"])
        return 2
    try:
        config = load_config(args.config if args.config else find_config())
        return args.run(args, config)
    except Assn1Error as exc:
        print(f"assn1: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("assn1: interrupted", file=sys.stderr)
        return 130


def _data_generate(args: argparse.Namespace, config: Config) -> int:
    from autograder.data import problem1

    truth = problem1.generate(config, seed=args.seed, force=args.force)
    print(f"wrote {_show(problem1.data_path(config))} (look-alike, seed {truth.seed})")
    print(f"wrote {_show(problem1.key_path(config))} (answer key; grading side only)")
    return 0


def _data_fetch(args: argparse.Namespace, config: Config) -> int:
    from autograder.data import problem1
    from autograder.data.fetch import fetch

    source = config.data.problem1.source
    dest = problem1.data_path(config)
    result = fetch(
        source,
        dest,
        timeout_s=config.data.download.connect_timeout_s,
        retries=config.data.download.retries,
        progress=not args.no_progress,
    )
    if result.already_present:
        print(f"{_show(dest)} already present and verified")
    else:
        resumed = f", resumed at byte {result.resumed_from:,}" if result.resumed_from else ""
        print(f"fetched {_show(dest)} ({source.size:,} bytes, sha256 verified{resumed})")
    return 0


def _data_verify(args: argparse.Namespace, config: Config) -> int:
    from autograder.data.verify import verify_data

    reports = verify_data(config)
    for report in reports:
        print(f"{'ok  ' if report.ok else 'FAIL'}  {_show(report.path)}: {report.message}")
    failed = sum(not r.ok for r in reports)
    print(f"{len(reports) - failed} ok, {failed} with problems")
    return 1 if failed else 0


def _build(args: argparse.Namespace, config: Config) -> int:
    from autograder.build import build

    print(f"building from {_show(config.build.master)} (otter assign) ...")
    result = build(config)
    print(f"wrote {_show(result.student_notebook)} ({result.public_checks} public checks)")
    print(
        f"wrote {_show(result.autograder_dir)} ({result.public_checks + result.hidden_checks} checks, {result.hidden_checks} hidden)"
    )
    return 0


def _grade(args: argparse.Namespace, config: Config) -> int:
    from autograder.grading import GradeOptions, grade_batch
    from autograder.reports import write_gradebook, write_results
    from autograder.submissions import find_submissions

    submissions = find_submissions(args.paths)
    if not submissions:
        print("assn1: error: no notebooks or zips found in " + ", ".join(map(str, args.paths)), file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    options = GradeOptions(config.path, args.out.resolve(), True, args.isolation, args.timeout)
    started = time.monotonic()
    results = grade_batch(config, submissions, options, jobs=max(1, args.jobs))
    for result in results:
        write_results(result, args.out / result.name)
    write_gradebook(results, args.out / "final_grades.csv")
    completed = [r for r in results if r.status == "Completed"]
    possible = results[0].possible if results else 0
    mean = sum(r.total for r in results) / len(results)
    print(
        f"graded {len(results)} submission(s) in {time.monotonic() - started:.0f} s with {args.jobs} job(s): "
        f"mean {mean:.2f} / {possible:g}; {len(results) - len(completed)} not completed; "
        f"isolation {results[0].isolation}; gradebook {_show(args.out / 'final_grades.csv')}"
    )
    width = max(len(r.name) for r in results)
    for result in results:
        print(f"  {result.name.ljust(width)}  {result.total:6.2f} / {result.possible:g}  {result.status}")
    return 0


def _check(args: argparse.Namespace, config: Config) -> int:
    import tempfile

    from autograder.grading import GradeOptions, grade_batch
    from autograder.reports import table
    from autograder.submissions import find_submissions

    with tempfile.TemporaryDirectory(prefix="assn1-check-") as out:
        options = GradeOptions(config.path, Path(out), False, "auto", args.timeout)
        (result,) = grade_batch(config, find_submissions([args.notebook]), options, progress=True)
    print(table(result, show_hidden=False))
    print("Public checks only: hidden checks test more inputs when your submission is graded.")
    return 0 if result.status == "Completed" else 1


def _show(path: Path) -> str:
    """A path relative to the working folder when it lies below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    raise SystemExit(main())
