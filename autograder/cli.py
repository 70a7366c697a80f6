"""The `assn1` command line: one subcommand per job, errors in one line."""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import __version__
from autograder.config import Config, RemoteSource, find_config, load_config
from autograder.errors import Assn1Error
from autograder.sandbox import LEVELS

if TYPE_CHECKING:
    from autograder.manual.formulas import Judge


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
    grade.add_argument(
        "--regrade",
        nargs="*",
        metavar="NAME",
        default=None,
        help="grade again whatever the gradebook holds: these submissions, every submission for a question id, "
        "or all when no name is given",
    )
    grade.add_argument(
        "--fresh", action="store_true", help="start a new gradebook in OUT, keeping the old one as a backup"
    )
    grade.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        default=None,
        help="grade on the workers of this dask.distributed scheduler, one task per submission "
        "(default: -j processes here)",
    )
    grade.add_argument(
        "--worker-data",
        type=Path,
        metavar="DIR",
        default=None,
        help="with --scheduler: where each worker finds the P4 test segments, verified by digest (default: this "
        "machine's data folder, at the same path there)",
    )
    grade.add_argument(
        "--show-hidden", action="store_true", help="feedback pages show hidden checks too (the instructor's copy)"
    )
    grade.set_defaults(run=_grade)

    book = commands.add_parser("gradebook", help="what OUT/gradebook.sqlite holds, and exports of it").add_subparsers(
        dest="gradebook_command", metavar="ACTION"
    )
    show = book.add_parser("show", help="list the stored submissions and what the next `grade` would do with each")
    show.add_argument("out", type=Path, metavar="OUT", help="the output folder of `assn1 grade`")
    show.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="submissions to compare (default: the stored ones' sources)"
    )
    show.set_defaults(run=_gradebook_show)
    export = book.add_parser("export", help="the grades for a learning-management system, matched through a roster")
    export.add_argument("out", type=Path, metavar="OUT", help="the output folder of `assn1 grade`")
    export.add_argument("--format", choices=["gradescope", "canvas"], required=True)
    export.add_argument("--roster", type=Path, required=True, help="CSV: submission,student_id[,name][,email]")
    export.add_argument("--assignment", default=None, help="Canvas: the assignment column's header")
    export.add_argument(
        "-o", "--output", type=Path, default=None, help="file to write (default: OUT/<format>_grades.csv)"
    )
    export.set_defaults(run=_gradebook_export)
    template = book.add_parser(
        "manual-template", help="print a CSV for the graders: a row per submission and hand-graded question"
    )
    template.add_argument("out", type=Path, metavar="OUT", help="the output folder of `assn1 grade`")
    template.add_argument("--question", nargs="*", default=[], metavar="Q", help="only these hand-graded questions")
    template.add_argument("-o", "--output", type=Path, default=None, help="write it to a file instead of printing it")
    template.set_defaults(run=_gradebook_manual_template)
    manual = book.add_parser(
        "import-manual", help="store a filled manual template's scores and export final_grades.csv with them"
    )
    manual.add_argument("out", type=Path, metavar="OUT", help="the output folder of `assn1 grade`")
    manual.add_argument("file", type=Path, metavar="FILE", help="the filled CSV of `assn1 gradebook manual-template`")
    manual.add_argument("--grader", default=None, help="who entered the scores (default: your user name)")
    manual.add_argument(
        "--show-hidden",
        action="store_true",
        help="write the scored submissions' feedback pages as the instructor's copies (as `assn1 grade --show-hidden`)",
    )
    manual.set_defaults(run=_gradebook_import_manual)
    suggest = book.add_parser(
        "suggest",
        help="write OUT/manual_suggestions.csv (suggested verdicts for the hand-graded formulas) and the pages "
        "of the hand-graded questions, OUT/manual/",
    )
    suggest.add_argument("out", type=Path, metavar="OUT", help="the output folder of `assn1 grade`")
    suggest.set_defaults(run=_gradebook_suggest)

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
    check.add_argument(
        "--html",
        type=Path,
        nargs="?",
        const=Path("feedback.html"),
        default=None,
        metavar="FILE",
        help="also write your feedback page for the public checks (default FILE: feedback.html)",
    )
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
    import signal

    from autograder.batch import GradeOptions, run_batch
    from autograder.gradebook import open_gradebook
    from autograder.manual.formulas import Judge
    from autograder.pages.write import write_pages
    from autograder.reports import export_all
    from autograder.submissions import find_submissions

    submissions = find_submissions(args.paths)
    if not submissions:
        print("assn1: error: no notebooks or zips found in " + ", ".join(map(str, args.paths)), file=sys.stderr)
        return 1
    regrade = None if args.regrade is None else set(args.regrade)
    questions = {q for p in config.problems.values() for q in p.questions}
    unknown = sorted((regrade or set()) - questions - {s.name for s in submissions})
    if unknown:
        raise Assn1Error(f"--regrade {unknown[0]}: neither a submission given here nor a question of {config.path}.")
    executor = _executor(args)
    args.out.mkdir(parents=True, exist_ok=True)
    options = GradeOptions(config.path, args.out.resolve(), True, args.isolation, args.timeout)
    gradebook = open_gradebook(args.out, fresh=args.fresh)
    signal.signal(signal.SIGTERM, _interrupt)  # a stopped batch keeps what finished, like Ctrl-C
    started = time.monotonic()
    with Judge() as judge:  # suggests verdicts on the graded submissions' formulas once the batch is done
        try:  # warmed as grading starts, so its imports overlap the notebooks
            outcome = run_batch(
                config, submissions, options, gradebook, regrade=regrade, executor=executor, before_grading=judge.warm
            )
            export_all(config, outcome.results, args.out, _manual_table(gradebook))
            only = None if args.show_hidden else outcome.changed
            wall_s = time.monotonic() - started
            entered = gradebook.manual_scores()
            write_pages(config, outcome.results, args.out, only, args.show_hidden, wall_s, entered)
        except KeyboardInterrupt:
            held = gradebook.load()
            done = sum(s.name in held for s in submissions)
            print(
                f"assn1: interrupted: the gradebook keeps {done} of {len(submissions)} submission(s); run the same "
                "command to grade the rest.",
                file=sys.stderr,
            )
            return 130
        finally:
            gradebook.close()
        _grader_files(config, args.out, judge)
    counts = outcome.counts
    print(
        f"kept {counts['keep']}, rescored {counts['rescore']}, graded {counts['grade']} (gradebook {_show(args.out / 'gradebook.sqlite')})"
    )
    print(summary(outcome.results, time.monotonic() - started, executor.describe(), args.out / "final_grades.csv"))
    return 1 if any(r.grader_fault for r in outcome.results) else 0


def _executor(args: argparse.Namespace):
    """Where `assn1 grade` grades: this machine's processes (-j), or a dask cluster's workers (--scheduler)."""
    from autograder.executors import DaskCluster, LocalPool

    if args.worker_data is not None and not args.scheduler:
        raise Assn1Error("--worker-data is for the workers of a cluster; give --scheduler too.")
    if args.worker_data is not None and not args.worker_data.is_absolute():
        raise Assn1Error(
            f"--worker-data should be an absolute path (a folder on every worker); got {args.worker_data}."
        )
    if args.scheduler:
        return DaskCluster(args.scheduler, args.worker_data)
    return LocalPool(max(1, args.jobs))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _gradebook_show(args: argparse.Namespace, config: Config) -> int:
    from autograder.batch import decide
    from autograder.derived import open_derived
    from autograder.fingerprint import fingerprint
    from autograder.gradebook import NAME, open_gradebook
    from autograder.keys import build_bundle, kept_keys
    from autograder.sandbox import choose_isolation
    from autograder.submissions import Submission, find_submissions

    if not (args.out / NAME).is_file():
        raise Assn1Error(f"{args.out / NAME} not found; `assn1 grade ... -o {args.out}` makes it.")
    gradebook = open_gradebook(args.out)
    try:
        stored = gradebook.load()
        subs = (
            find_submissions(args.paths)
            if args.paths
            else [Submission(s.name, Path(s.source)) for s in stored.values()]
        )
        isolation = choose_isolation("auto").level
        with closing(open_derived(config.data.cache_dir)) as derived:
            fp = fingerprint(config, build_bundle(config, True, kept_keys(derived)), isolation, derived.digest)
        decisions = [d for d in decide([s for s in subs if s.path.is_file()], stored, fp, None)]
    finally:
        gradebook.close()
    width = max([len(s.name) for s in stored.values()] + [10])
    print(f"{args.out / NAME}: {len(stored)} submission(s)")
    for d in decisions:
        held = d.stored
        score = f"{held.result(config).total:6.2f}" if held else "     -"
        print(f"  {d.submission.name.ljust(width)}  {score}  next run: {d.action} ({d.why})")
    for name in sorted(set(stored) - {d.submission.name for d in decisions}):
        print(
            f"  {name.ljust(width)}  {stored[name].result(config).total:6.2f}  next run: its file {stored[name].source} is gone"
        )
    return 0


def _gradebook_export(args: argparse.Namespace, config: Config) -> int:
    from autograder.gradebook import NAME, open_gradebook
    from autograder.reports import export_lms

    if not (args.out / NAME).is_file():
        raise Assn1Error(f"{args.out / NAME} not found; `assn1 grade ... -o {args.out}` makes it.")
    gradebook = open_gradebook(args.out)
    try:
        results = [s.result(config) for s in gradebook.load().values()]
    finally:
        gradebook.close()
    target = args.output or args.out / f"{args.format}_grades.csv"
    count = export_lms(results, args.roster, args.format, target, args.assignment or config.assignment.title)
    print(f"wrote {_show(target)} ({count} students)")
    return 0


def _manual_table(gradebook) -> dict:
    from autograder.manual.commands import manual_table

    return manual_table(gradebook)


def _grader_files(config: Config, out: Path, judge: Judge | None = None) -> None:
    """manual_suggestions.csv and OUT/manual/ after a batch (with the batch's formula `judge`); a failure
    here costs no grade, only these files."""
    from autograder.manual.commands import grader_files

    try:
        _print_grader_files(grader_files(config, out, judge))
    except Exception as exc:  # noqa: BLE001 - the grades are written; these files can be made again
        print(
            f"assn1: warning: no manual_suggestions.csv or manual pages ({exc}); run `assn1 gradebook suggest {out}`.",
            file=sys.stderr,
        )


def _print_grader_files(files) -> None:
    print(f"wrote {_show(files.suggestions)} (suggested verdicts for the graders, not scores)")
    print(f"wrote {_show(files.pages)} (a page per hand-graded question with every answer)")


def _gradebook_manual_template(args: argparse.Namespace, config: Config) -> int:
    from autograder.manual.commands import manual_template
    from autograder.reports import write_text

    text = manual_template(config, args.out, args.question)
    if args.output:
        write_text(text, args.output)
        print(
            f"wrote {_show(args.output)}: fill in score and comment, then `assn1 gradebook import-manual {args.out} {args.output}`"
        )
    else:
        sys.stdout.write(text)
    return 0


def _gradebook_import_manual(args: argparse.Namespace, config: Config) -> int:
    import getpass

    from autograder.manual.commands import import_manual

    done = import_manual(config, args.out, args.file, args.grader or getpass.getuser(), args.show_hidden)
    print(
        f"imported {done.scores} score(s) for {done.submissions} submission(s) and {done.questions} question(s); "
        f"wrote {_show(done.final_grades)}, the manual pages ({_show(done.pages)}) and the scored submissions' "
        "feedback pages"
    )
    return 0


def _gradebook_suggest(args: argparse.Namespace, config: Config) -> int:
    from autograder.manual.commands import grader_files

    _print_grader_files(grader_files(config, args.out))
    return 0


def summary(results: list, seconds: float, jobs: int | str, gradebook: Path) -> str:
    """What a batch came to: one row per submission, then what needs the instructor's attention."""
    from autograder.reports import concern_line
    from autograder.results import Status

    possible = results[0].possible if results else 0
    where = jobs if isinstance(jobs, str) else f"{jobs} job(s)"  # or where it graded ("the workers of tcp://...")
    mean = sum(r.total for r in results) / len(results)
    lines = [
        f"graded {len(results)} submission(s) in {seconds:.0f} s with {where}: mean {mean:.2f} / {possible:g}; "
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
    from autograder.keys import configured_checks
    from autograder.reports import table, write_text
    from autograder.results import Status
    from autograder.submissions import find_submissions

    with tempfile.TemporaryDirectory(prefix="assn1-check-") as out:
        options = GradeOptions(config.path, Path(out), False, "auto", args.timeout)
        (result,) = grade_batch(config, find_submissions([args.notebook]), options, progress=True)
        if args.html:
            import nbformat

            from autograder.pages.feedback import feedback_page
            from autograder.pages.write import reference_figures

            executed = nbformat.read(Path(out) / result.name / "executed.ipynb", as_version=4)
            write_text(feedback_page(config, result, executed, reference_figures(config)), args.html)
    hidden: dict[str, float] = {}
    for check_id, check in configured_checks(config).items():
        if check.hidden:
            hidden[check_id.split(".")[0]] = hidden.get(check_id.split(".")[0], 0.0) + check.points
    print(table(result, hidden))
    if args.html:
        print(f"wrote {_show(args.html)} (your feedback page: open it in a browser)")
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
