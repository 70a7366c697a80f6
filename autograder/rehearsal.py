"""A Gradescope rehearsal on this machine: the autograder zip run the way Gradescope runs it.

Gradescope unpacks the zip into /autograder/source, runs setup.sh once when the image is built,
then per submission unpacks the upload into /autograder/submission and runs run_autograder, which
writes /autograder/results/results.json. Here the same tree is laid out under a temporary folder
(ASSN1_AUTOGRADER_DIR stands in for /autograder). setup.sh's first part installs Miniforge, otter's
environment and bubblewrap from the internet; the student environment built by `assn1 env create`
stands in for otter's environment (the same pins, Python and requirements as the zip's
environment.yml), and only the data part (setup_data.sh) runs, once per tree. Per submission,
run_autograder's own step runs: grade_submission.sh, the engine grading the submission as `assn1 grade`
does, on that environment's interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder.bundle import PROJECT_DIR
from autograder.errors import Assn1Error
from autograder.submissions import Submission, unpack


class RehearsalError(Assn1Error):
    """The zip could not be set up, or run_autograder wrote no results."""


@dataclass(frozen=True)
class Rehearsed:
    name: str
    results: dict  # Gradescope's results.json, as run_autograder wrote it
    seconds: float
    written: dict[str, bytes]  # what run_autograder wrote into results/, by file name (results.json, results.pkl)


def set_up(zip_path: Path, root: Path, python: str = sys.executable) -> Path:
    """Unpack the zip into root/autograder/source and run its data step with `python` (otter's
    environment's interpreter); return root/autograder."""
    autograder_dir = root / "autograder"
    source = autograder_dir / "source"
    source.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(source)
    script = source / PROJECT_DIR / "setup_data.sh"
    env = {**os.environ, "PYTHON": python}
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RehearsalError(f"{zip_path.name}: setup_data.sh failed: {tail[0]}")
    return autograder_dir


def run_one(
    autograder_dir: Path, submission: Submission, timeout_s: float = 1800, python: str = sys.executable
) -> Rehearsed:
    """Run run_autograder's step on one submission in the tree made by `set_up`, with `python` as otter's
    environment's interpreter: the engine and the notebook's kernel run on it."""
    for folder in ("submission", "results"):
        shutil.rmtree(autograder_dir / folder, ignore_errors=True)
        (autograder_dir / folder).mkdir()
    unpack(submission, autograder_dir / "submission")
    (autograder_dir / "submission_metadata.json").write_text("{}\n", encoding="utf-8")
    script = autograder_dir / "source" / PROJECT_DIR / "grade_submission.sh"
    env = {**activated(python), "ASSN1_AUTOGRADER_DIR": str(autograder_dir), "PYTHON": python}
    started = time.monotonic()
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=timeout_s)
    seconds = time.monotonic() - started
    results = autograder_dir / "results" / "results.json"
    if done.returncode != 0 or not results.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise RehearsalError(f"{submission.name}: run_autograder wrote no results.json: {tail[0]}")
    written = {p.name: p.read_bytes() for p in (autograder_dir / "results").iterdir() if p.is_file()}
    return Rehearsed(submission.name, json.loads(written["results.json"]), seconds, written)


def rehearse(
    zip_path: Path, submissions: list[Submission], out_dir: Path, jobs: int = 1, python: str = sys.executable
) -> list[Rehearsed]:
    """Run every submission as Gradescope would, `jobs` at a time (each in its own /autograder tree, set up
    once), on `python` (the student environment's interpreter stands in for otter's environment); copy
    what each wrote (results.json, and results.pkl for `otter grade`) to out_dir/<name>/ and return the
    results in input order."""
    jobs = max(1, min(jobs, len(submissions)))
    with tempfile.TemporaryDirectory(prefix="assn1-gradescope-") as tmp:
        trees = [set_up(zip_path, Path(tmp) / f"machine{i}", python) for i in range(jobs)]
        queues = [submissions[i::jobs] for i in range(jobs)]

        def work(i: int) -> list[Rehearsed]:
            return [run_one(trees[i], s, python=python) for s in queues[i]]

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            finished = {r.name: r for batch in pool.map(work, range(jobs)) for r in batch}
    for name, result in finished.items():
        (out_dir / name).mkdir(parents=True, exist_ok=True)
        for file_name, data in result.written.items():
            (out_dir / name / file_name).write_bytes(data)
    return [finished[s.name] for s in submissions]


def activated(python: str) -> dict[str, str]:
    """This process's environment with `python`'s folder first on PATH, as `mamba activate` leaves it, so
    what otter starts by name (the notebook's kernel, `python`) is that environment's."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(python).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)  # otter's environment has only its own packages
    return env


def question_scores(results: dict) -> dict[str, float]:
    """Score per question title in a results.json as `reports.gradescope_results` writes it (a question's
    public and hidden tests added up)."""
    scores: dict[str, float] = {}
    for test in results.get("tests", []):
        title = test["name"].removesuffix(" (hidden)")
        scores[title] = round(scores.get(title, 0.0) + float(test["score"]), 6)
    return scores
