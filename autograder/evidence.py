"""Evidence besides the kernel's answers: files the checks measure, and values the saved outputs print.

Generic over the content: an item declares a `MeasuredFile` or `saved_output` names, and the engine
keeps and reads them here (and measures them with `judging.measure_files`) without knowing what they are.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from autograder.spans import question_cells
from autograder.suite import ITEMS


def keep_files(folder: Path, target: Path, check_ids: list[str]) -> None:
    """Copy the files the checks measure (found beside the notebook) before the notebook can change them."""
    target.mkdir(parents=True, exist_ok=True)
    for check_id in check_ids:
        file = ITEMS[check_id].file
        if file is not None and (folder / file.name).is_file() and not (folder / file.name).is_symlink():
            shutil.copyfile(folder / file.name, target / file.name)


def question_figures(cells: list, figures: dict[int, list[dict]], label: str, known: list[str]) -> dict:
    """A figure check's observation: the figures the cells of question `label` displayed as they ran."""
    mine = question_cells(cells, label, known)
    return {"question": label, "figures": [f for i in mine for f in figures.get(i, [])], "cells": len(mine)}


def saved_outputs(nb: nbformat.NotebookNode, names: set[str]) -> dict[str, str]:
    """The last `NAME = value` (or `NAME: value`) line the notebook's saved outputs show for each name.

    A figure measured on data the grader does not give the kernel is only in the outputs the
    student saved; it is read as text, never evaluated.
    """
    found: dict[str, str] = {}
    if not names:
        return found
    pattern = re.compile(rf"^\s*({'|'.join(map(re.escape, sorted(names)))})\s*[=:]\s*(\S.*?)\s*$", re.M)
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("text") or output.get("data", {}).get("text/plain") or ""
            for match in pattern.finditer(text if isinstance(text, str) else "".join(text)):
                found[match.group(1)] = match.group(2)[:100]
    return found
