"""Grade submissions: unpack, run in a confined kernel, probe from outside, judge in the grading process.

Nothing here knows a problem: the questions and their checks come from grading.yml and the suite,
files and saved outputs from the items' declarations (`evidence`). Each submission is one self-contained
task (its bytes; the batch's job: keys, settings, grading.yml as read here) graded at a station (a scratch
folder and the keys' data prepared on the machine that grades it) by an executor: this machine's
processes or a cluster's workers (`executors`), which nothing here tells apart. A crash, a timeout or an
unreadable file becomes that submission's status, and the batch carries on. Whose fault a gap is
decides its outcome (`judging`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from tqdm import tqdm

from autograder import drift, environment, evidence, execution, isolated, probing, sandbox
from autograder.build import ship_package
from autograder.checks.spec import CheckConfig
from autograder.config import Config, Limits
from autograder.derived import open_derived
from autograder.errors import Assn1Error
from autograder.judging import encode, judge, measure_files, observation, prepare_keys, score_questions
from autograder.keys import build_bundle, kept_keys
from autograder.options import GradeOptions
from autograder.results import Concern, SubmissionResult, Unobserved
from autograder.spans import question_label
from autograder.submissions import Submission, SubmissionError, read_notebook, unpack
from autograder.suite import ITEMS

if TYPE_CHECKING:
    from autograder.executors import Executor


@dataclass(frozen=True)
class Job:
    """What every task of one batch shares, wherever it runs: grading.yml as read where `assn1 grade` runs, the
    command line's options, the keys (their batch data prepared there) and check settings, the isolation level,
    and the data files a notebook reads (grading.yml's data.notebook_files), by name. A worker needs nothing of
    the instructor's folders besides this."""

    config: Config
    options: GradeOptions
    bundle: dict
    level: str
    notebook_files: dict[str, bytes]
    id: str = dataclasses.field(default_factory=lambda: secrets.token_hex(8))


@dataclass(frozen=True)
class Task:
    """One submission, self-contained: its name, its file's name and bytes, and the path it was read from (its row)."""

    name: str
    filename: str
    content: bytes
    source: str

    @classmethod
    def read(cls, submission: Submission) -> Task:
        return cls(submission.name, submission.path.name, submission.path.read_bytes(), str(submission.path))


@dataclass(frozen=True)
class Graded:
    """A task's outcome: the submission's result, and its notebook as it ran (None when it did not run)."""

    result: SubmissionResult
    notebook: nbformat.NotebookNode | None = None


@dataclass(frozen=True)
class Station:
    """Where one machine grades a job's tasks: its scratch folder (the checking code shipped into it, the
    notebook's data files staged), its isolation, the keys with their batch data prepared on this machine,
    the students' environment its kernels run in, and this machine's data folders, which its kernels must
    not read."""

    workspace: Path
    isolation: sandbox.Isolation
    keys: dict
    kernel: environment.Installed
    hidden: tuple[Path, ...] = ()

    @property
    def data_files(self) -> Path:
        return self.workspace / "data-files"


class StationError(Assn1Error):
    """This machine cannot grade the job as the machine running `assn1 grade` would: its isolation level or
    the data its checks prepare differ."""


def job_for(config: Config, options: GradeOptions, bundle: dict | None = None) -> Job:
    """The job of a batch graded on this machine's view of grading.yml: keys built (when not given) and their
    batch data prepared here, once; the data files a notebook reads read into it."""
    kernel = environment.require(config)  # student code runs with the declared versions, or not at all
    isolation = sandbox.choose_isolation(options.isolation, str(kernel.python), kernel.paths)
    if bundle is None:
        with closing(open_derived(config.data.cache_dir)) as derived:
            bundle = build_bundle(config, options.include_hidden, kept_keys(derived))
    keys, problems = prepare_keys(bundle["keys"])
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    files = {
        n: (config.data.dir / n).read_bytes() for n in config.data.notebook_files if (config.data.dir / n).is_file()
    }
    return Job(config, options, {**bundle, "keys": keys}, isolation.level, files)


def grade_batch(
    config: Config,
    submissions: list[Submission],
    options: GradeOptions,
    jobs: int = 1,
    progress: bool = True,
    bundle: dict | None = None,
    on_result: Callable[[SubmissionResult], None] | None = None,
    on_workspace: Callable[[Path], None] | None = None,
    executor: Executor | None = None,
) -> list[SubmissionResult]:
    """Grade every submission through `executor` (default: `jobs` processes here) and return results in input order.

    `bundle` is the keys and settings (built here when not given); `on_result` is called in this process
    as each submission finishes, after its executed notebook is written to the output folder;
    `on_workspace` with a scratch folder on this machine before any starts. An interruption (Ctrl-C,
    SIGTERM) stops what is running (the executor stops its kernels) and keeps what finished.
    """
    from autograder.executors import LocalPool

    job = job_for(config, options, bundle)
    executor = executor or LocalPool(jobs)
    results: dict[str, SubmissionResult] = {}

    def finished(graded: Graded) -> None:
        result = graded.result
        if graded.notebook is not None:  # written here, wherever it was graded
            t0 = time.monotonic()
            out = options.out_dir / result.name
            out.mkdir(parents=True, exist_ok=True)
            nbformat.write(graded.notebook, out / "executed.ipynb")
            result = dataclasses.replace(result, timings={**result.timings, "outputs": time.monotonic() - t0})
        results[result.name] = result
        if on_result is not None:
            on_result(result)
        bar.update(1)

    bar = tqdm(total=len(submissions), desc="grading", unit="nb", disable=None if progress else True)
    try:
        waiting, outstanding = list(reversed(submissions)), 0
        with executor.session(job, on_workspace) as running:
            while waiting or outstanding:
                while waiting and outstanding < running.capacity():
                    submission = waiting.pop()
                    try:
                        task = Task.read(submission)
                    except OSError as exc:
                        finished(_unreadable(job, submission, exc))
                        continue
                    running.submit(task)
                    outstanding += 1
                if outstanding:
                    finished(running.next_completed())
                    outstanding -= 1
        return [results[s.name] for s in submissions]
    finally:
        bar.close()


def open_station(job: Job, data: tuple[Path, Path] | None = None) -> Station:
    """A station for `job` on this machine: a scratch folder with the checking code and the notebook's data files.

    `data` (data folder, cache folder): where this machine holds what the keys' batch data are prepared from;
    given, each batch is prepared again from there (as `prepare_keys` did where `assn1 grade` runs) and must
    come out the same but for its paths, else StationError says what differs. Not given, the job's own
    prepared keys are used: this is the machine that prepared them.
    """
    try:
        kernel = environment.require(job.config)
    except environment.StudentEnvironmentError as exc:
        raise StationError(f"it cannot run student code in the students' environment: {exc}") from None
    try:
        isolation = sandbox.choose_isolation(job.level, str(kernel.python), kernel.paths)
    except sandbox.SandboxError as exc:
        raise StationError(f"it cannot confine student code at {job.level}: {exc}") from None
    keys, hidden = job.bundle["keys"], ()
    if data is not None:
        keys = _prepare_here(keys, *data)
        hidden = tuple(Path(p).resolve() for p in data)
    workspace = Path(tempfile.mkdtemp(prefix="assn1-grade-"))
    os.chmod(workspace, 0o755)
    station = Station(workspace, isolation, keys, kernel, hidden)
    ship_package(workspace / "shipped" / "autograder", {"configs": {}, "keys": {}})
    _readable(workspace / "shipped")
    station.data_files.mkdir()
    for name, content in job.notebook_files.items():
        (station.data_files / name).write_bytes(content)
    return station


def _prepare_here(keys: dict[str, dict], data_dir: Path, cache_dir: Path) -> dict[str, dict]:
    """The keys with each batch prepared again from this machine's folders, checked against the batch the
    keys came with: every field but a path must be equal (e.g. the digest of a decompressed test set)."""
    out, done = dict(keys), {}
    for check_id, key in keys.items():
        file = ITEMS[check_id].file
        batch = key.get("batch")
        if file is None or file.prepare is None or not isinstance(batch, dict) or "unavailable" in batch:
            continue  # nothing to prepare, or it failed where `assn1 grade` runs: the same "errored" here
        here = {**batch, **{k: str(v) for k, v in (("data_dir", data_dir), ("cache_dir", cache_dir)) if k in batch}}
        memo = (file.prepare, json.dumps(here, sort_keys=True, default=str))
        if memo not in done:
            try:
                done[memo] = file.prepare(here)
            except Exception as exc:  # noqa: BLE001 - missing or unreadable data: this machine can't grade
                raise StationError(f"the data of {check_id} can't be prepared in {data_dir}: {exc}") from None
        prepared = done[memo]
        for field, value in batch.items():
            if not _is_path(value) and prepared.get(field) != value:
                raise StationError(
                    f"the data of {check_id} prepared from {data_dir} differ: its {field} is {_short(prepared.get(field))}, "
                    f"the one `assn1 grade` prepared has {_short(value)}"
                )
        out[check_id] = {**key, "batch": prepared}
    return out


def _is_path(value) -> bool:
    return isinstance(value, str) and os.path.isabs(value)


def _short(value) -> str:
    text = str(value)
    return text[:12] if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else text[:80]


def _unreadable(job: Job, submission: Submission, exc: OSError) -> Graded:
    task = Task(submission.name, submission.path.name, b"", str(submission.path))
    return not_graded(job, task, f"{submission.path.name}: unreadable ({exc.strerror or exc})")


def not_graded(job: Job, task: Task, why: str) -> Graded:
    """The row of a task no check could judge, and why (a file that is no notebook, a task that killed its workers)."""
    return Graded(_ungraded(job.config, task, job.level, 0.0, not_graded=why))


def grader_failed(job: Job, task: Task, why: str) -> Graded:
    """The row of a task the grader failed on (its own fault): every question at 0, the cause for the instructor."""
    fault = Concern("grader", f"the grader failed on this submission: {why[:300]}")
    return Graded(_ungraded(job.config, task, job.level, 0.0, concerns=(fault,)))


def _stop_on_sigterm() -> None:
    """In a grading process: SIGTERM unwinds like Ctrl-C, so the kernel is shut down; Ctrl-C itself is left to
    the process that started it, which stops the grading processes."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def grade_task(job: Job, station: Station, task: Task) -> Graded:
    """Grade one task at a station; the grader's own failure becomes the row's concern, never an exception."""
    started = time.monotonic()
    try:
        return grade_one(job, station, task)
    except Exception as exc:  # noqa: BLE001 - the grader's own failure: the batch carries on, the row says why
        fault = Concern("grader", f"the grader failed on this submission: {type(exc).__name__}: {str(exc)[:200]}")
        return Graded(_ungraded(job.config, task, job.level, started, concerns=(fault,)))


def grade_one(job: Job, station: Station, task: Task) -> Graded:
    """Grade one submission at `station`: its result, and its notebook as it ran."""
    config, options, bundle, isolation = job.config, job.options, job.bundle, station.isolation
    kernel = station.kernel  # the students' environment: their code runs with its versions
    started = time.monotonic()
    home = station.workspace / task.name
    scratch, connection_dir, kept, handed = home / "work", home / "conn", home / "files", home / "in"
    connection_dir.mkdir(parents=True)
    handed.mkdir()
    submission = Submission(task.name, handed / task.filename)
    submission.path.write_bytes(task.content)
    try:
        notebook_path = unpack(submission, scratch)
        nb = read_notebook(notebook_path)
    except SubmissionError as exc:
        return Graded(_ungraded(config, task, isolation.level, started, not_graded=str(exc).rstrip(".")))
    check_ids = list(bundle["configs"])
    keys = station.keys
    evidence.keep_files(notebook_path.parent, kept, check_ids)
    sandbox.hand_over(isolation, [scratch, connection_dir, kept])
    _stage_data(station.data_files, scratch / "data")
    box = sandbox.Confinement(
        scratch=scratch,
        connection_dir=connection_dir,
        shipped=station.workspace / "shipped",
        hidden=_hidden_paths(config, options, Path(task.source), station.hidden),
        visible=sandbox.python_paths(kernel.paths),
    )
    seed = submission_seed(config, task.name)
    limits = config.limits
    notebook_timeout_s = options.notebook_timeout_s or limits.notebook_timeout_s
    prepared = time.monotonic()
    with sandbox.process_cap(task.name, limits.max_processes) as cgroup:
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
    result = SubmissionResult(
        task.name,
        task.source,
        isolation.level,
        time.monotonic() - started,
        score_questions(config, results),
        concerns=_run_concerns(run, limits, notebook_timeout_s) + _drift_concerns(run, kernel),
        notes=(*_notes(run, isolation, cgroup is not None), kernel.note(config.environment)),
        observations=observations,
        timings=timings,
    )
    return Graded(result, run.notebook)


def _ungraded(config: Config, task: Task, level: str, started: float, **why) -> SubmissionResult:
    """The row of a submission no check could judge: every question at 0, and why (`concerns` or `not_graded`)."""
    return SubmissionResult(
        task.name,
        task.source,
        level,
        time.monotonic() - started if started else 0.0,
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
        loader_code=probing.loader_code(str(box.shipped)),
        probe_code={i: probing.probe_code(i, keys[i]) for i in check_ids if not ITEMS[i].engine_only},
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


def _stage_data(files: Path, target: Path) -> None:
    """Copy the data files the notebook reads (grading.yml's data.notebook_files, staged at the station) next to it."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(files.iterdir()):
        shutil.copyfile(path, target / path.name)
        os.chmod(target / path.name, 0o644)


def _hidden_paths(
    config: Config, options: GradeOptions, source: Path, station: tuple[Path, ...] = ()
) -> tuple[Path, ...]:
    """What the kernel must not read: the project, the keys, the data, the other submissions, the outputs, home,
    and the station's own data folders (on a worker elsewhere, its copy of the data)."""
    paths = {
        config.path.parent,
        config.data.dir,
        config.data.answer_key_dir,
        source.resolve().parent,
        options.out_dir.resolve(),
        Path.home(),
        *station,
    }
    return tuple(sorted(p for p in paths if str(p) not in ("/", "/tmp")))


def _readable(path: Path) -> None:
    for root, dirs, files in os.walk(path):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
