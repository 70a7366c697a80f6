"""Where a batch's tasks are graded: this machine's processes (a cluster's workers to come).

`grade_batch` sees one interface: a session per batch (`session(job)`), `capacity()` (how many tasks to
keep outstanding), `submit(task)` and `next_completed()`, which returns each task's outcome once, in the
order they finish. Implementations:

- `LocalPool(jobs)`: one station (scratch folder, keys prepared here) on this machine; the tasks run in
  this process (`jobs` 1) or in `jobs` spawned processes, which an interruption stops with their kernels.
"""

from __future__ import annotations

import collections
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as wait_any
from contextlib import contextmanager
from pathlib import Path

from autograder.grading import (
    Graded,
    Job,
    Task,
    _stop_on_sigterm,
    grade_task,
    open_station,
)

STOP_GRACE_S = 20  # how long a stopped grading process has to shut its kernel down


class Executor(ABC):
    """Grades a batch's tasks somewhere; nothing else in the engine knows where."""

    @contextmanager
    def session(self, job: Job, on_workspace: Callable[[Path], None] | None = None) -> Iterator[Executor]:
        """Open for `job`; on leaving, stop: an exception (Ctrl-C) first stops what is still running."""
        self.start(job, on_workspace)
        try:
            yield self
        except BaseException:
            self.stop(interrupted=True)
            raise
        self.stop(interrupted=False)

    @abstractmethod
    def start(self, job: Job, on_workspace: Callable[[Path], None] | None) -> None: ...

    @abstractmethod
    def capacity(self) -> int:
        """How many tasks to keep submitted and not yet finished (more only costs memory)."""

    @abstractmethod
    def submit(self, task: Task) -> None: ...

    @abstractmethod
    def next_completed(self) -> Graded:
        """The outcome of one submitted task, as soon as one is there; each task's exactly once."""

    @abstractmethod
    def stop(self, interrupted: bool) -> None: ...

    @abstractmethod
    def describe(self) -> str:
        """Where it grades, for the summary line ("2 job(s)")."""


class LocalPool(Executor):
    """This machine: the tasks in this process (`jobs` 1) or in `jobs` spawned processes."""

    def __init__(self, jobs: int = 1):
        self.jobs = max(1, jobs)

    def describe(self) -> str:
        return f"{self.jobs} job(s)"

    def start(self, job: Job, on_workspace: Callable[[Path], None] | None) -> None:
        self._job = job
        self._station = open_station(job)
        if on_workspace is not None:
            on_workspace(self._station.workspace)
        self._waiting: collections.deque[Task] = collections.deque()
        self._futures: set = set()
        self._pool = None
        if self.jobs > 1:
            import multiprocessing

            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=context, initializer=_stop_on_sigterm)

    def capacity(self) -> int:
        return 1 if self._pool is None else 2 * self.jobs

    def submit(self, task: Task) -> None:
        if self._pool is None:
            self._waiting.append(task)
        else:
            self._futures.add(self._pool.submit(grade_task, self._job, self._station, task))

    def next_completed(self) -> Graded:
        if self._pool is None:
            return grade_task(self._job, self._station, self._waiting.popleft())
        done, _ = wait_any(self._futures, return_when=FIRST_COMPLETED)
        future = next(iter(done))
        self._futures.discard(future)
        return future.result()

    def stop(self, interrupted: bool) -> None:
        try:
            if self._pool is not None and interrupted:
                workers = list(getattr(self._pool, "_processes", {}).values())
                self._pool.shutdown(wait=False, cancel_futures=True)
                _terminate(workers)
            elif self._pool is not None:
                self._pool.shutdown()
        finally:
            shutil.rmtree(self._station.workspace, ignore_errors=True)


def _terminate(processes: list) -> None:
    """SIGTERM: each grading process stops its kernel, then exits; SIGKILL what is left after the grace time."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=STOP_GRACE_S)
        if process.is_alive():
            process.kill()
