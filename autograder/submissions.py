"""Finding submissions and unpacking each into its own scratch folder, without trusting the archive."""

from __future__ import annotations

import json
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

from autograder.errors import Assn1Error

MAX_UNPACKED_BYTES = 1 << 30
NOTEBOOK_SUFFIX = ".ipynb"


class SubmissionError(Assn1Error):
    """A submission can't be read: not a notebook or zip, a broken zip, or no notebook inside."""


@dataclass(frozen=True)
class Submission:
    name: str  # unique, file-system-safe label (the file name without its suffix)
    path: Path


def find_submissions(paths: list[Path]) -> list[Submission]:
    """Notebooks and zips named directly or lying directly in the given folders, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix in (NOTEBOOK_SUFFIX, ".zip") and p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise SubmissionError(f"{path}: no such file or folder.")
    names: dict[str, int] = {}
    out = []
    for path in found:
        base = path.stem if path.suffix in (NOTEBOOK_SUFFIX, ".zip") else path.name
        names[base] = names.get(base, 0) + 1
        name = base if names[base] == 1 else f"{base}-{names[base]}"
        out.append(Submission(name, path))
    return out


def unpack(submission: Submission, scratch: Path) -> Path:
    """Copy or extract the submission into `scratch`; return its notebook's path there."""
    scratch.mkdir(parents=True, exist_ok=True)
    if submission.path.suffix == NOTEBOOK_SUFFIX:
        target = scratch / submission.path.name
        shutil.copyfile(submission.path, target)
        return target
    if submission.path.suffix != ".zip":
        raise SubmissionError(f"{submission.path.name}: not a notebook (.ipynb) or a zip file.")
    try:
        with zipfile.ZipFile(submission.path) as archive:
            _extract(archive, scratch)
    except zipfile.BadZipFile:
        raise SubmissionError(f"{submission.path.name}: not a readable zip file.") from None
    notebooks = sorted(p for p in scratch.rglob(f"*{NOTEBOOK_SUFFIX}") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        raise SubmissionError(f"{submission.path.name}: the zip holds no notebook (.ipynb).")
    return min(notebooks, key=lambda p: (len(p.relative_to(scratch).parts), p.name))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path` as nbformat 4, or SubmissionError saying in one line why it is not one."""
    name = path.name
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        reason = "not valid JSON" if isinstance(exc, ValueError) else f"unreadable ({exc.strerror or exc})"
        raise SubmissionError(f"{name} is not a Jupyter notebook: {reason}.") from None
    problem = _notebook_shape_problem(raw)
    if problem:
        raise SubmissionError(f"{name} is not a Jupyter notebook: {problem}.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat's conversion errors vary by version
        raise SubmissionError(f"{name} is not a readable Jupyter notebook: {type(exc).__name__}: {str(exc)[:120]}.")


def _notebook_shape_problem(raw: object) -> str:
    """What keeps JSON from being a notebook this grader can run, or "" (small deviations are tolerated)."""
    if not isinstance(raw, dict):
        kinds = {list: "a list", str: "a string", bool: "true or false", int: "a number", float: "a number"}
        return f"it holds {kinds.get(type(raw), 'null')}, not a notebook's object of cells"
    if not isinstance(raw.get("nbformat"), int) or raw["nbformat"] < 4:
        return "it has no `nbformat` version of 4 or later (save it again from Jupyter or Colab)"
    cells = raw.get("cells")
    if not isinstance(cells, list):
        return "it has no list of `cells`"
    for i, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return f"cell {i} has no valid `cell_type`"
        if not isinstance(cell.get("source"), (str, list)):
            return f"cell {i} has no `source` text"
    return ""


def _extract(archive: zipfile.ZipFile, target: Path) -> None:
    """Extract plain files only, refusing absolute paths, '..', links and zip bombs."""
    total = 0
    for info in archive.infolist():
        parts = PurePosixPath(info.filename).parts
        if info.is_dir() or not parts:
            continue
        if info.filename.startswith("/") or ".." in parts or (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise SubmissionError(f"zip member {info.filename!r} points outside the submission; refusing it.")
        total += info.file_size
        if total > MAX_UNPACKED_BYTES:
            raise SubmissionError(f"the zip unpacks to more than {MAX_UNPACKED_BYTES >> 20} MB; refusing it.")
        destination = target.joinpath(*parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, open(destination, "wb") as out:
            shutil.copyfileobj(source, out)
