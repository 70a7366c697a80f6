"""Every isolation level this machine offers grades the same, and student code is never root outside.

The examples graded at the best level (the `graded_examples` batch) are the reference. The two zips,
which reach every problem and the grader-side model measurement, are graded again at each other
level: `rlimits+user` by a root grader, `rlimits` by a grader that is not root (here the user
nobody, when this machine lets it run the project), and their rows must match column for column.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from autograder import environment, sandbox
from autograder.cli import main
from autograder.config import Limits, load_config

from conftest import PROJECT_ROOT

BOTH_WAYS = ("p4_complete", "p4_weak")  # zips: the notebook and two model files each
NOBODY = 65534


def _rows(csv_path: Path) -> dict[str, dict]:
    return {r["file"]: r for r in csv.DictReader(open(csv_path))}


@pytest.fixture(scope="module")
def shared_copy(graded_examples):
    """The graded batch's grading.yml and data, in a folder every user may read and write, with the two zips."""
    config, _ = graded_examples
    root = Path(tempfile.mkdtemp(prefix="assn1-levels-"))
    os.chmod(root, 0o777)
    raw = yaml.safe_load(config.path.read_text())
    shutil.copytree(config.data.dir, root / "data", ignore=shutil.ignore_patterns("cache"))
    (root / "grading.yml").write_text(yaml.safe_dump(raw))
    (root / "submissions").mkdir()
    for name in BOTH_WAYS:
        shutil.copyfile(PROJECT_ROOT / "examples" / "submissions" / f"{name}.zip", root / "submissions" / f"{name}.zip")
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o777 if path.is_dir() else 0o666)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _offered(level: str) -> str:
    """Why `level` can't be had here by a grader running as this user, or ""."""
    sandbox.choose_isolation.cache_clear()
    try:
        sandbox.choose_isolation(level)
        return ""
    except sandbox.SandboxError as exc:
        return str(exc)
    finally:
        sandbox.choose_isolation.cache_clear()


def _same_rows(reference_csv: Path, csv_path: Path, level: str) -> None:
    reference, graded = _rows(reference_csv), _rows(csv_path)
    for name in BOTH_WAYS:
        expected, got = reference[f"{name}.zip"], graded[f"{name}.zip"]
        assert got == expected, f"{name} at {level}: {got} != {expected}"


def test_rlimits_user_grades_as_the_best_level_does(graded_examples, shared_copy, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("rlimits+user is the level of a root grader; this one is not root (see the rlimits test)")
    _, out = graded_examples
    target = tmp_path / "out"
    args = ["--config", str(shared_copy / "grading.yml"), "grade", str(shared_copy / "submissions"), "-o", str(target)]
    assert main([*args, "-j", "2", "--isolation", "rlimits+user"]) == 0
    _same_rows(out / "final_grades.csv", target / "final_grades.csv", "rlimits+user")


def _as_unprivileged_grader(folder: Path, env: dict) -> list[str]:
    """The prefix that runs the grader as nobody when the tests run as root: inside a bubblewrap sandbox
    that shows nobody the Python installations, the grader's and the student environment's (they may lie
    in root's private home), or by setpriv alone."""
    if os.geteuid() != 0:
        return []
    isolation = sandbox.choose_isolation("auto")
    if isolation.level == "bubblewrap" and isolation.as_nobody:
        student = environment.require(load_config(folder / "grading.yml")).paths
        box = sandbox.Confinement(
            folder, folder, PROJECT_ROOT, hidden=(Path.home(),), visible=sandbox.python_paths(student)
        )
        return sandbox.confine(isolation, box)
    check = [*sandbox._as_nobody(), sys.executable, "-c", "import sys; print(sys.base_prefix)"]
    seen = subprocess.run(check, env=env, cwd=folder, capture_output=True, text=True).stdout.strip()
    if seen != sys.base_prefix:
        pytest.skip(f"the user nobody cannot use this Python installation ({sys.base_prefix}) to be a grader here")
    return sandbox._as_nobody()


def test_rlimits_grades_as_the_best_level_does(graded_examples, shared_copy):
    """Level rlimits, run by an unprivileged grader: when the tests run as root, the grader is nobody."""
    _, out = graded_examples
    target = shared_copy / "out-rlimits"
    command = [sys.executable, "-m", "autograder.cli", "--config", str(shared_copy / "grading.yml"), "grade"]
    command += [str(shared_copy / "submissions"), "-o", str(target), "-j", "2", "--isolation", "rlimits"]
    env = {**os.environ, "HOME": str(shared_copy), "PYTHONPATH": str(PROJECT_ROOT)}
    command = [*_as_unprivileged_grader(shared_copy, env), *command]
    done = subprocess.run(command, env=env, cwd=shared_copy, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "isolation rlimits;" in done.stdout
    _same_rows(out / "final_grades.csv", target / "final_grades.csv", "rlimits")


LEVELS_HERE = [level for level in sandbox.LEVELS if not _offered(level)]


@pytest.fixture
def open_tmp():
    """A temporary folder every user can reach (pytest's own are private to the user running the tests)."""
    folder = Path(tempfile.mkdtemp(prefix="assn1-uid-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("level", LEVELS_HERE)
def test_student_code_is_not_root_outside_its_sandbox(open_tmp, level):
    """A file the confined process writes is owned, as seen from outside, by an unprivileged user."""
    isolation = sandbox.choose_isolation(level)
    scratch, shipped = open_tmp / "work", open_tmp / "shipped"
    scratch.mkdir()
    shipped.mkdir()
    sandbox.hand_over(isolation, [scratch])
    box = sandbox.Confinement(scratch, scratch, shipped, hidden=(), visible=(Path(sys.prefix),))
    limits = Limits(60, 60, 2048, 64, 60, 5, 20, 2048, 60)
    prefix = sandbox.kernel_prefix(isolation, limits, box)
    code = "import os; open('written', 'w').write(str(os.getuid()))"
    subprocess.run([*prefix, sys.executable, "-c", code], cwd=scratch, check=True, timeout=60)
    owner = (scratch / "written").stat().st_uid
    if isolation.note:
        assert "root outside" in isolation.note, "where the machine cannot drop root, the level note says so"
    else:
        assert owner != 0 and owner == (NOBODY if os.geteuid() == 0 else os.geteuid())
