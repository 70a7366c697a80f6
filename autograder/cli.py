"""The `assn1` command line: one subcommand per job, errors in one line."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from autograder import __version__
from autograder.config import Config, RemoteSource, find_config, load_config
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
    generate.add_argument("--problem", type=int, choices=[1, 4], default=1, help="which problem's data (default 1)")
    generate.add_argument("--seed", type=int, default=None, help="seed (default: grading.yml's)")
    generate.add_argument("--force", action="store_true", help="replace the course's real file if present")
    generate.add_argument(
        "--images-per-segment", type=int, default=None, help="problem 4: images per file (default: grading.yml's)"
    )
    generate.add_argument(
        "--segments", type=int, nargs="+", default=None, help="problem 4: which segments (default: grading.yml's)"
    )
    generate.add_argument(
        "-j", "--jobs", type=int, default=None, help="problem 4: files written at once (default: cores)"
    )
    generate.set_defaults(run=_data_generate)

    fetch = data.add_parser("fetch", help="download the course's real data files, verified by sha256")
    fetch.add_argument("--problem", type=int, choices=[1, 4], default=1, help="which problem's data (default 1)")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bar")
    fetch.set_defaults(run=_data_fetch)

    verify = data.add_parser("verify", help="check the files in data/ (shape, type, size, checksum)")
    verify.set_defaults(run=_data_verify)

    cache = data.add_parser("cache", help="decompress the P4 test segments once for grading (reused while unchanged)")
    cache.set_defaults(run=_data_cache)

    env = commands.add_parser("env", help="the students' environment student code runs in").add_subparsers(
        dest="env_command", metavar="ACTION"
    )
    env_create = env.add_parser("create", help="build it with grading.yml's pins (again only when they changed)")
    env_create.add_argument(
        "--python",
        default=None,
        metavar="PATH",
        help="interpreter to build with (default: grading.yml's version, else the closest)",
    )
    env_create.set_defaults(run=_env_create)
    env_show = env.add_parser("show", help="the declared and the installed versions side by side")
    env_show.set_defaults(run=_env_show)

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

    rehearse = commands.add_parser(
        "rehearse", help="run dist/autograder.zip on submissions as Gradescope would, in a local /autograder tree"
    )
    rehearse.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="submission files or folders")
    rehearse.add_argument("-o", "--out", type=Path, required=True, help="output folder (one results.json each)")
    rehearse.add_argument("--zip", type=Path, default=None, help="autograder zip (default: dist/autograder.zip)")
    rehearse.add_argument("-j", "--jobs", type=int, default=1, help="submissions run at once (default 1)")
    rehearse.set_defaults(run=_rehearse)

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

    if args.problem == 4:
        return _generate_problem4(args, config)
    truth = problem1.generate(config, seed=args.seed, force=args.force)
    print(f"wrote {_show(problem1.data_path(config))} (look-alike, seed {truth.seed})")
    print(f"wrote {_show(problem1.key_path(config))} (answer key; grading side only)")
    return 0


def _generate_problem4(args: argparse.Namespace, config: Config) -> int:
    from tqdm import tqdm

    from autograder.data import problem4

    gen = config.data.problem4.generate
    segments = args.segments if args.segments is not None else gen.segments
    started = time.monotonic()
    with tqdm(total=2 * len(set(segments)), desc="calcium segments", unit="file", disable=None) as bar:

        def report(entry: problem4.SegmentFile, reused: bool) -> None:
            bar.update(1)
            bar.write(f"{'kept' if reused else 'wrote'} {_show(config.data.dir / entry.name)} ({entry.images} images)")

        files = problem4.generate(config, segments, args.images_per_segment, args.seed, jobs=args.jobs, on_file=report)
    print(f"{len(files)} calcium files ready in {_show(config.data.dir)} ({time.monotonic() - started:.0f} s)")
    return 0


def _data_fetch(args: argparse.Namespace, config: Config) -> int:
    from autograder.data import problem1

    if args.problem == 4:
        sources = config.data.problem4.sources
        if not sources:
            raise Assn1Error(
                f"{config.path}: `data.problem4.sources` lists no files to download; add each file's url, sha256 and "
                "size there, or run `assn1 data generate --problem 4` for stand-ins."
            )
        for name, source in sources.items():
            _fetch_one(args, config, source, config.data.dir / name)
        return 0
    _fetch_one(args, config, config.data.problem1.source, problem1.data_path(config))
    return 0


def _fetch_one(args: argparse.Namespace, config: Config, source: RemoteSource, dest: Path) -> None:
    from autograder.data.fetch import fetch

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


def _data_cache(args: argparse.Namespace, config: Config) -> int:
    from autograder.data.problem4 import test_set

    started = time.monotonic()
    made = test_set(config.data.dir, config.data.cache_dir, config.data.problem4.test_segments)
    print(f"P4 test set: {made.count:,} images in {_show(made.images)} ({time.monotonic() - started:.0f} s)")
    return 0


def _data_verify(args: argparse.Namespace, config: Config) -> int:
    from autograder.data.verify import verify_data

    reports = verify_data(config)
    for report in reports:
        print(f"{'ok  ' if report.ok else 'FAIL'}  {_show(report.path)}: {report.message}")
    failed = sum(not r.ok for r in reports)
    print(f"{len(reports) - failed} ok, {failed} with problems")
    return 1 if failed else 0


def _env_create(args: argparse.Namespace, config: Config) -> int:
    from autograder import environment

    started = time.monotonic()
    installed, built = environment.create(config, python=args.python)
    what = f"built in {time.monotonic() - started:.0f} s" if built else "already up to date"
    print(
        f"student environment {config.environment.name} {what}: {_show(installed.dir)} "
        f"(Python {installed.python_version}, {len(config.environment.packages)} pinned packages)"
    )
    return 0


def _env_show(args: argparse.Namespace, config: Config) -> int:
    from autograder import environment

    installed = environment.inspect(config)
    print("\n".join(environment.show(config, installed)))
    return 1 if environment.problems(config, installed) else 0


def _build(args: argparse.Namespace, config: Config) -> int:
    from autograder.build import build

    print(f"building from {_show(config.build.master)} (otter assign) ...")
    result = build(config)
    print(f"wrote {_show(result.student_notebook)} ({result.public_checks} public checks)")
    print(
        f"wrote {_show(result.autograder_dir)} ({result.public_checks + result.hidden_checks} checks, {result.hidden_checks} hidden)"
    )
    size = result.zip_path.stat().st_size
    print(f"wrote {_show(result.zip_path)} ({size / 1024:,.0f} KB; for otter run/grade and Gradescope)")
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
    print(summary(results, time.monotonic() - started, args.jobs, args.out / "final_grades.csv"))
    return 1 if any(r.grader_fault for r in results) else 0


def summary(results: list, seconds: float, jobs: int, gradebook: Path) -> str:
    """What a batch came to: one row per submission, then what needs the instructor's attention."""
    from autograder.reports import concern_line
    from autograder.results import Status

    possible = results[0].possible if results else 0
    mean = sum(r.total for r in results) / len(results)
    lines = [
        f"graded {len(results)} submission(s) in {seconds:.0f} s with {jobs} job(s): mean {mean:.2f} / {possible:g}; "
        f"isolation {results[0].isolation}; gradebook {_show(gradebook)}"
    ]
    width = max(len(r.name) for r in results)
    for r in results:
        lines.append(f"  {r.name.ljust(width)}  {r.total:6.2f} / {r.possible:g}  {r.status.value}")
    attention = [r for r in results if r.status is Status.NEEDS_ATTENTION]
    if attention:
        lines.append(f"{len(attention)} submission(s) need attention:")
        for r in attention:
            lines += [f"  {r.name}: {concern_line(c)}" for c in r.grouped_concerns]
    skipped = [r for r in results if r.status is Status.NOT_GRADED]
    if skipped:
        lines.append(f"{len(skipped)} submission(s) not graded (their files):")
        lines += [f"  {r.name}: {r.not_graded}" for r in skipped]
    faulty = [r.name for r in results if r.grader_fault]
    if faulty:
        lines.append(
            f"the grades of {len(faulty)} submission(s) are incomplete because of grader faults ({', '.join(faulty)}): "
            "fix the cause named above and grade them again."
        )
    return "\n".join(lines)


def _check(args: argparse.Namespace, config: Config) -> int:
    import tempfile

    from autograder.grading import GradeOptions, grade_batch
    from autograder.reports import table
    from autograder.results import Status
    from autograder.submissions import find_submissions

    with tempfile.TemporaryDirectory(prefix="assn1-check-") as out:
        options = GradeOptions(config.path, Path(out), False, "auto", args.timeout)
        (result,) = grade_batch(config, find_submissions([args.notebook]), options, progress=True)
    print(table(result, show_hidden=False))
    print("Public checks only: hidden checks test more inputs when your submission is graded.")
    return 1 if result.grader_fault or result.status is Status.NOT_GRADED else 0


def _rehearse(args: argparse.Namespace, config: Config) -> int:
    from autograder import environment
    from autograder.bundle import ZIP_NAME
    from autograder.rehearsal import question_scores, rehearse
    from autograder.submissions import find_submissions

    zip_path = args.zip or config.build.dist_dir / ZIP_NAME
    if not zip_path.is_file():
        raise Assn1Error(f"{zip_path} not found; run `assn1 build` first.")
    python = str(environment.require(config).python)  # otter's environment on Gradescope: the same pins
    submissions = find_submissions(args.paths)
    print(f"rehearsing {len(submissions)} submission(s) with {_show(zip_path)} (data step once per tree) ...")
    for result in rehearse(zip_path, submissions, args.out, jobs=args.jobs, python=python):
        scores = question_scores(result.results)
        total = sum(scores.values())
        print(f"  {result.name:<28} {total:6.2f} points  ({result.seconds:.0f} s)")
    print(f"results.json per submission in {_show(args.out)}")
    return 0


def _show(path: Path) -> str:
    """A path relative to the working folder when it lies below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    raise SystemExit(main())
