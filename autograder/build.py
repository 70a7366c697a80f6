"""`assn1 build`: the student notebook and the autograder material, generated from the master notebook.

grading.yml is the one source of points and visibility: before `otter assign` runs, every question
of the master gets its points from grading.yml, and its test cells are generated from the checks
grading.yml lists for it (each a call of `require("<question>.<check>", env)` with that check's
points and visibility). Questions that don't line up with grading.yml stop the build with a message
naming both files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from autograder.bundle import ZIP_NAME, write_zip
from autograder.config import Config
from autograder.errors import Assn1Error
from autograder.in_kernel import BUNDLE_NAME
from autograder.keys import build_bundle, configured_checks
from autograder.suite import ITEMS

NOTEBOOK_NAME = "assn1.ipynb"
PACKAGE = Path(__file__).resolve().parent
# The part of this package a notebook's kernel needs to run checks: no config, data or build code.
SHIPPED = (
    "__init__.py",
    "config.py",
    "errors.py",
    "results.py",
    "in_kernel.py",
    "isolated.py",
    "judging.py",
    "misconceptions.py",
    "checks",
    "data",
    "probes",
    "suite",
)
GRADER_ONLY = ("simulation.py",)
TEST_CELL = '''""" # BEGIN TEST CONFIG
points: {points}
hidden: {hidden}{messages}
""" # END TEST CONFIG
def test_{name}(env):
    from autograder.in_kernel import require
    require("{check_id}", env)'''


class BuildError(Assn1Error):
    """The master notebook and grading.yml disagree, or otter assign failed."""


@dataclass(frozen=True)
class BuildResult:
    student_notebook: Path
    autograder_dir: Path
    zip_path: Path
    public_checks: int
    hidden_checks: int


def build(config: Config) -> BuildResult:
    """Write student_dir (student notebook, public tests, check package) and dist_dir/autograder."""
    master = nbformat.read(config.build.master, as_version=4)
    injected = inject_grading(master, config)
    with tempfile.TemporaryDirectory(prefix="assn1-build-") as tmp:
        stage = Path(tmp)
        nbformat.write(injected, stage / NOTEBOOK_NAME)
        ship_package(stage / "autograder", build_bundle(config, include_hidden=False), for_students=True)
        out = stage / "out"
        _run_otter_assign(stage / NOTEBOOK_NAME, out)
        student_dir = config.build.student_dir
        _replace_dir(out / "student", student_dir, keep=("README.md",))
        _normalize_notebook(student_dir / NOTEBOOK_NAME)
        autograder_dir = config.build.dist_dir / "autograder"
        _replace_dir(out / "autograder", autograder_dir)
        ship_package(autograder_dir / "autograder", build_bundle(config, include_hidden=True))
    zip_path = write_zip(config, autograder_dir, config.build.dist_dir / ZIP_NAME)
    in_notebook = [c for i, c in configured_checks(config).items() if not ITEMS[i].engine_only]
    hidden = sum(c.hidden for c in in_notebook)
    return BuildResult(student_dir / NOTEBOOK_NAME, autograder_dir, zip_path, len(in_notebook) - hidden, hidden)


def inject_grading(master: nbformat.NotebookNode, config: Config) -> nbformat.NotebookNode:
    """A copy of the master whose questions carry grading.yml's points, with their test cells generated.

    Each check a question lists in grading.yml (all but the engine-only figure checks) becomes one
    otter test cell, `require("<question>.<check>", env)`, with its points and visibility, placed
    before the question's `# END QUESTION`: a check is declared by its item and grading.yml alone.
    """
    questions = {q: question for p in config.problems.values() for q, question in p.questions.items()}
    checks = configured_checks(config)
    nb = nbformat.from_dict(json.loads(json.dumps(master)))
    seen_questions, current = set(), None
    where = f"{config.build.master} and {config.path}"
    cells = []
    for cell in nb.cells:
        source = cell.source.lstrip()
        if cell.cell_type == "raw" and source.startswith("# BEGIN QUESTION"):
            header, _, body = cell.source.partition("\n")
            settings = yaml.safe_load(body) or {}
            current = settings.get("name")
            if current not in questions:
                raise BuildError(f"{where}: the master's question `{current}` is not in grading.yml's problems.")
            question = questions[current]
            settings.update(points=question.points, manual=question.manual)
            cell.source = header + "\n" + yaml.safe_dump(settings, sort_keys=False).strip()
            seen_questions.add(current)
        elif cell.cell_type == "raw" and source.startswith("# BEGIN TESTS"):
            raise BuildError(
                f"{config.build.master}: question `{current}` has hand-written test cells; remove its "
                "`# BEGIN TESTS` block: test cells are generated from grading.yml's checks."
            )
        elif cell.cell_type == "raw" and source.startswith("# END QUESTION"):
            cells += _test_cells(current, checks)
            current = None
        cells.append(cell)
    nb.cells = cells
    graded = {
        q
        for q, question in questions.items()
        if question.manual or any(not ITEMS[f"{q}.{c}"].engine_only for c in question.checks)
    }
    missing = sorted(graded - seen_questions)
    if missing:
        raise BuildError(f"{where}: grading.yml's questions {', '.join(missing)} have no `# BEGIN QUESTION` block.")
    return nb


def _test_cells(question: str | None, checks: dict) -> list[nbformat.NotebookNode]:
    """The otter test block of `question`: one cell per check it runs in the notebook, in grading.yml's order."""
    mine = [(i, c) for i, c in checks.items() if i.split(".")[0] == question and not ITEMS[i].engine_only]
    if not mine:
        return []
    cells = [nbformat.v4.new_raw_cell("# BEGIN TESTS")]
    public = [(i, c) for i, c in mine if not c.hidden]
    share = _share_note(question, checks, public)
    for check_id, check in mine:
        last_public = public and check_id == public[-1][0]
        messages = (
            f"\nsuccess_message: {json.dumps(share)}\nfailure_message: {json.dumps(share)}"
            if share and last_public
            else ""
        )
        cells.append(
            nbformat.v4.new_code_cell(
                TEST_CELL.format(
                    points=f"{check.points:g}",
                    hidden=str(check.hidden).lower(),
                    messages=messages,
                    name=check_id.replace(".", "_"),
                    check_id=check_id,
                )
            )
        )
    return [*cells, nbformat.v4.new_raw_cell("# END TESTS")]


def _share_note(question: str, checks: dict, public: list) -> str:
    """What `grader.check` adds under a question's public tests: how many of its points they check,
    so a student whose public tests all pass knows what is still to be judged ("" when they check all)."""
    ours = {i: c for i, c in checks.items() if i.split(".")[0] == question}
    total, mine = sum(c.points for c in ours.values()), sum(c.points for _, c in public)
    if not public or mine >= total:
        return ""
    how = (
        "hidden tests and a check of the figures your notebook draws"
        if any(ITEMS[i].engine_only for i in ours)
        else "hidden tests"
    )
    return (
        f"These public tests check {mine:g} of this question's {total:g} point{'s' * (total != 1)}; "
        f"the rest ({total - mine:g}) is checked when your submission is graded ({how})."
    )


def ship_package(target: Path, bundle: dict, for_students: bool = False) -> None:
    """Copy the kernel-side part of this package to `target`, with a key bundle beside it.

    Students' copies leave out the grader-only probes (they hold solutions)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", *(GRADER_ONLY if for_students else ()))
    for name in SHIPPED:
        source = PACKAGE / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    (target / BUNDLE_NAME).write_text(json.dumps(bundle, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _run_otter_assign(master: Path, out: Path) -> None:
    command = [sys.executable, "-m", "otter", "assign", "--no-run-tests", "--no-pdfs", str(master), str(out)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=master.parent)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BuildError(f"otter assign failed on {master.name}: {tail[0]}")


def _replace_dir(source: Path, target: Path, keep: tuple[str, ...] = ()) -> None:
    """Make `target` hold exactly `source`'s files, keeping the named files already in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for child in target.iterdir():
        if child.name in keep:
            continue
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    for child in source.iterdir():
        if child.is_dir():
            shutil.copytree(child, target / child.name)
        else:
            shutil.copy2(child, target / child.name)


def _normalize_notebook(path: Path) -> None:
    """Give cells stable ids so rebuilding an unchanged master gives an identical file."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
    nbformat.write(nb, path)
