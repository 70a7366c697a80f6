"""A batch over a gradebook: keep what is still right, rescore what only needs judging again, run the rest.

For each submission the gradebook already holds: the same content and the same observation
fingerprint -> kept (or rescored from its stored observations, without a kernel, when only points,
tolerances, params, expected values or visibility changed); anything else -> graded again. Every
graded submission is recorded the moment it finishes, so an interrupted batch continues where it
stopped. A run killed outright (SIGKILL, a power cut) leaves processes and a scratch folder that the
next run on the same gradebook stops and removes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import environment
from autograder.checks.spec import CheckConfig
from autograder.config import Config
from autograder.derived import open_derived
from autograder.fingerprint import Fingerprint, fingerprint
from autograder.gradebook import Gradebook, Stored
from autograder.judging import decode, judge, prepare_keys
from autograder.keys import build_bundle, kept_keys
from autograder.options import GradeOptions
from autograder.results import SubmissionResult
from autograder.sandbox import choose_isolation
from autograder.submissions import Submission

if TYPE_CHECKING:
    from autograder.executors import Executor

RUN_VARIABLE = "ASSN1_RUN"  # set in the grading processes: "<gradebook>:<run id>", to find them after a kill


@dataclass(frozen=True)
class Decision:
    """What a batch does with one submission, and why (for `assn1 gradebook show`)."""

    submission: Submission
    action: str  # "keep", "rescore" or "grade"
    why: str
    stored: Stored | None = None


@dataclass
class Outcome:
    results: list[SubmissionResult] = field(default_factory=list)  # in input order
    counts: dict[str, int] = field(default_factory=dict)  # action -> how many
    changed: set[str] = field(default_factory=set)  # the submissions graded or rescored in this run


def content_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def decide(
    submissions: list[Submission], stored: dict[str, Stored], fp: Fingerprint, regrade: set[str] | None
) -> list[Decision]:
    """Keep, rescore or grade each submission. `regrade`: names (submissions, or questions: then every
    submission) to grade again whatever is stored; an empty set means all of them."""
    every = regrade is not None and (not regrade or any(n not in {s.name for s in submissions} for n in regrade))
    out = []
    for submission in submissions:
        old = stored.get(submission.name)
        if every or (regrade and submission.name in regrade):
            out.append(Decision(submission, "grade", "asked for with --regrade", old))
        elif old is None:
            out.append(Decision(submission, "grade", "new", None))
        elif old.sha256 != content_digest(submission.path):
            out.append(Decision(submission, "grade", "its file changed", old))
        elif changes := fp.observe_changes(old.observe_fp):
            out.append(Decision(submission, "grade", "; ".join(changes), old))
        elif old.not_graded or old.score_fp == fp.score:
            out.append(Decision(submission, "keep", "unchanged", old))
        else:
            out.append(Decision(submission, "rescore", "points, tolerances or expected values changed", old))
    return out


def run_batch(
    config: Config,
    submissions: list[Submission],
    options: GradeOptions,
    gradebook: Gradebook,
    jobs: int = 1,
    regrade: set[str] | None = None,
    progress: bool = True,
    executor: Executor | None = None,
    before_grading: Callable[[], None] | None = None,
) -> Outcome:
    """Bring the gradebook up to date for `submissions` and return their results in input order; what must be
    graded goes to `executor` (default: `jobs` processes on this machine), after `before_grading` is called."""
    stop_dead_runs(gradebook)
    kernel = environment.require(config)  # refused in one line before anything is kept, rescored or graded
    isolation = choose_isolation(options.isolation, str(kernel.python), kernel.paths)
    with closing(open_derived(config.data.cache_dir)) as derived:
        bundle = build_bundle(config, options.include_hidden, kept_keys(derived))
        fp = fingerprint(config, bundle, isolation.level, derived.digest, options.notebook_timeout_s)
    decisions = decide(submissions, gradebook.load(), fp, regrade)
    run_id = gradebook.start_run(None)
    os.environ[RUN_VARIABLE] = f"{gradebook.path}:{run_id}"
    state = "interrupted"
    try:
        rescore = [d for d in decisions if d.action == "rescore"]
        if rescore:
            keys = prepare_keys(bundle["keys"])[0]
            for d in rescore:
                gradebook.record(_rescored(d.stored, keys, bundle["configs"], fp), run_id)
        todo = [d.submission for d in decisions if d.action == "grade"]
        if todo:  # the engine (kernels, notebooks) is loaded only when something runs
            from autograder.grading import grade_batch

            if before_grading is not None:
                before_grading()
            digests = {s.name: content_digest(s.path) for s in todo}

            def record(result: SubmissionResult) -> None:
                gradebook.record(_stored(config, result, digests[result.name], fp), run_id)

            grade_batch(
                config,
                todo,
                options,
                jobs=jobs,
                progress=progress,
                bundle=bundle,
                executor=executor,
                on_result=record,
                on_workspace=lambda path: gradebook.set_workspace(run_id, path),
            )
        state = "finished"
    finally:
        gradebook.finish_run(run_id, state)
        os.environ.pop(RUN_VARIABLE, None)
    held = gradebook.load()
    results = [held[s.name].result(config) for s in submissions]
    counts = {a: sum(d.action == a for d in decisions) for a in ("keep", "rescore", "grade")}
    return Outcome(results, counts, {d.submission.name for d in decisions if d.action != "keep"})


def _stored(config: Config, result: SubmissionResult, sha256: str, fp: Fingerprint) -> Stored:
    from autograder.grading import submission_seed

    checks = tuple(c for q in result.questions for c in q.checks)
    return Stored(
        result.name,
        result.source,
        sha256,
        fp.observe,
        fp.score,
        submission_seed(config, result.name),
        checks,
        result.observations,
        result.isolation,
        result.seconds,
        result.not_graded,
        result.concerns,
        result.notes,
        time.time(),
        None,
        result.timings,
    )


def _rescored(old: Stored, keys: dict, configs: dict, fp: Fingerprint) -> Stored:
    """The stored observations judged again under today's keys and settings: no kernel, no notebook."""
    checks = tuple(
        judge(check_id, decode(old.observations[check_id]), keys[check_id], CheckConfig(**configs[check_id]))
        for check_id in configs
        if check_id in old.observations
    )
    return replace(old, checks=checks, score_fp=fp.score, rescored_at=time.time())


def stop_dead_runs(gradebook: Gradebook) -> list[str]:
    """Stop what a killed run on this gradebook left behind (its workers and kernels) and remove its scratch
    folder; return one line per run cleaned."""
    done = []
    for run_id, pid, workspace in gradebook.dead_runs():
        marker = f"{RUN_VARIABLE}={gradebook.path}:{run_id}"
        stopped = _kill_matching(marker.encode(), workspace.encode() if workspace else None)
        if workspace:
            shutil.rmtree(workspace, ignore_errors=True)
        gradebook.finish_run(run_id, "killed")
        done.append(f"cleaned up after an interrupted run (process {pid}): {stopped} process(es) stopped")
        print(done[-1])
    return done


def _kill_matching(environ_marker: bytes, path: bytes | None) -> int:
    """SIGKILL every process whose environment holds `environ_marker` or whose command line names `path`."""
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if environ_marker in environ.split(b"\0") or (path and path in cmdline):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                count += 1
            except OSError:
                pass
    return count
