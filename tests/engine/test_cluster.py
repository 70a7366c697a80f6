"""`assn1 grade --scheduler`: a dask.distributed cluster grades exactly as this machine's processes do.

A `distributed.LocalCluster` of 2 worker processes on 127.0.0.1 grades small notebooks and a zip with a
model file (the P4 test set prepared again by each worker): the CSV must equal the local pool's byte for
byte, while a worker with another assn1 version is refused; a worker lost mid-task is survived and a
task that ends its worker twice comes back not graded; Ctrl-C stops the workers' kernels and the next
run grades the rest to the same rows.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import cloudpickle
import dask
import nbformat
import psutil
import pytest
from distributed import Client, LocalCluster, WorkerPlugin

from autograder import __version__
from autograder.cli import main
from autograder.config import load_config
from autograder.data import problem4
from autograder.executors import ClusterError, DaskCluster, identity_problem, worker_identity
from autograder.gradebook import NAME
from autograder.grading import GradeOptions, StationError, job_for, open_station

from conftest import PROJECT_ROOT, small_course
from engine.test_gradebook import ctrl_c_as_in_a_terminal
from engine.test_isolation import GOOD_P2, LAMBDAS

WRONG_RATE = "def bandwidth_exponent(p):\n    return -1 / (p + 4)\n\ndef risk_exponent(p):\n    return -1 / (p + 4)"
SLOW = "import time\ntime.sleep(4)"
OTHER_VERSION = "0.0.0+other"

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers can't import this test module


def _notebook(path: Path, *cells: str) -> None:
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A private grading.yml with its data (P4 test segments at 128 images), and three folders of submissions."""
    root = tmp_path_factory.mktemp("cluster")
    small_course(root)
    small, model, faulty = root / "small", root / "model", root / "faulty"
    for folder in (small, model, faulty):
        folder.mkdir()
    _notebook(small / "a.ipynb", GOOD_P2, LAMBDAS)
    _notebook(small / "b.ipynb", GOOD_P2, WRONG_RATE, LAMBDAS)
    _notebook(small / "slow.ipynb", SLOW, LAMBDAS)
    _notebook(small / "slower.ipynb", SLOW, GOOD_P2)
    _notebook(root / "model.ipynb", "test_acc_1 = 0.9")
    with zipfile.ZipFile(model / "model.zip", "w") as archive:
        archive.write(root / "model.ipynb", "model.ipynb")
        archive.write(PROJECT_ROOT / "examples" / "models" / "baseline.keras", "brain_food_model_1.keras")
    _notebook(faulty / "ends-its-worker.ipynb", GOOD_P2, SLOW)
    return root


def _grade(course: Path, out: Path, *args: str) -> int:
    return main(["--config", str(course / "grading.yml"), "grade", *args, "-o", str(out)])


@pytest.fixture(scope="module")
def local(course):
    """The local pool's grades (-j 2): what the cluster must give."""
    out = course / "local"
    assert _grade(course, out, str(course / "small"), str(course / "model"), "-j", "2") == 0
    return out


@pytest.fixture(scope="module")
def cluster():
    # A killed worker's nanny starts a new one; the LocalCluster closes a nanny whose worker is not back
    # within lost-worker-timeout (15 s), which a loaded 2-core machine can exceed: give it time.
    with (
        dask.config.set({"distributed.deploy.lost-worker-timeout": "300s"}),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, memory_limit=0
        ) as cluster,
        Client(cluster) as client,
    ):
        yield cluster, client


def _rows(out: Path) -> list[str]:
    return (out / "final_grades.csv").read_text().splitlines()


def _other_version(tmp_path: Path) -> Path:
    """A copy of this package that calls itself another version."""
    target = tmp_path / "other" / "autograder"
    shutil.copytree(PROJECT_ROOT / "autograder", target, ignore=shutil.ignore_patterns("__pycache__"))
    init = target / "__init__.py"
    init.write_text(init.read_text().replace(f'"{__version__}"', f'"{OTHER_VERSION}"'))
    return target.parent


def test_the_cluster_gives_the_local_csv_and_refuses_a_worker_of_another_version(
    course, local, cluster, tmp_path, capsys
):
    cluster, client = cluster
    env = {**os.environ, "PYTHONPATH": str(_other_version(tmp_path))}
    command = [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address]
    other = subprocess.Popen(
        [*command, "--nthreads", "1", "--no-dashboard", "--name", "other-version"],
        env=env,
        cwd=tmp_path,  # `python -m` puts the working folder first on the path: not the project's
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client.wait_for_workers(3, timeout=120)
        capsys.readouterr()
        out = tmp_path / "out"
        args = (str(course / "small"), str(course / "model"), "--scheduler", cluster.scheduler_address)
        assert _grade(course, out, *args) == 0
        printed = capsys.readouterr()
        refused = [line for line in printed.err.splitlines() if "refused the worker" in line]
        assert len(refused) == 1, printed.err
        assert f"it has assn1 {OTHER_VERSION} installed, and `assn1 grade` runs {__version__}" in refused[0]
        assert other.wait(timeout=60) is not None, "a refused worker leaves the cluster"
        assert "with the workers of tcp://127.0.0.1:" in printed.out
    finally:
        if other.poll() is None:
            other.kill()
    for name in ("final_grades.csv", "checks.csv"):
        assert (out / name).read_bytes() == (local / name).read_bytes(), name
    for name in ("a", "b", "slow", "slower", "model"):
        assert (out / name / "executed.ipynb").is_file() and (out / name / "results.json").is_file()
    with open(out / "checks.csv") as fh:
        measured = [r for r in csv.DictReader(fh) if r["file"] == "model.zip" and r["question"] == "q4_2"]
    assert measured and all(r["outcome"] != "errored" for r in measured), (
        "the workers measured the model on their test set"
    )


def test_a_worker_whose_code_or_data_differ_is_refused_naming_the_difference(course, tmp_path):
    config = load_config(course / "grading.yml")
    job = job_for(config, GradeOptions(config.path, tmp_path / "out"))
    identity = worker_identity(job)
    assert identity_problem(identity) == ""
    assert identity_problem({**identity, "version": OTHER_VERSION}) == (
        f"it has assn1 {__version__} installed, and `assn1 grade` runs {OTHER_VERSION}"
    )
    assert identity_problem({**identity, "code": "0" * 64}).startswith(
        f"its grading code differs (code digest {identity['code'][:12]}, `assn1 grade` has 000000000000)"
    )
    station = open_station(job, (config.data.dir, config.data.cache_dir))  # the same files: the same test set
    shutil.rmtree(station.workspace)
    other = tmp_path / "other"  # the same file names, drawn with another seed
    other_data = dataclasses.replace(config.data, dir=other, cache_dir=other / "cache")
    segments = config.data.problem4.test_segments
    problem4.generate(dataclasses.replace(config, data=other_data), segments, images_per_segment=128, seed=1)
    with pytest.raises(StationError) as refused:
        open_station(job, (other, other / "cache"))
    assert re.fullmatch(
        rf"the data of q4_2\.accuracy prepared from {re.escape(str(other))} differ: its sha256 is [0-9a-f]{{12}}, "
        r"the one `assn1 grade` prepared has [0-9a-f]{12}",
        str(refused.value),
    ), str(refused.value)


def test_no_scheduler_at_the_address_is_one_line(course, tmp_path):
    config = load_config(course / "grading.yml")
    job = job_for(config, GradeOptions(config.path, tmp_path / "out"))
    with pytest.raises(ClusterError) as error:
        DaskCluster("tcp://127.0.0.1:9", connect_timeout_s=2).start(job, None)
    assert str(error.value) == (
        "--scheduler tcp://127.0.0.1:9: no dask scheduler answered there within 2 s (OSError); start one with "
        "`dask scheduler` and give its address."
    )


def _grading_processes(client: Client) -> list[str]:
    """The grading processes and kernels the workers are running."""

    def mine():
        found = []
        for child in psutil.Process().children(recursive=True):
            try:
                line = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if "autograder.executors" in line or "ipykernel" in line:
                found.append(line[:80])
        return found

    return [line for lines in client.run(mine).values() for line in lines]


def test_ctrl_c_stops_the_workers_kernels_and_keeps_what_finished(course, local, cluster, tmp_path):
    cluster, client = cluster
    out = tmp_path / "out"
    cli = [sys.executable, "-m", "autograder.cli", "--config", str(course / "grading.yml"), "grade"]
    command = [*cli, str(course / "small"), "-o", str(out), "--scheduler", cluster.scheduler_address]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_as_in_a_terminal
    )
    deadline = time.monotonic() + 300
    while _done(out) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the batch ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "interrupted: the gradebook keeps" in stderr
    kept = _done(out)
    assert 1 <= kept < 4
    deadline = time.monotonic() + 60
    while _grading_processes(client) and time.monotonic() < deadline:
        time.sleep(1)
    assert _grading_processes(client) == [], "Ctrl-C stops the workers' grading processes and kernels"
    assert _grade(course, out, str(course / "small"), "--scheduler", cluster.scheduler_address) == 0
    assert _rows(out) == [line for line in _rows(local) if not line.startswith("model.zip")]


def _done(out: Path) -> int:
    if not (out / NAME).exists():  # connecting would create it
        return 0
    try:
        with sqlite3.connect(out / NAME, timeout=5) as db:
            return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    except sqlite3.Error:
        return 0


class EndsItsWorker(WorkerPlugin):
    """Kills the worker process 1.5 s after it starts a task of a named submission: each time (`always`), or
    the first time only (a marker file says it happened)."""

    def __init__(self, folder: Path, once: str, always: str):
        self.folder, self.once, self.always = str(folder), once, always

    def setup(self, worker):
        self.worker = worker

    def transition(self, key, start, finish, **kwargs):
        name = str(key)
        if finish != "executing":
            return
        if f"-{self.once}-" in name:
            try:
                os.close(os.open(os.path.join(self.folder, self.once), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return
        elif f"-{self.always}-" not in name:
            return
        threading.Timer(1.5, self._kill, (key,)).start()

    def _kill(self, key):
        task = self.worker.state.tasks.get(key)
        if task is None or task.state != "executing":
            return  # cancelled meanwhile
        with open(os.path.join(self.folder, "killed"), "a") as log:
            log.write(f"{key}\n")
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_lost_worker_is_survived_and_a_task_that_ends_its_worker_twice_is_not_graded(
    course, local, cluster, tmp_path, capsys
):
    cluster, client = cluster
    client.register_plugin(EndsItsWorker(tmp_path, "slow", "ends-its-worker"), name="ends-its-worker")
    try:
        capsys.readouterr()
        out = tmp_path / "out"
        args = (str(course / "small"), str(course / "faulty"), "--scheduler", cluster.scheduler_address)
        assert _grade(course, out, *args) == 0
        printed = capsys.readouterr()
    finally:
        client.unregister_worker_plugin("ends-its-worker")
    killed = (tmp_path / "killed").read_text().split()
    assert sum("-slow-" in k for k in killed) == 1 and sum("-ends-its-worker-" in k for k in killed) >= 2
    assert "was lost while grading slow; it runs again elsewhere" in printed.err
    rows = _rows(out)
    faulty = [line for line in rows if line.startswith("ends-its-worker.ipynb")]
    assert len(faulty) == 1 and "Not graded: grading it ended its worker 2 times" in faulty[0]
    assert [line for line in rows if line not in faulty] == [
        line for line in _rows(local) if not line.startswith("model.zip")
    ], "every other row as the local pool gives it"
    with sqlite3.connect(out / NAME) as db:
        names = [row[0] for row in db.execute("SELECT name FROM submissions")]
    assert sorted(names) == ["a", "b", "ends-its-worker", "slow", "slower"], "one result per submission"
