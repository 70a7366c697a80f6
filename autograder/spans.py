"""Which cells of a notebook answer which question, read from its markers and headings.

Notebooks from our template mark hand-graded questions with otter's `<!-- BEGIN QUESTION -->` /
`<!-- END QUESTION -->` and every question with a heading ("### 1.1 Lasso regularization paths").
Students also paste cells into fresh notebooks or use last term's template, so a question starts at
any heading-like line naming its number — "1.1", "### 1.1 …", "Problem 1.1", bold "**1.1**", a code
cell opening with "# 1.1" — and runs until a line naming another question or problem.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# A heading-like line: "Problem 2" / "Question 1.1" (any markdown #'s or emphasis before), or a
# section number "1.1" opening the line (after #'s or emphasis); a plain "1." list item is no heading.
_WORD = r"(?:problem|question|part|exercise)\s*(\d+(?:\.\d+)*)"
_SECTION = r"(\d+(?:\.\d+)+)"
_HEADING = re.compile(
    rf"^\s{{0,3}}(?:#{{1,6}}\s*)?(?:[*_]{{1,2}}\s*)?(?:{_WORD}|{_SECTION})(?![\d]|\.\d)(?=[\s.:)*_]|$)",
    re.IGNORECASE,
)
_BEGIN_MARKER = "<!-- BEGIN QUESTION -->"
_END_MARKER = "<!-- END QUESTION -->"
# "### 4.2 and 4.3 Improving ...": further numbers a heading names after its first one
_MORE = re.compile(r"\s*(?:and|&|,|/)\s*(\d+(?:\.\d+)+)(?![\d]|\.\d)")


def question_label(title: str) -> str | None:
    """The number a question's title starts with ("1.1 Lasso paths" -> "1.1"), or None."""
    match = re.match(r"\s*(\d+(?:\.\d+)+)", title)
    return match.group(1) if match else None


def cell_labels(source: str, cell_type: str) -> list[str]:
    """The question or problem numbers the heading-like lines of one cell name, in order."""
    text = source if isinstance(source, str) else "".join(source)
    if cell_type == "code":  # only a comment opening the cell counts as a heading there
        first = text.lstrip().splitlines()[:1]
        lines = [first[0].lstrip("# ")] if first and first[0].lstrip().startswith("#") else []
    elif cell_type == "markdown":
        lines = text.splitlines()
    else:
        return []
    labels = []
    for line in lines:
        if match := _HEADING.match(line):
            labels.append(match.group(1) or match.group(2))
            rest = line[match.end() :]
            while more := _MORE.match(rest):
                labels.append(more.group(1))
                rest = rest[more.end() :]
    return labels


def marker_regions(cells: Sequence[dict]) -> list[tuple[int, int]]:
    """(first, last) cell indices of each otter question block: from a markdown cell holding
    `<!-- BEGIN QUESTION -->` to the next holding `<!-- END QUESTION -->` (the same cell when it holds
    both), in notebook order. A block whose end is missing runs to the next block or the notebook's end."""
    regions, start = [], None
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        source = source if isinstance(source, str) else "".join(source)
        begin, end = source.find(_BEGIN_MARKER), source.find(_END_MARKER)
        if start is not None and end >= 0 and (begin < 0 or end < begin):
            regions.append((start, index))
            start = None
        if begin >= 0:
            if start is not None:
                regions.append((start, index - 1))
            start = index
            if source.find(_END_MARKER, begin) >= 0:
                regions.append((start, index))
                start = None
    if start is not None:
        regions.append((start, len(cells) - 1))
    return regions


def question_cells(cells: Sequence[dict], label: str, known: Sequence[str] = ()) -> list[int]:
    """Indices of the cells that answer question `label`: from the first heading naming it up to the
    next heading that names another number (a `<!-- END QUESTION -->` marker ends it too). With
    `known` (the assignment's question labels), other numbers ("1.5 times larger") and headings of
    unknown sections are not taken for boundaries; the problems' own numbers always are."""
    wanted = set(known) | {k.split(".")[0] for k in known} if known else None
    inside, found = False, []
    for index, cell in enumerate(cells):
        source, kind = cell.get("source", ""), cell.get("cell_type", "")
        source = source if isinstance(source, str) else "".join(source)
        labels = [x for x in cell_labels(source, kind) if wanted is None or x in wanted or x == label]
        if (
            inside
            and kind == "markdown"
            and _END_MARKER in source
            and not cell_labels(source.split(_END_MARKER)[0], kind)
        ):
            inside = False
        if label in labels and (not inside or labels == [label]):
            inside = True
        elif labels and label not in labels:
            inside = False
        if inside:
            found.append(index)
    return found
