"""`otter run` grades with the engine: an otter plugin, named in the autograder zip's otter_config.json.

`otter run -a dist/autograder.zip SUBMISSION` never runs the zip's run_autograder: it runs otter's own
runner, which loads the plugins otter_config.json names and calls their events. This one makes the
grade the engine's:

- before_grading: grades the submission with the engine, through the zip's own copy of the project
  (`python -m autograder.gradescope`, in a process of its own), and empties otter's working copy of
  the test files, which no longer decide the grade;
- before_execution: gives otter an empty notebook (the submission's metadata kept), so otter's kernel
  runs none of the student's code, which the engine has already run confined;
- after_grading: puts the engine's per-question results (the results.pkl it wrote) in place of
  otter's, so results.json, otter's printed total and the returned GradingResults carry the engine's
  scores and messages.

Only the standard library, nbformat and otter are used here: the plugin is imported by otter's process,
whichever copy of this package that process finds.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from otter.plugins import AbstractOtterPlugin
from otter.run.run_autograder.utils import OtterRuntimeError

PROJECT = Path("source") / "files" / "assn1"  # the zip's copy of the project, in the autograder tree
OTTER_ADDED = ("tests", "__init__.py")  # put in the submission folder by otter's runner (with files/'s entries)


class EngineGrades(AbstractOtterPlugin):
    """Replaces otter's grading of the submission by the engine's (see the module's docstring)."""

    @property
    def _tree(self) -> Path:
        return Path(self.submission_path).resolve().parent.parent  # <tree>/submission/<notebook>

    def before_grading(self, config):
        tree = self._tree
        added = [*OTTER_ADDED, *sorted(p.name for p in (tree / "source" / "files").iterdir())]
        project = tree / PROJECT
        command = [sys.executable, "-m", "autograder.gradescope", str(tree), "--exclude", *added]
        env = {**os.environ, "PYTHONPATH": str(project)}
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
        print(done.stdout, end="")
        if done.returncode != 0 or not (tree / "results" / "results.pkl").is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
            raise OtterRuntimeError(f"the engine could not grade this submission: {tail[0]}")
        tests = tree / "submission" / "tests"  # otter's copy of source/tests, made for this run
        shutil.rmtree(tests, ignore_errors=True)
        tests.mkdir()

    def before_execution(self, submission):
        if isinstance(submission, str):
            return ""
        return nbformat.v4.new_notebook(metadata=submission.get("metadata", {}))

    def after_grading(self, results):
        with open(self._tree / "results" / "results.pkl", "rb") as fh:
            engine = pickle.load(fh)
        results.clear_results()
        results.results.update(engine.results)
        results.set_output(engine.output)
