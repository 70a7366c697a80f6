"""Where a batch's tasks are graded: this machine's processes, or the workers of a dask.distributed cluster.

`grade_batch` sees one interface: a session per batch (`session(job)`), `capacity()` (how many tasks to
keep outstanding), `submit(task)` and `next_completed()`, which returns each task's outcome once, in the
order they finish. Two implementations:

- `LocalPool(jobs)`: one station (scratch folder, keys prepared here) on this machine; the tasks run in
  this process (`jobs` 1) or in `jobs` spawned processes, which an interruption stops with their kernels.
- `DaskCluster(address)`: each task is sent to the cluster, self-contained (the submission's bytes; the
  job, pickled once: keys, settings, grading.yml as read here; the identity a worker must match). Each
  worker process opens its own station once per batch, from its own data (verified against what was
  prepared here) and grades in a process of its own, which a cancelled task or the worker's death stops.
  A worker of another assn1 version or code, or whose data or isolation differ, is refused: the line
  says what differs, and the worker is retired from the cluster. A worker lost mid-task: the scheduler
  runs the task again elsewhere; a task whose grading ends its worker twice comes back not graded.
"""

from __future__ import annotations

import asyncio
import collections
import glob
import json
import os
import pickle
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as wait_any
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from autograder.errors import Assn1Error
from autograder.grading import (
    Graded,
    Job,
    Station,
    StationError,
    Task,
    _stop_on_sigterm,
    grade_task,
    grader_failed,
    not_graded,
    open_station,
)

TOPIC = "assn1"  # the events the grading tasks send: started (key, worker), refused (worker, why)
WORKSPACE_OWNER = "worker.pid"  # in a worker station's scratch folder: the process it belongs to
STOP_GRACE_S = 20  # how long a stopped grading process has to shut its kernel down


class ClusterError(Assn1Error):
    """The cluster cannot be used: dask.distributed is not installed, or no scheduler answers at the address."""


class Executor(ABC):
    """Grades a batch's tasks somewhere; nothing else in the engine knows where."""

    @contextmanager
    def session(self, job: Job, on_workspace: Callable[[Path], None] | None = None) -> Iterator[Executor]:
        """Open for `job`; on leaving, stop: an exception (Ctrl-C) first stops what is still running."""
        try:
            self.start(job, on_workspace)
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
        self._job, self._station, self._pool = job, None, None
        self._station = open_station(job)
        if on_workspace is not None:
            on_workspace(self._station.workspace)
        self._waiting: collections.deque[Task] = collections.deque()
        self._futures: set = set()
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
            if self._station is not None:
                shutil.rmtree(self._station.workspace, ignore_errors=True)


def _terminate(processes: list) -> None:
    """SIGTERM: each grading process stops its kernel, then exits; SIGKILL what is left after the grace time."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=STOP_GRACE_S)
        if process.is_alive():
            process.kill()


# ---------------------------------------------------------------------------------------------------------
# The cluster: the side that runs `assn1 grade`


@dataclass
class _Outstanding:
    task: Task
    future: object
    key: str


class DaskCluster(Executor):
    """The workers of the dask.distributed scheduler at `address`, each submission one task.

    `worker_data`: the folder where every worker finds the data the keys' batches are prepared from (the P4
    test segments), the same path on each (a shared file system); the cache is built in its `cache`
    folder. Default: this machine's own data and cache folders, at the same paths there.
    """

    def __init__(self, address: str, worker_data: Path | None = None, connect_timeout_s: float = 20.0):
        self.address = address
        self.worker_data = worker_data
        self.connect_timeout_s = connect_timeout_s

    def describe(self) -> str:
        return f"the workers of {self.address}"

    def start(self, job: Job, on_workspace: Callable[[Path], None] | None) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError(
                "--scheduler needs dask.distributed; install it with `pip install 'assn1[cluster]'` (or `distributed`)."
            ) from None
        self._job, self._client = job, None
        try:
            self._client = Client(self.address, timeout=self.connect_timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(
                f"--scheduler {self.address}: no dask scheduler answered there within {self.connect_timeout_s:g} s "
                f"({type(exc).__name__}); start one with `dask scheduler` and give its address."
            ) from None
        data = (
            (self.worker_data, self.worker_data / "cache")
            if self.worker_data
            else (job.config.data.dir, job.config.data.cache_dir)
        )
        self._call = (worker_identity(job), pickle.dumps(job), tuple(str(p) for p in data))
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._done: queue.SimpleQueue = queue.SimpleQueue()  # keys of finished futures, as they finish
        self._client.subscribe_topic(TOPIC, self._events.put)
        self._client.subscribe_topic("all", self._events.put)
        self._outstanding: dict[str, _Outstanding] = {}
        self._ready: collections.deque[Graded] = collections.deque()
        self._running_on: dict[str, str] = {}  # key -> the worker that said it started it
        self._lost: dict[str, list[str]] = {}  # task name -> workers that died grading it
        self._attempts: dict[str, int] = {}
        self._refused: set[str] = set()
        self._threads, self._threads_at, self._told_waiting = 0, 0.0, False
        answers = self._client.run(_check_worker, *self._call, on_error="return")
        for address, answer in sorted(answers.items()):
            if isinstance(answer, BaseException):
                self._refuse(address, f"it cannot run this assn1's code ({type(answer).__name__}: {answer})")
            elif answer:
                self._refuse(address, answer)

    def capacity(self) -> int:
        if time.monotonic() - self._threads_at > 2:
            nthreads = self._client.nthreads()
            self._threads = sum(n for a, n in nthreads.items() if a not in self._refused)
            self._threads_at = time.monotonic()
            if not self._threads and not self._told_waiting:
                print(
                    f"assn1: no worker at {self.address} can grade yet; waiting for one (Ctrl-C stops)", file=sys.stderr
                )
            self._told_waiting = not self._threads
        return max(2, 2 * self._threads)

    def submit(self, task: Task) -> None:
        attempt = self._attempts.get(task.name, 0) + 1
        self._attempts[task.name] = attempt
        key = f"assn1-{self._job.id}-{task.name}-{attempt}"
        future = self._client.submit(grade_on_worker, *self._call, task, key, key=key, pure=False)
        self._outstanding[key] = _Outstanding(task, future, key)
        future.add_done_callback(lambda _, key=key: self._done.put(key))

    def next_completed(self) -> Graded:
        while not self._ready:
            self._take_events()
            if self._ready:
                break
            try:
                key = self._done.get(timeout=0.5)
            except queue.Empty:
                continue
            outstanding = self._outstanding.pop(key, None)
            if outstanding is not None:  # else cancelled here already
                self._finished(outstanding)
        return self._ready.popleft()

    def _finished(self, outstanding: _Outstanding) -> None:
        from distributed import KilledWorker

        task, future = outstanding.task, outstanding.future
        self._running_on.pop(outstanding.key, None)
        if future.status == "finished":
            graded = future.result()
            if graded is not None:
                self._ready.append(graded)
                return
            why = "its task was stopped on the worker without being cancelled here"
        elif future.status == "error":
            exc = future.exception()
            if isinstance(exc, GradingProcessDied) and exc.killed:  # like its worker: once more, then not graded
                self._lost.setdefault(task.name, []).append(str(exc))
                if len(self._lost[task.name]) >= 2:
                    self._ready.append(not_graded(self._job, task, _killed_twice(task, self._lost[task.name])))
                    return
                self.submit(task)
                return
            if isinstance(exc, KilledWorker):
                lost = self._lost.get(task.name, [])
                self._ready.append(not_graded(self._job, task, _killed_twice(task, lost or ["the scheduler's count"])))
                return
            why = f"{type(exc).__name__}: {exc}"
        else:
            why = f"its task was {future.status} on the cluster"
        if self._attempts[task.name] < 3:
            self.submit(task)
        else:
            self._ready.append(grader_failed(self._job, task, f"the cluster could not grade it: {why}"))

    def _take_events(self) -> None:
        """Apply what the workers and the scheduler said: tasks started, workers refused, workers lost."""
        while True:
            try:
                _, msg = self._events.get_nowait()
            except queue.Empty:
                return
            if not isinstance(msg, dict):
                continue
            if msg.get("job") == self._job.id:
                if "started" in msg:
                    self._running_on[msg["started"]] = msg["worker"]
                elif "refused" in msg:
                    self._refuse(msg["worker"], msg["refused"])
            elif msg.get("action") == "remove-worker" and not msg.get("expected"):
                self._worker_lost(msg.get("worker", "?"), msg.get("processing-tasks") or ())

    def _worker_lost(self, worker: str, keys) -> None:
        """A worker died: each task it was grading (it said it started it there) counts one loss; the scheduler
        runs it again elsewhere, unless this was its second: then it is cancelled and not graded."""
        for key in keys:
            outstanding = self._outstanding.get(key)
            if outstanding is None or self._running_on.get(key) != worker:
                continue
            del self._running_on[key]
            task = outstanding.task
            lost = self._lost.setdefault(task.name, [])
            lost.append(worker)
            if len(lost) >= 2:
                del self._outstanding[key]
                outstanding.future.cancel()
                self._ready.append(not_graded(self._job, task, _killed_twice(task, lost)))
            else:
                print(
                    f"assn1: the worker {worker} was lost while grading {task.name}; it runs again elsewhere",
                    file=sys.stderr,
                )

    def _refuse(self, worker: str, why: str) -> None:
        if worker in self._refused:
            return
        self._refused.add(worker)
        self._threads_at = 0.0
        print(f"assn1: refused the worker {worker}: {why.rstrip('.')}.", file=sys.stderr)
        try:
            self._client.retire_workers([worker], close_workers=True)
        except Exception:  # noqa: BLE001, S110 - it may be gone already; it takes no task of this batch either way
            pass

    def stop(self, interrupted: bool) -> None:
        client = self._client
        if client is None:
            return
        try:
            if getattr(self, "_outstanding", None):
                client.cancel([o.future for o in self._outstanding.values()], force=True)
            client.run(_close_station, self._job.id, on_error="ignore")
        except Exception:  # noqa: BLE001, S110 - the scheduler may be gone; its workers close their stations when they end
            pass
        finally:
            for topic in (TOPIC, "all"):  # first, or the scheduler sends our own leaving to a closed client
                try:
                    client.unsubscribe_topic(topic)
                except ValueError:  # not subscribed yet
                    pass
            client.close(timeout=10)


def _killed_twice(task: Task, lost: list[str]) -> str:
    return (
        f"grading it ended its worker {len(lost)} times ({', '.join(lost)}); it was not tried again: look for what "
        f"exhausts the workers (memory, a crash), then `--regrade {task.name}`"
    )


def worker_identity(job: Job) -> dict:
    """What a worker must match to grade `job`: this package's version and code (the fingerprint's code part)."""
    from autograder import __version__
    from autograder.fingerprint import code_digest

    return {"job": job.id, "version": __version__, "code": code_digest()}


# ---------------------------------------------------------------------------------------------------------
# The cluster: the worker's side


class GradingProcessDied(Exception):
    """The process grading a task on a worker ended without an outcome: `killed` by a signal (out of memory,
    a crash), or it exited (the grader's own failure)."""

    def __init__(self, message: str, killed: bool):
        super().__init__(message)
        self.killed = killed

    def __reduce__(self):
        return (GradingProcessDied, (str(self), self.killed))


@dataclass
class _WorkerStation:
    """A worker process's station for one job, or why it refused the job; its idle grading processes."""

    refused: str = ""
    job: Job | None = None
    station: Station | None = None
    idle: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    all: list = field(default_factory=list)
    used_at: float = field(default_factory=time.monotonic)


_STATIONS: dict[str, _WorkerStation] = {}
_STATIONS_LOCK = threading.Lock()
IDLE_STATION_S = 600  # a station no task used for this long is closed when another job opens one


def _station_for(identity: dict, job_blob: bytes, data: tuple[str, str], processes: int) -> _WorkerStation:
    """This worker process's station for the job, opened once (the first caller opens it, others wait)."""
    with _STATIONS_LOCK:
        entry = _STATIONS.get(identity["job"])
        if entry is not None:
            entry.used_at = time.monotonic()
            return entry
        for job_id, stale in list(_STATIONS.items()):
            if time.monotonic() - stale.used_at > IDLE_STATION_S:
                _close(_STATIONS.pop(job_id))
        entry = _open_worker_station(identity, job_blob, data, processes)
        _STATIONS[identity["job"]] = entry
        return entry


def _open_worker_station(identity: dict, job_blob: bytes, data: tuple[str, str], processes: int) -> _WorkerStation:
    problem = identity_problem(identity)
    if problem:
        return _WorkerStation(refused=problem)
    _remove_dead_workspaces()
    job = pickle.loads(job_blob)
    try:
        station = open_station(job, (Path(data[0]), Path(data[1])))
    except StationError as exc:
        return _WorkerStation(refused=str(exc))
    (station.workspace / WORKSPACE_OWNER).write_text(str(os.getpid()))
    entry = _WorkerStation(job=job, station=station)
    for _ in range(max(1, processes)):  # started now, so the first tasks need not wait for their imports
        process = GradingProcess()
        entry.all.append(process)
        entry.idle.put(process)
    return entry


def identity_problem(identity: dict) -> str:
    """What differs between this machine's grader and the one `identity` describes, in words ("" if nothing)."""
    from autograder import __version__
    from autograder.fingerprint import code_digest

    if identity["version"] != __version__:
        return f"it has assn1 {__version__} installed, and `assn1 grade` runs {identity['version']}"
    code = code_digest()
    if identity["code"] != code:
        return (
            f"its grading code differs (code digest {code[:12]}, `assn1 grade` has {identity['code'][:12]}), though "
            f"both are assn1 {__version__}: install the same source there"
        )
    return ""


def _remove_dead_workspaces() -> None:
    """Scratch folders of worker stations whose process is gone (killed): removed."""
    for owner in glob.glob(os.path.join(tempfile.gettempdir(), "assn1-grade-*", WORKSPACE_OWNER)):
        try:
            pid = int(Path(owner).read_text())
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(Path(owner).parent, ignore_errors=True)
        except (OSError, ValueError):
            pass


def _close(entry: _WorkerStation) -> None:
    """Stop its grading processes (their kernels with them) and remove its scratch folder."""
    for process in entry.all:
        process.stop()
    if entry.station is not None:
        shutil.rmtree(entry.station.workspace, ignore_errors=True)


async def _check_worker(identity: dict, job_blob: bytes, data: tuple[str, str], dask_worker=None) -> str:
    """Run on every worker when a batch starts: open its station (verify, build or check its cache); why it
    refuses the job, or ""."""
    entry = await asyncio.to_thread(_station_for, identity, job_blob, data, dask_worker.state.nthreads)
    return entry.refused


async def _close_station(job_id: str, dask_worker=None) -> None:
    """Run on every worker when a batch ends or is interrupted: close the job's station."""
    with _STATIONS_LOCK:
        entry = _STATIONS.pop(job_id, None)
    if entry is not None:
        await asyncio.to_thread(_close, entry)


def grade_on_worker(identity: dict, job_blob: bytes, data: tuple[str, str], task: Task, key: str) -> Graded | None:
    """The cluster task: grade `task` at this worker's station, in one of its grading processes.

    A worker that refuses the job says why (an event) and hands the task back to the scheduler; None when
    the task was cancelled while it ran (its grading process is stopped, its kernel with it)."""
    from distributed import Reschedule, get_worker

    worker = get_worker()
    worker.log_event(TOPIC, {"job": identity["job"], "started": key, "worker": worker.address})
    entry = _station_for(identity, job_blob, data, worker.state.nthreads)
    if entry.refused:
        worker.log_event(TOPIC, {"job": identity["job"], "refused": entry.refused, "worker": worker.address})
        raise Reschedule()
    try:
        process = entry.idle.get_nowait()
    except queue.Empty:
        process = GradingProcess()
        entry.all.append(process)
    keep = False
    try:
        graded = process.grade(entry.job, entry.station, task, lambda: _cancelled(worker, key))
        keep = graded is not None
        return graded
    finally:
        if keep:
            entry.idle.put(process)
        else:
            process.stop()
            entry.all.remove(process)


def _cancelled(worker, key: str) -> bool:
    state = worker.state.tasks.get(key)
    return state is None or state.state not in ("executing", "long-running")


class GradingProcess:
    """A process of its own that grades one task at a time, as a local pool's worker does: SIGTERM stops
    its kernel and ends it, and it ends itself when the process that started it is gone. (A subprocess, not
    multiprocessing: a nanny's worker is a daemon process, which may not have multiprocessing children.)"""

    def __init__(self):
        child_in, parent_out = os.pipe()
        parent_in, child_out = os.pipe()
        # The child imports exactly what this process imports: its path, not one led by a working folder.
        command = [sys.executable, "-c", CHILD, json.dumps(sys.path), str(child_in), str(child_out), str(os.getpid())]
        self._process = subprocess.Popen(command, pass_fds=(child_in, child_out), stdin=subprocess.DEVNULL)
        os.close(child_in)
        os.close(child_out)
        self._send = Connection(parent_out, readable=False)
        self._receive = Connection(parent_in, writable=False)

    def grade(self, job: Job, station: Station, task: Task, cancelled: Callable[[], bool]) -> Graded | None:
        try:
            self._send.send((job, station, task))
            while not self._receive.poll(0.5):
                if cancelled():
                    return None
                if self._process.poll() is not None:
                    break
            return self._receive.recv()
        except (EOFError, OSError):
            pass
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        killed = code is not None and code < 0
        how = f"killed by signal {-code}" if killed else f"exit status {code}"
        raise GradingProcessDied(f"its grading process on this worker ended without a result ({how})", killed)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for connection in (self._send, self._receive):
            connection.close()


def _serve(read_fd: int, write_fd: int, parent: int) -> None:
    """A grading process: grade each (job, station, task) received, send back the outcome; end at EOF."""
    _stop_on_sigterm()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)  # unwinds the main thread like Ctrl-C: the kernel is shut down

    threading.Thread(target=watch, daemon=True).start()
    receive, send = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    while True:
        try:
            job, station, task = receive.recv()
        except EOFError:
            return
        send.send(grade_task(job, station, task))


CHILD = (
    "import json, sys\n"
    "sys.path[:] = json.loads(sys.argv[1])\n"
    "from autograder.executors import _serve\n"
    "try:\n"
    "    _serve(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))\n"
    "except KeyboardInterrupt:\n"
    "    sys.exit(130)\n"
)
