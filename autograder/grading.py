"""Grade submissions: unpack, run in a confined kernel, probe from outside, judge in this process.

Nothing here knows a problem: the questions and their checks come from grading.yml and the suite.
Each submission is graded in a worker process of its own; a crash, timeout or unreadable file
becomes that submission's status and the batch carries on.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from tqdm import tqdm

from autograder import execution, isolated, probing, sandbox
from autograder.build import ship_package
from autograder.checks.spec import CheckConfig
from autograder.config import Config, load_config
from autograder.errors import Assn1Error
from autograder.keys import build_bundle
from autograder.results import CheckResult, failed
from autograder.submissions import Submission, SubmissionError, unpack
from autograder.suite import ITEMS
from autograder.suite.item import measure_file


@dataclass(frozen=True)
class QuestionScore:
    name: str
    title: str
    points: float
    max_points: float
    manual: bool
    checks: tuple[CheckResult, ...] = ()


@dataclass
class SubmissionResult:
    name: str
    source: str
    status: str  # "Completed" or why grading could not complete
    isolation: str
    seconds: float
    questions: list[QuestionScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return round(sum(q.points for q in self.questions if not q.manual), 6)

    @property
    def possible(self) -> float:
        return round(sum(q.max_points for q in self.questions if not q.manual), 6)


@dataclass(frozen=True)
class GradeOptions:
    config_path: Path
    out_dir: Path
    include_hidden: bool = True
    isolation: str = "auto"
    notebook_timeout_s: float | None = None


def grade_batch(
    config: Config, submissions: list[Submission], options: GradeOptions, jobs: int = 1, progress: bool = True
) -> list[SubmissionResult]:
    """Grade every submission (in `jobs` worker processes) and return results in input order."""
    bundle = prepare_keys(build_bundle(config, include_hidden=options.include_hidden))
    level = sandbox.isolation_level(options.isolation)
    workspace = Path(tempfile.mkdtemp(prefix="assn1-grade-"))
    os.chmod(workspace, 0o755)
    try:
        shipped = workspace / "shipped"
        ship_package(shipped / "autograder", {"configs": {}, "keys": {}})
        _readable(shipped)
        tasks = [(options, bundle, level, str(workspace), s) for s in submissions]
        results: dict[str, SubmissionResult] = {}
        bar = tqdm(total=len(tasks), desc="grading", unit="nb", disable=None if progress else True)
        if jobs <= 1:
            for task in tasks:
                result = _grade_task(task)
                results[result.name] = result
                bar.update(1)
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                for future in as_completed([pool.submit(_grade_task, t) for t in tasks]):
                    result = future.result()
                    results[result.name] = result
                    bar.update(1)
        bar.close()
        return [results[s.name] for s in submissions]
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def prepare_keys(bundle: dict) -> dict:
    """Run each item's once-per-batch preparation (same key, same result: done once) on its key."""
    keys, done = dict(bundle["keys"]), {}
    for check_id, key in bundle["keys"].items():
        prepare = ITEMS[check_id].prepare
        if prepare is not None:
            memo = (
                prepare,
                json.dumps({k: v for k, v in key.items() if k not in ("file", "reported")}, sort_keys=True),
            )
            if memo not in done:
                try:
                    done[memo] = prepare(key)
                except Assn1Error as exc:  # e.g. no test data: these checks fail with the reason, the rest run
                    print(
                        f"warning: {check_id} and the checks sharing its data can't be judged: {exc}", file=sys.stderr
                    )
                    done[memo] = {**key, "unavailable": str(exc)}
            keys[check_id] = {**done[memo], **{k: key[k] for k in key}}
    return {**bundle, "keys": keys}


def _grade_task(task: tuple) -> SubmissionResult:
    options, bundle, level, workspace, submission = task
    config = load_config(options.config_path)
    started = time.monotonic()
    try:
        return grade_one(config, submission, options, bundle, level, Path(workspace))
    except Exception as exc:  # noqa: BLE001 - the batch carries on; the row says why
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return _not_graded(config, submission, f"grader error: {detail}", level, started)


def grade_one(
    config: Config, submission: Submission, options: GradeOptions, bundle: dict, level: str, workspace: Path
) -> SubmissionResult:
    """Grade one submission; write its executed notebook into the output folder."""
    started = time.monotonic()
    home = workspace / submission.name
    scratch, connection_dir = home / "work", home / "conn"
    connection_dir.mkdir(parents=True)
    try:
        notebook_path = unpack(submission, scratch)
        nb = nbformat.read(notebook_path, as_version=4)
    except (SubmissionError, nbformat.reader.NotJSONError, ValueError, OSError) as exc:
        status = str(exc) if isinstance(exc, SubmissionError) else f"unreadable notebook: {str(exc)[:200]}"
        return _not_graded(config, submission, status, level, started)
    evidence = home / "files"
    _keep_submitted_files(notebook_path.parent, evidence, bundle)
    sandbox.hand_over(level, [scratch, connection_dir, evidence])
    _stage_data(config, scratch / "data")
    shipped = workspace / "shipped"
    box = sandbox.Confinement(
        scratch=scratch,
        connection_dir=connection_dir,
        shipped=shipped,
        hidden=_hidden_paths(config, options, submission, level),
        visible=_python_paths(),
    )
    seed = submission_seed(config, submission.name)
    checks = {i: CheckConfig(**c) for i, c in bundle["configs"].items()}
    limits = config.limits
    with sandbox.process_cap(submission.name, limits.max_processes) as cgroup:
        run = _execute(nb, level, limits, box, cgroup, seed, checks, bundle, options)
    runner = _file_runner(config, level, box, evidence, seed)
    files = _inspect_files(evidence, bundle, runner)
    printed = _printed(nb, {name for i in checks for name in ITEMS[i].answers if ITEMS[i].submitted_file})
    results = [_judge(i, run, bundle["keys"][i], cfg, files, printed) for i, cfg in checks.items()]
    out = options.out_dir / submission.name
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(run.notebook, out / "executed.ipynb")
    status = run.startup_error or "Completed"
    return SubmissionResult(
        submission.name,
        str(submission.path),
        status,
        level,
        time.monotonic() - started,
        questions=_questions(config, results),
        notes=_notes(run, level, cgroup is not None),
    )


def _execute(nb, level, limits, box, cgroup, seed, checks, bundle, options) -> execution.Execution:
    spec = execution.RunSpec(
        prefix=sandbox.kernel_prefix(level, limits, box, cgroup),
        scratch=box.scratch,
        connection_dir=box.connection_dir,
        env=execution.kernel_env(box.scratch, box.shipped, seed),
        setup_code=probing.setup_code(seed),
        probe_code={i: probing.probe_code(i, bundle["keys"][i], str(box.shipped)) for i in checks},
        cell_timeout_s=limits.cell_timeout_s,
        notebook_timeout_s=options.notebook_timeout_s or limits.notebook_timeout_s,
        probe_timeout_s=limits.probe_budget_s + 10,
    )
    return execution.run(execution.prepare(nb), spec)


def _keep_submitted_files(folder: Path, evidence: Path, bundle: dict) -> None:
    """Copy the files checks judge (found beside the notebook) before the notebook can change them."""
    evidence.mkdir(parents=True)
    for check_id in bundle["keys"]:
        name = ITEMS[check_id].submitted_file
        if name and (folder / name).is_file() and not (folder / name).is_symlink():
            shutil.copyfile(folder / name, evidence / name)


def _file_runner(config: Config, level: str, box: sandbox.Confinement, evidence: Path, seed: int):
    """`run("module:function", **kwargs)` in a confined interpreter that sees the kept files and the cache."""
    limits = dataclasses.replace(
        config.limits, memory_mb=config.limits.file_memory_mb, cpu_time_s=config.limits.file_timeout_s
    )
    confined = dataclasses.replace(
        box, scratch=evidence, connection_dir=evidence, visible=(*box.visible, config.data.cache_dir)
    )
    prefix = sandbox.kernel_prefix(level, limits, confined)
    env = execution.kernel_env(evidence, box.shipped, seed)

    def run(target: str, **kwargs):
        return isolated.run_isolated(target, kwargs, evidence, prefix, env, config.limits.file_timeout_s)

    return run


def _inspect_files(evidence: Path, bundle: dict, runner) -> dict:
    """{(file, inspect): what the item's inspect found, or {"error": why not}}, each file measured once."""
    found: dict = {}
    for check_id, key in bundle["keys"].items():
        item = ITEMS[check_id]
        if item.submitted_file is None or (item.submitted_file, item.inspect) in found:
            continue
        found[item.submitted_file, item.inspect] = _inspect_one(item, evidence / item.submitted_file, key, runner)
    return found


def _inspect_one(item, path: Path, key: dict, runner) -> dict:
    if "unavailable" in key:
        return {"error": f"the grader could not prepare its test ({key['unavailable'].rstrip('.')})"}
    return measure_file(item, path, key, runner)


def _printed(nb, names: set[str]) -> dict[str, str]:
    """The last `NAME = value` line the submitted notebook's saved outputs show for each name.

    A figure measured on data the grader does not give the kernel (P4's test accuracies) is only
    in the outputs the student saved; it is read as text, never evaluated.
    """
    found: dict[str, str] = {}
    if not names:
        return found
    pattern = re.compile(rf"^\s*({'|'.join(map(re.escape, sorted(names)))})\s*[=:]\s*(\S.*?)\s*$", re.M)
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("text") or output.get("data", {}).get("text/plain") or ""
            for match in pattern.finditer(text if isinstance(text, str) else "".join(text)):
                found[match.group(1)] = match.group(2)[:100]
    return found


def _judge(
    check_id: str, run: execution.Execution, key: dict, cfg: CheckConfig, files: dict, printed: dict
) -> CheckResult:
    """Run the check on the probe's plain data (and a kept file's measurements), here in the grader's process."""
    item = ITEMS[check_id]
    if item.submitted_file is not None:
        observed = {
            "answers": run.probes.get(check_id),
            "file": files[item.submitted_file, item.inspect],
            "printed": {name: printed[name] for name in item.answers if name in printed},
        }
        return _call_check(check_id, observed, key, cfg)
    if check_id not in run.probes:
        reason = run.startup_error or run.probe_errors.get(check_id, "the notebook did not finish")
        return failed(cfg, f"your answers could not be read: {reason}.")
    return _call_check(check_id, run.probes[check_id], key, cfg)


def _call_check(check_id: str, observed, key: dict, cfg: CheckConfig) -> CheckResult:
    try:
        return ITEMS[check_id].check(observed, key, cfg=cfg)
    except Exception as exc:  # noqa: BLE001 - malformed plain data is the submission's doing
        return failed(cfg, f"your answers could not be judged ({type(exc).__name__}: {str(exc)[:120]}).")


def _questions(config: Config, results: list[CheckResult]) -> list[QuestionScore]:
    by_question: dict[str, list[CheckResult]] = {}
    for result in results:
        by_question.setdefault(result.check_id.split(".")[0], []).append(result)
    out = []
    for problem in config.problems.values():
        for name, question in problem.questions.items():
            checks = tuple(by_question.get(name, ()))
            points = round(sum(c.points for c in checks), 6)
            out.append(QuestionScore(name, question.title, points, question.points, question.manual, checks))
    return out


def _not_graded(config: Config, submission: Submission, status: str, level: str, started: float) -> SubmissionResult:
    """The row of a submission that could not be graded: every question at 0, the status saying why."""
    questions = [
        QuestionScore(name, q.title, 0.0, q.points, q.manual)
        for p in config.problems.values()
        for name, q in p.questions.items()
    ]
    return SubmissionResult(submission.name, str(submission.path), status, level, time.monotonic() - started, questions)


def _notes(run: execution.Execution, level: str, capped: bool) -> list[str]:
    notes = [f"isolation: {level}" + ("" if capped else " (no process cap: the pids cgroup is not writable)")]
    bad = [c for c in run.cells if c.status in ("error", "timeout", "killed-kernel")]
    for cell in bad[:10]:
        notes.append(f"cell {cell.index}: {cell.status}: {cell.detail}")
    if run.timed_out:
        notes.append("the notebook reached its time limit; later cells did not run")
    if run.restarts:
        notes.append(f"the kernel was restarted {run.restarts} time(s)")
    return notes


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


def _hidden_paths(config: Config, options: GradeOptions, submission: Submission, level: str) -> tuple[Path, ...]:
    """What the kernel must not read: the project, the keys, the data, the other submissions, the outputs, home."""
    paths = {
        config.path.parent,
        config.data.dir,
        config.data.answer_key_dir,
        submission.path.resolve().parent,
        options.out_dir.resolve(),
    }
    if sandbox.hides_home(level):
        paths.add(Path.home())
    return tuple(sorted(p for p in paths if str(p) not in ("/", "/tmp")))


def _python_paths() -> tuple[Path, ...]:
    """The Python installation the kernel runs on, which may lie inside a hidden folder."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent}
    return tuple(sorted(paths))


def _readable(path: Path) -> None:
    for root, dirs, files in os.walk(path):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
