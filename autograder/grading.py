"""Grade submissions: unpack, run in a confined kernel, probe from outside, judge in this process.

Nothing here knows a problem: the questions and their checks come from grading.yml and the suite,
files and saved outputs from the items' declarations (`evidence`). Each submission is graded in a
worker process of its own; a crash, a timeout or an unreadable file becomes that submission's
status, and the batch carries on. Whose fault a gap is decides its outcome (`judging`).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
from tqdm import tqdm

from autograder import drift, environment, evidence, execution, isolated, probing, sandbox
from autograder.build import ship_package
from autograder.checks.spec import CheckConfig
from autograder.config import Config, Limits, load_config
from autograder.judging import encode, judge, measure_files, observation, prepare_keys, score_questions
from autograder.keys import build_bundle
from autograder.options import GradeOptions
from autograder.results import Concern, SubmissionResult, Unobserved
from autograder.spans import question_label
from autograder.submissions import Submission, SubmissionError, read_notebook, unpack
from autograder.suite import ITEMS


def grade_batch(
    config: Config,
    submissions: list[Submission],
    options: GradeOptions,
    jobs: int = 1,
    progress: bool = True,
    bundle: dict | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
    on_workspace: Callable[[Path], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every submission (in `jobs` worker processes) and return results in input order.

    `bundle` is the keys and settings (built here when not given); `on_result` is called in this
    process as each submission finishes, `on_workspace` with the scratch folder before any starts.
    An interruption (Ctrl-C, SIGTERM) stops the kernels and the workers and removes the scratch folder.
    """
    kernel = environment.require(config)  # student code runs with the declared versions, or not at all
    isolation = sandbox.choose_isolation(options.isolation, str(kernel.python), kernel.paths)
    bundle = bundle or build_bundle(config, include_hidden=options.include_hidden)
    keys, problems = prepare_keys(bundle["keys"])
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    bundle = {**bundle, "keys": keys}
    workspace = Path(tempfile.mkdtemp(prefix="assn1-grade-"))
    os.chmod(workspace, 0o755)
    if on_workspace is not None:
        on_workspace(workspace)
    results: dict[str, SubmissionResult] = {}

    def finished(result: SubmissionResult) -> None:
        results[result.name] = result
        if on_result is not None:
            on_result(result)
        bar.update(1)

    bar = tqdm(total=len(submissions), desc="grading", unit="nb", disable=None if progress else True)
    try:
        shipped = workspace / "shipped"
        ship_package(shipped / "autograder", {"configs": {}, "keys": {}})
        _readable(shipped)
        tasks = [(options, bundle, isolation, kernel, str(workspace), s) for s in submissions]
        if jobs <= 1:
            for task in tasks:
                finished(_grade_task(task))
        else:
            _in_workers(tasks, jobs, finished)
        return [results[s.name] for s in submissions]
    finally:
        bar.close()
        shutil.rmtree(workspace, ignore_errors=True)


def _in_workers(tasks: list[tuple], jobs: int, finished: Callable[[SubmissionResult], None]) -> None:
    """Run the tasks in `jobs` processes; on an interruption, stop the workers (their kernels with them)."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_stop_on_sigterm)
    try:
        for future in as_completed([pool.submit(_grade_task, t) for t in tasks]):
            finished(future.result())
    except BaseException:
        workers = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:  # SIGTERM: a worker stops its kernel, then exits
            worker.terminate()
        for worker in workers:
            worker.join(timeout=20)
            if worker.is_alive():
                worker.kill()
        raise
    pool.shutdown()


def _stop_on_sigterm() -> None:
    """In a worker: SIGTERM unwinds like Ctrl-C, so the kernel is shut down; Ctrl-C itself is left to the
    main process, which stops the workers."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _grade_task(task: tuple) -> SubmissionResult:
    options, bundle, isolation, kernel, workspace, submission = task
    config = load_config(options.config_path)
    started = time.monotonic()
    try:
        return grade_one(config, submission, options, bundle, isolation, Path(workspace), kernel)
    except Exception as exc:  # noqa: BLE001 - the grader's own failure: the batch carries on, the row says why
        fault = Concern("grader", f"the grader failed on this submission: {type(exc).__name__}: {str(exc)[:200]}")
        return _ungraded(config, submission, isolation, started, concerns=(fault,))


def grade_one(
    config: Config,
    submission: Submission,
    options: GradeOptions,
    bundle: dict,
    isolation: sandbox.Isolation,
    workspace: Path,
    kernel: environment.Installed,
) -> SubmissionResult:
    """Grade one submission, its code in the student environment `kernel`; write its executed notebook
    into the output folder."""
    started = time.monotonic()
    home = workspace / submission.name
    scratch, connection_dir, kept = home / "work", home / "conn", home / "files"
    connection_dir.mkdir(parents=True)
    try:
        notebook_path = unpack(submission, scratch)
        nb = read_notebook(notebook_path)
    except SubmissionError as exc:
        return _ungraded(config, submission, isolation, started, not_graded=str(exc).rstrip("."))
    check_ids = list(bundle["configs"])
    keys = bundle["keys"]
    evidence.keep_files(notebook_path.parent, kept, check_ids)
    sandbox.hand_over(isolation, [scratch, connection_dir, kept])
    _stage_data(config, scratch / "data")
    box = sandbox.Confinement(
        scratch=scratch,
        connection_dir=connection_dir,
        shipped=workspace / "shipped",
        hidden=_hidden_paths(config, options, submission),
        visible=sandbox.python_paths(kernel.paths),
    )
    seed = submission_seed(config, submission.name)
    limits = config.limits
    notebook_timeout_s = options.notebook_timeout_s or limits.notebook_timeout_s
    prepared = time.monotonic()
    with sandbox.process_cap(submission.name, limits.max_processes) as cgroup:
        run = _execute(
            nb, isolation, limits, box, cgroup, seed, keys, check_ids, notebook_timeout_s, str(kernel.python)
        )
    timings = {"unpack and stage": prepared - started, **run.phases}
    t0 = time.monotonic()
    measured = measure_files(kept, keys, check_ids, _file_runner(config, isolation, box, kept, seed))
    timings["files"] = time.monotonic() - t0
    t0 = time.monotonic()
    printed = evidence.saved_outputs(nb, {name for i in check_ids for name in ITEMS[i].saved_output})
    labels = {
        q: question_label(question.title) for p in config.problems.values() for q, question in p.questions.items()
    }
    known = [label for label in labels.values() if label]
    results, observations = [], {}
    for check_id in check_ids:
        item = ITEMS[check_id]
        if item.engine_only and not run.startup_error:
            observed = evidence.question_figures(run.notebook.cells, run.figures, labels[item.question] or "", known)
        else:
            observed = observation(check_id, _probed(run, check_id), measured, printed)
        observations[check_id] = encode(observed)
        results.append(judge(check_id, observed, keys[check_id], CheckConfig(**bundle["configs"][check_id])))
    timings["checks"] = time.monotonic() - t0
    t0 = time.monotonic()
    out = options.out_dir / submission.name
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(run.notebook, out / "executed.ipynb")
    timings["outputs"] = time.monotonic() - t0
    return SubmissionResult(
        submission.name,
        str(submission.path),
        isolation.level,
        time.monotonic() - started,
        score_questions(config, results),
        concerns=_run_concerns(run, limits, notebook_timeout_s) + _drift_concerns(run, kernel),
        notes=(*_notes(run, isolation, cgroup is not None), kernel.note(config.environment)),
        observations=observations,
        timings=timings,
    )


def _ungraded(
    config: Config, submission: Submission, isolation: sandbox.Isolation, started: float, **why
) -> SubmissionResult:
    """The row of a submission no check could judge: every question at 0, and why (`concerns` or `not_graded`)."""
    return SubmissionResult(
        submission.name,
        str(submission.path),
        isolation.level,
        time.monotonic() - started,
        score_questions(config, []),
        **why,
    )


def _probed(run: execution.Execution, check_id: str):
    """The probe's plain data, or why there is none and whose doing that was."""
    if run.startup_error:
        return Unobserved(run.startup_error, "grader")
    if check_id in run.probes:
        return run.probes[check_id]
    return Unobserved("the notebook did not finish", "limit")


def _execute(
    nb, isolation, limits, box, cgroup, seed, keys, check_ids, notebook_timeout_s, python
) -> execution.Execution:
    token = secrets.token_hex(16)  # figure messages from anything but the setup code lack it
    spec = execution.RunSpec(
        prefix=sandbox.kernel_prefix(isolation, limits, box, cgroup),
        scratch=box.scratch,
        connection_dir=box.connection_dir,
        env=execution.kernel_env(box.scratch, box.shipped, seed, python),
        setup_code=probing.setup_code(seed, token),
        probe_code={i: probing.probe_code(i, keys[i], str(box.shipped)) for i in check_ids if not ITEMS[i].engine_only},
        cell_timeout_s=limits.cell_timeout_s,
        notebook_timeout_s=notebook_timeout_s,
        probe_timeout_s=limits.probe_budget_s + 10,
        figure_token=token,
        python=python,
    )
    return execution.run(execution.prepare(nb), spec)


def _file_runner(config: Config, isolation: sandbox.Isolation, box: sandbox.Confinement, kept: Path, seed: int):
    """`run("module:function", inputs=..., **kwargs)` in a confined interpreter that sees the kept files;
    the grader's own files it reads (`inputs`, e.g. the test set) are handed over open."""
    limits = dataclasses.replace(
        config.limits, memory_mb=config.limits.file_memory_mb, cpu_time_s=config.limits.file_timeout_s
    )
    confined = dataclasses.replace(box, scratch=kept, connection_dir=kept)  # data arrives as open files
    env = execution.kernel_env(kept, box.shipped, seed)

    def run(target: str, inputs: dict[str, str] | None = None, **kwargs):
        with sandbox.process_cap(f"{kept.parent.name}-files", limits.max_processes) as cgroup:
            prefix = sandbox.kernel_prefix(isolation, limits, confined, cgroup)
            return isolated.run_isolated(target, kwargs, kept, prefix, env, limits.file_timeout_s, inputs)

    return run


def _run_concerns(run: execution.Execution, limits: Limits, notebook_timeout_s: float) -> tuple[Concern, ...]:
    """The resource limits that stopped the student's code, named with the setting that set them."""
    concerns = []
    for cell in run.cells:
        where = f"cell {cell.index + 1}"
        if cell.status == "timeout":
            concerns.append(
                Concern(
                    "limit",
                    f"{where} was stopped at the cell time limit ({limits.cell_timeout_s:g} s, limits.cell_timeout_s)",
                )
            )
        elif cell.status == "error" and cell.detail.startswith("MemoryError"):
            concerns.append(Concern("limit", f"{where} ran out of memory (limits.memory_mb = {limits.memory_mb})"))
        elif cell.status == "killed-kernel":
            concerns.append(
                Concern(
                    "limit",
                    f"the kernel died in {where} (the {limits.memory_mb} MB memory limit, or the code ended it); later cells ran in a restarted kernel",
                )
            )
    if run.timed_out:
        first = next((c.index + 1 for c in run.cells if c.status == "not-reached"), None)
        rest = f"; cells from {first} on did not run" if first else ""
        concerns.append(
            Concern(
                "limit",
                f"the notebook reached its time limit ({notebook_timeout_s:g} s, limits.notebook_timeout_s){rest}",
            )
        )
    return tuple(concerns)


def _drift_concerns(run: execution.Execution, kernel: environment.Installed) -> tuple[Concern, ...]:
    """Cells whose error looks like an API change in a declared library (`drift.detect`): a concern each,
    with the error, the library and its version in the student environment; the score stands."""
    names = drift.notebook_names(c.source for c in run.notebook.cells if c.cell_type == "code")
    libraries = kernel.libraries()
    concerns = []
    for cell in run.cells:
        if cell.status != "error":
            continue
        ename, _, evalue = cell.detail.partition(": ")
        found = drift.detect(ename, evalue, cell.traceback, libraries, names)
        if found:
            concerns.append(Concern("drift", drift.describe(found, cell.index + 1)))
    return tuple(concerns)


def _notes(run: execution.Execution, isolation: sandbox.Isolation, capped: bool) -> tuple[str, ...]:
    """How the notebook ran, for results.json: the isolation, cells that raised, restarts."""
    uncapped = " (no process cap per kernel: the pids cgroup is not writable; the process rlimit applies instead)"
    level = f"isolation: {isolation.level}" + ("" if capped else uncapped)
    notes = [level + (f"; {isolation.note}" if isolation.note else "")]
    for cell in [c for c in run.cells if c.status == "error"][:10]:
        notes.append(f"cell {cell.index + 1} raised {cell.detail}")
    if run.restarts:
        notes.append(f"the kernel was restarted {run.restarts} time(s)")
    return tuple(notes)


def submission_seed(config: Config, name: str) -> int:
    """The seed of one submission: the same on every run and whatever the number of workers."""
    return (config.assignment.seed * 1_000_003 + zlib.crc32(name.encode())) % (2**31 - 1)


def _stage_data(config: Config, target: Path) -> None:
    """Copy the data files the notebook reads (grading.yml's data.notebook_files) next to it."""
    target.mkdir(parents=True, exist_ok=True)
    for name in config.data.notebook_files:
        path = config.data.dir / name
        if path.is_file():
            shutil.copyfile(path, target / name)
            os.chmod(target / name, 0o644)


def _hidden_paths(config: Config, options: GradeOptions, submission: Submission) -> tuple[Path, ...]:
    """What the kernel must not read: the project, the keys, the data, the other submissions, the outputs, home."""
    paths = {
        config.path.parent,
        config.data.dir,
        config.data.answer_key_dir,
        submission.path.resolve().parent,
        options.out_dir.resolve(),
        Path.home(),
    }
    return tuple(sorted(p for p in paths if str(p) not in ("/", "/tmp")))


def _readable(path: Path) -> None:
    for root, dirs, files in os.walk(path):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
