"""OUT/gradebook.sqlite: kept, rescored or re-run as the change demands, never lost, exports byte-identical.

Four small notebooks (problem 2 and the lambdas) graded through the `assn1` command, as an instructor
would: interrupted with SIGKILL and with SIGINT and resumed, rerun with nothing changed, with a changed
tolerance and with a changed limit, with -j 1 and -j 2; the final CSV must not move by a byte.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from unittest.mock import patch

import nbformat
import pytest
import yaml
from conftest import PROJECT_ROOT, small_course
from engine.test_isolation import GOOD_P2, LAMBDAS

from autograder.cli import main
from autograder.config import load_config
from autograder.derived import open_derived
from autograder.gradebook import NAME, open_gradebook
from autograder.keys import build_keys, kept_keys

WRONG_RATE = "def bandwidth_exponent(p):\n    return -1 / (p + 4)\n\ndef risk_exponent(p):\n    return -1 / (p + 4)"
SLOW = "import time\ntime.sleep(4)"  # so an interruption lands between submissions


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A private grading.yml with its data, and four small submissions."""
    root = tmp_path_factory.mktemp("gradebook")
    small_course(root)
    folder = root / "submissions"
    folder.mkdir()
    variants = {
        "a": [GOOD_P2, LAMBDAS],
        "b": [GOOD_P2, WRONG_RATE, LAMBDAS],
        "c": [SLOW, LAMBDAS],
        "d": [SLOW, GOOD_P2],
    }
    for name, cells in variants.items():
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nbformat.write(nb, folder / f"{name}.ipynb")
    return root, folder


def _grade(root: Path, folder: Path, out: Path, *extra: str, config: str = "grading.yml") -> int:
    return main(["--config", str(root / config), "grade", str(folder), "-o", str(out), *extra])


def _command(root: Path, folder: Path, out: Path, *extra: str) -> list[str]:
    cli = [sys.executable, "-m", "autograder.cli", "--config", str(root / "grading.yml")]
    return [*cli, "grade", str(folder), "-o", str(out), *extra]


@pytest.fixture(scope="module")
def reference(course):
    """The uninterrupted batch with -j 2: the CSV every other way of getting there must equal."""
    root, folder = course
    out = root / "reference"
    assert _grade(root, folder, out, "-j", "2") == 0
    return out


def _rows_done(out: Path) -> int:
    try:
        with sqlite3.connect(out / NAME, timeout=5) as db:
            return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    except sqlite3.Error:
        return 0


def ctrl_c_as_in_a_terminal() -> None:
    """In the child: Ctrl-C's default action, whatever the test runner inherited (a shell's background job
    ignores SIGINT, and Python keeps an ignored SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_after_first(course, out: Path, sig: int, jobs: str) -> subprocess.CompletedProcess:
    root, folder = course
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen(
        _command(root, folder, out, "-j", jobs),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_as_in_a_terminal,
    )
    deadline = time.monotonic() + 300
    while _rows_done(out) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the batch ended before it could be interrupted"
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _leftovers(out: Path) -> list[str]:
    """Processes still running for a batch on `out` (workers, kernels)."""
    marker = str(out / NAME).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes():
                    found.append(entry.name)
            except OSError:
                pass
    return found


def test_a_rerun_with_nothing_changed_keeps_everything(course, reference, capsys):
    root, folder = course
    before = {s.name: s.graded_at for s in _load(reference).values()}
    csv_before = (reference / "final_grades.csv").read_bytes()
    capsys.readouterr()
    assert _grade(root, folder, reference) == 0
    assert "kept 4, rescored 0, graded 0" in capsys.readouterr().out
    assert {s.name: s.graded_at for s in _load(reference).values()} == before, "nothing was run again"
    assert (reference / "final_grades.csv").read_bytes() == csv_before


def test_a_new_output_folder_builds_no_key_and_draws_no_reference_figure(
    course, reference, tmp_path, monkeypatch, capsys
):
    """The keys (problem 1's risk simulation among them) and the reference figures are kept in the course's
    cache by the first batch, for every later one."""
    from autograder import keys
    from autograder.pages import write

    root, folder = course
    out = tmp_path / "out"
    out.mkdir()
    (out / NAME).write_bytes((reference / NAME).read_bytes())
    made, drawn = [], []
    make_key, draw = keys._make_key, write._draw_reference_figures
    monkeypatch.setattr(keys, "_make_key", lambda config, i: made.append(i) or make_key(config, i))
    monkeypatch.setattr(write, "_draw_reference_figures", lambda config: drawn.append(1) or draw(config))
    capsys.readouterr()
    assert _grade(root, folder, out) == 0
    assert "kept 4, rescored 0, graded 0" in capsys.readouterr().out
    assert (made, drawn) == ([], []), "kept, not made again"
    page = (out / "a" / "feedback.html").read_text()  # a new OUT: every page written, with the kept figures
    assert page.count("data:image/png;base64,") >= 1


def test_kept_keys_equal_fresh_ones_and_a_changed_data_file_makes_them_again(course, tmp_path):
    root, _ = course
    shutil.copytree(root / "data", tmp_path / "data", ignore=shutil.ignore_patterns("cache"))
    shutil.copy(root / "grading.yml", tmp_path / "grading.yml")
    config = load_config(tmp_path / "grading.yml")
    ids = ["q1_2_risk.risk_band", "q2_2.exponent_values"]
    made = []

    def build(config, ids):
        made.append(1)
        return build_keys(config, ids)

    with closing(open_derived(config.data.cache_dir)) as derived:
        kept = kept_keys(derived)
        with patch("autograder.keys.build_keys", build):
            assert kept(config, ids) == kept(config, ids) == build_keys(config, ids)
            kept(config, ids[:1])  # another set of checks (the public ones, for `assn1 check`) is kept beside it
            assert kept(config, ids) == build_keys(config, ids) and len(made) == 2
            manifest = config.data.dir / "problem4_manifest.json"
            manifest.write_text(manifest.read_text() + "\n")
            kept(config, ids)
    assert len(made) == 3, "made again from the changed file"


def test_a_tolerance_change_rescores_from_the_stored_observations(course, reference, tmp_path, capsys):
    root, folder = course
    out = tmp_path / "out"
    out.mkdir()
    for name in (NAME, "final_grades.csv"):
        (out / name).write_bytes((reference / name).read_bytes())
    raw = yaml.safe_load((root / "grading.yml").read_text())
    raw["problems"]["p2"]["questions"]["q2_2"]["checks"]["exponent_values"]["rtol"] = 10.0
    (root / "loose.yml").write_text(yaml.safe_dump(raw))
    before = {s.name: s.graded_at for s in _load(out).values()}
    capsys.readouterr()
    assert _grade(root, folder, out, config="loose.yml") == 0
    assert "kept 0, rescored 4, graded 0" in capsys.readouterr().out
    stored = _load(out)
    assert {s.name: s.graded_at for s in stored.values()} == before and all(s.rescored_at for s in stored.values())
    rows = {r["file"]: r for r in csv.DictReader(open(out / "final_grades.csv"))}
    reference_rows = {r["file"]: r for r in csv.DictReader(open(reference / "final_grades.csv"))}
    assert float(rows["b.ipynb"]["q2_2"]) == float(reference_rows["b.ipynb"]["q2_2"]) + 0.75, (
        "the wider tolerance applied"
    )


def test_a_limit_change_runs_every_notebook_again(course, reference, tmp_path, capsys):
    root, folder = course
    out = tmp_path / "out"
    out.mkdir()
    (out / NAME).write_bytes((reference / NAME).read_bytes())
    raw = yaml.safe_load((root / "grading.yml").read_text())
    raw["limits"]["cell_timeout_s"] = 31
    (root / "limits.yml").write_text(yaml.safe_dump(raw))
    assert main(["--config", str(root / "limits.yml"), "gradebook", "show", str(out), str(folder)]) == 0
    assert "next run: grade (grading.yml's limits changed)" in capsys.readouterr().out
    assert _grade(root, folder, out, "-j", "2", config="limits.yml") == 0
    assert "kept 0, rescored 0, graded 4" in capsys.readouterr().out
    assert (out / "final_grades.csv").read_bytes() == (reference / "final_grades.csv").read_bytes()


def test_one_job_or_two_the_same_bytes(course, reference, tmp_path):
    root, folder = course
    assert _grade(root, folder, tmp_path / "out", "-j", "1") == 0
    assert (tmp_path / "out" / "final_grades.csv").read_bytes() == (reference / "final_grades.csv").read_bytes()
    assert (tmp_path / "out" / "checks.csv").read_bytes() == (reference / "checks.csv").read_bytes()


@pytest.mark.parametrize("sig, jobs", [(signal.SIGKILL, "1"), (signal.SIGINT, "2")])
def test_an_interrupted_batch_resumes_to_the_same_bytes(course, reference, tmp_path, sig, jobs, capsys):
    root, folder = course
    out = tmp_path / "out"
    stopped = _interrupt_after_first(course, out, sig, jobs)
    if sig == signal.SIGINT:
        assert stopped.returncode == 130 and "interrupted: the gradebook keeps" in stopped.stderr
        time.sleep(1)
        assert _leftovers(out) == [], "Ctrl-C stops the workers and their kernels"
        assert not (out / "final_grades.csv.tmp").exists()
    kept = _rows_done(out)
    assert 1 <= kept < 4
    capsys.readouterr()
    assert _grade(root, folder, out, "-j", jobs) == 0
    printed = capsys.readouterr().out
    assert f"kept {kept}, rescored 0, graded {4 - kept}" in printed
    if sig == signal.SIGKILL:
        assert "cleaned up after an interrupted run" in printed
    assert _leftovers(out) == []
    assert (out / "final_grades.csv").read_bytes() == (reference / "final_grades.csv").read_bytes()


def test_a_power_cut_mid_transaction_leaves_a_readable_gradebook(reference, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / NAME).write_bytes((reference / NAME).read_bytes())
    code = (
        "import os, signal, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN')\n"
        'db.execute("DELETE FROM checks")\n'
        "db.execute(\"INSERT INTO submissions SELECT 'half', source, sha256, observe_fp, score_fp, isolation, seed, seconds, "
        'not_graded, concerns, notes, observations, graded_at, rescored_at, run_id, timings FROM submissions LIMIT 1")\n'
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert subprocess.run([sys.executable, "-c", code, str(out / NAME)]).returncode == -signal.SIGKILL
    stored = _load(out)
    assert set(stored) == {"a", "b", "c", "d"} and all(s.checks for s in stored.values())


def test_a_damaged_or_foreign_gradebook_is_refused_and_fresh_keeps_a_backup(course, tmp_path, capsys):
    root, folder = course
    out = tmp_path / "out"
    out.mkdir()
    (out / NAME).write_bytes(b"these bytes are no database" * 100)
    assert _grade(root, folder, out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a readable assn1 gradebook" in err and "--fresh" in err
    (out / NAME).unlink()
    with sqlite3.connect(out / NAME) as db:
        db.execute("CREATE TABLE grades (student TEXT)")
    assert _grade(root, folder, out) == 1
    assert "is not an assn1 gradebook" in capsys.readouterr().err
    assert (out / NAME).exists(), "a gradebook is never silently replaced"
    assert _grade(root, folder, out, "--fresh", "-j", "2") == 0
    backups = list(out.glob("gradebook.*.bak"))
    assert len(backups) == 1 and sqlite3.connect(backups[0]).execute("SELECT count(*) FROM grades").fetchone() == (0,)


def test_exports_for_an_lms_match_students_through_a_roster(course, reference, tmp_path, capsys):
    root, _ = course
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "submission,student_id,name,email\na.ipynb,1001,Ann,ann@x.edu\nb,1002,Bo,bo@x.edu\nc,1003,Cy,cy@x.edu\n"
    )
    args = ["--config", str(root / "grading.yml"), "gradebook", "export", str(reference), "--roster", str(roster)]
    assert main([*args, "--format", "canvas", "-o", str(tmp_path / "canvas.csv")]) == 1
    assert "no row for the submission d.ipynb" in capsys.readouterr().err
    with roster.open("a") as fh:
        fh.write("d.ipynb,1004,Di,di@x.edu\n")
    assert main([*args, "--format", "gradescope", "-o", str(tmp_path / "gs.csv")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "gs.csv")))
    totals = {r["file"]: r["total_points_earned"] for r in csv.DictReader(open(reference / "final_grades.csv"))}
    assert {r["SID"]: r["Score"] for r in rows} == {
        "1001": totals["a.ipynb"],
        "1002": totals["b.ipynb"],
        "1003": totals["c.ipynb"],
        "1004": totals["d.ipynb"],
    }
    assert main([*args, "--format", "canvas", "-o", str(tmp_path / "canvas.csv")]) == 0
    header = next(csv.reader(open(tmp_path / "canvas.csv")))
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def test_the_long_csv_has_a_row_per_submission_and_check(reference):
    rows = list(csv.DictReader(open(reference / "checks.csv")))
    stored = _load(reference)
    assert len(rows) == sum(len(s.checks) for s in stored.values())
    assert {r["outcome"] for r in rows} <= {"passed", "failed", "errored"}


def _load(out: Path):
    gradebook = open_gradebook(out)
    try:
        return gradebook.load()
    finally:
        gradebook.close()
