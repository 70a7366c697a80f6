"""Each hand-graded question's answer in a notebook: its text, LaTeX, code and images, and how it was found.

Notebooks from our template hold each hand-graded answer between otter's `<!-- BEGIN QUESTION -->` and
`<!-- END QUESTION -->` markers (method "markers"). Students also copy cells into fresh notebooks or use
last term's template; there the answer is taken from the cells after the question's heading ("2.1",
"### 2.1 ...", "Problem 2.1", bold "**2.1**") up to the next question (method "heading", through
`autograder.spans`), or, for a question without a numbered heading of its own (4.0), after its
prompt's line (method "prompt"). Nothing found: method "none".

Everything here is the submission's text kept as text. Images are data: attachments, inline `data:`
URIs, image outputs and (when the caller hands over the submission's files) images saved beside the
notebook; a link to anything else is recorded as "image not submitted" and never fetched.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from autograder.spans import cell_labels, marker_regions, question_cells, question_label

Method = Literal["markers", "heading", "prompt", "none"]
PartKind = Literal["markdown", "code", "output", "image", "missing image"]

PLACEHOLDER = "_Type your answer here, replacing this text._"  # otter's empty answer cell
NOT_SUBMITTED = "image not submitted"
MAX_OUTPUT_CHARS = 20_000  # a code cell's text output kept per answer
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
_OUTPUT_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
_OUTPUT_TEXTS = ("text/latex", "text/markdown", "text/plain")
_MD_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+[\"'][^)]*[\"'])?\s*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?(?P<target>[^\"'\s>]+)", re.IGNORECASE)
_DATA_URI = re.compile(r"data:(?P<mime>image/[\w.+-]+);base64,(?P<data>[A-Za-z0-9+/=\s]+)$")
_POINTS_LINE = re.compile(r"^\s*_Points:_\s*[\d.]+\s*$")
_BOLD_LINE = re.compile(r"^\s*\*\*.+\*\*\s*$")
_BEGIN, _END = "<!-- BEGIN QUESTION -->", "<!-- END QUESTION -->"


@dataclass(frozen=True)
class Part:
    """One piece of an answer, in notebook order. `text`: markdown or code source, an output's text, an
    image's alt text; `mime` and `data` (base64, as the notebook holds it): an image's bytes; `where`:
    where an image came from ("attachment", "output", "inline data", "file NAME"), or for a missing
    image what it pointed to."""

    kind: PartKind
    cell: int
    text: str = ""
    mime: str = ""
    data: str = ""
    where: str = ""


@dataclass(frozen=True)
class Answer:
    """A hand-graded question's answer in one notebook, and the method that found it."""

    question: str
    label: str
    method: Method
    cells: tuple[int, ...] = ()
    parts: tuple[Part, ...] = ()

    @property
    def text(self) -> str:
        """The answer's markdown, code and text outputs, one part a paragraph."""
        return "\n\n".join(p.text for p in self.parts if p.kind in ("markdown", "code", "output") and p.text)

    @property
    def images(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.kind in ("image", "missing image"))

    @property
    def blank(self) -> bool:
        """True when nothing was written: no text beyond the template's, no image."""
        return not self.images and not any(p.text.strip() for p in self.parts)


@dataclass(frozen=True)
class Written:
    """Where one hand-graded question's answer sits in a notebook that lost otter's markers: after a
    heading naming `label`, or (for a question without a numbered heading, like 4.0) after a line of
    its prompt matching one of `prompts` (regular expressions, case-insensitive)."""

    question: str
    label: str
    prompts: tuple[str, ...] = ()


def normalized(text: str) -> str:
    """A cell's text with its whitespace collapsed: how template cells are recognised."""
    return " ".join(text.split())


def template_texts(master: Path) -> frozenset[str]:
    """The markdown the template itself gives students (headings, prompts; not solutions), normalized,
    read from the master notebook: cells of it in a submission are not the student's answer."""
    try:
        cells = json.loads(master.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return frozenset({normalized(PLACEHOLDER)})
    texts, in_solution = {normalized(PLACEHOLDER)}, False
    for cell in cells:
        source = _source(cell)
        if cell.get("cell_type") == "raw":
            first = source.strip().splitlines()[:1]
            if first == ["# BEGIN SOLUTION"]:
                in_solution = True
            elif first == ["# END SOLUTION"]:
                in_solution = False
        elif cell.get("cell_type") == "markdown" and not in_solution and source.strip():
            texts.add(normalized(source))
    return frozenset(texts)


def extract_answers(
    notebook: Mapping,
    written: Sequence[Written],
    known: Sequence[str] = (),
    template: frozenset[str] = frozenset(),
    files: Mapping[str, bytes] | None = None,
) -> dict[str, Answer]:
    """Each question of `written` with its answer in `notebook` (a notebook as a JSON dict).

    `known`: every question label of the assignment (headings of other numbers are no boundaries);
    `template`: normalized texts of the template's own cells, left out of answers; `files`: the
    submission's other files by relative path (images linked from markdown are read from these only)."""
    cells = [c for c in notebook.get("cells", []) if isinstance(c, Mapping)]
    files = files or {}
    by_marker = _marker_answers(cells, written)
    out = {}
    for w in written:
        if w.question in by_marker:
            first, last = by_marker[w.question]
            indices = range(first, last + 1)
            parts = [p for i in indices for p in _marker_cell_parts(cells[i], i, first, last, template, files)]
            out[w.question] = Answer(w.question, w.label, "markers", tuple(indices), tuple(parts))
            continue
        method, indices = "heading", question_cells(cells, w.label, known) if w.label else []
        if not indices and w.prompts:
            method, indices = "prompt", _after_prompt(cells, w.prompts, known)
        if not indices:
            out[w.question] = Answer(w.question, w.label, "none")
            continue
        parts = [p for i in indices for p in _span_cell_parts(cells[i], i, w, template, files)]
        out[w.question] = Answer(w.question, w.label, method, tuple(indices), tuple(parts))
    return out


def written_questions(config, prompts: Mapping[str, tuple[str, ...]] | None = None) -> list[Written]:
    """The configuration's hand-graded questions in order, each with the label its title starts with
    and any prompt patterns declared for it (`autograder.suite.WRITTEN`)."""
    if prompts is None:
        from autograder.suite import WRITTEN as prompts
    return [
        Written(name, question_label(q.title) or "", tuple(prompts.get(name, ())))
        for p in config.problems.values()
        for name, q in p.questions.items()
        if q.manual
    ]


def known_labels(config) -> list[str]:
    """Every question label of the configuration (from the titles), for heading boundaries."""
    return sorted(
        {label for p in config.problems.values() for q in p.questions.values() if (label := question_label(q.title))}
    )


def _marker_answers(cells: list, written: Sequence[Written]) -> dict[str, tuple[int, int]]:
    """Which question each otter block answers: the label its first cell names ("**2.1 Derivation.**"),
    or else the next hand-graded question in order after the previous block's (otter marks only the
    hand-graded questions, in notebook order)."""
    order = [w.question for w in written]
    by_label = {w.label: w.question for w in written if w.label}
    out, position = {}, 0
    for first, last in marker_regions(cells):
        text = _source(cells[first]).split(_BEGIN, 1)[-1]
        labels = [x for x in cell_labels(text, "markdown") if x in by_label]
        question = by_label[labels[0]] if labels else (order[position] if position < len(order) else None)
        if question is None or question in out:
            continue
        out[question] = (first, last)
        position = order.index(question) + 1
    return out


def _marker_cell_parts(cell, index, first, last, template, files) -> list[Part]:
    source = _source(cell)
    if index == first and _BEGIN in source:  # the block's prompt: marker, bold title, points line
        after = source.split(_BEGIN, 1)[1]
        if _END in after:
            after = after.split(_END, 1)[0]
        lines = [line for line in after.splitlines() if not _POINTS_LINE.match(line)]
        while lines and not lines[0].strip():
            lines.pop(0)
        if lines and _BOLD_LINE.match(lines[0]):
            lines.pop(0)
        return _markdown_parts("\n".join(lines), cell, index, template, files)
    if index == last and _END in source:
        return _markdown_parts(source.split(_END, 1)[0], cell, index, template, files)
    return _cell_parts(cell, index, template, files)


def _span_cell_parts(cell, index, written: Written, template, files) -> list[Part]:
    """A cell of a heading span: its heading lines naming the question left out."""
    if cell.get("cell_type") == "markdown" and normalized(_source(cell)) not in template:
        kept = [
            line
            for line in _source(cell).splitlines()
            if written.label not in cell_labels(line, "markdown")
            and not any(re.search(p, line, re.IGNORECASE) for p in written.prompts)
        ]
        return _markdown_parts("\n".join(kept), cell, index, template, files)
    return _cell_parts(cell, index, template, files)


def _after_prompt(cells: list, prompts: Sequence[str], known: Sequence[str]) -> list[int]:
    """The cells after the first markdown line matching a prompt, up to the next heading (numbered, or a
    markdown "#" line) or question block."""
    start = next(
        (
            i
            for i, c in enumerate(cells)
            if c.get("cell_type") == "markdown" and any(re.search(p, _source(c), re.IGNORECASE) for p in prompts)
        ),
        None,
    )
    if start is None:
        return []
    found = [start]
    for index in range(start + 1, len(cells)):
        cell = cells[index]
        text = _source(cell)
        heading = cell.get("cell_type") == "markdown" and re.search(r"^\s{0,3}#", text, re.MULTILINE)
        if cell_labels(text, cell.get("cell_type", "")) or heading or _BEGIN in text:
            break
        found.append(index)
    return found


def _cell_parts(cell, index, template, files) -> list[Part]:
    kind = cell.get("cell_type")
    if kind == "markdown":
        return _markdown_parts(_source(cell), cell, index, template, files)
    if kind != "code":
        return []
    parts = []
    source = _source(cell)
    if source.strip() and normalized(source) not in template:
        parts.append(Part("code", index, source))
    for output in cell.get("outputs", []) or []:
        parts += _output_parts(output, index)
    return parts


def _markdown_parts(text: str, cell, index, template, files) -> list[Part]:
    text = text.replace(PLACEHOLDER, "").strip()
    if not text or normalized(text) in template:
        return []
    parts = [Part("markdown", index, text)]
    attachments = cell.get("attachments") or {}
    targets = [(m.group("alt"), m.group("target")) for m in _MD_IMAGE.finditer(text)]
    targets += [("", m.group("target")) for m in _HTML_IMAGE.finditer(text)]
    for alt, target in targets:
        parts.append(_image(alt, target, attachments, files, index))
    return parts


def _image(alt: str, target: str, attachments: Mapping, files: Mapping[str, bytes], index: int) -> Part:
    """An image a markdown cell shows: its bytes when the submission holds them, else "image not submitted"."""
    if target.startswith("attachment:"):
        name = target[len("attachment:") :]
        bundle = attachments.get(name) if isinstance(attachments, Mapping) else None
        for mime, data in (bundle or {}).items():
            if mime.startswith("image/") and isinstance(data, str):
                return Part("image", index, alt, mime, "".join(data.split()), "attachment")
        return Part("missing image", index, alt, where=f"{NOT_SUBMITTED}: attachment {name} is not in the notebook")
    if match := _DATA_URI.match(target):
        return Part("image", index, alt, match.group("mime"), "".join(match.group("data").split()), "inline data")
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, file:, ... never fetched
        return Part("missing image", index, alt, where=f"{NOT_SUBMITTED}: a link to {target} (links are not followed)")
    path = PurePosixPath(target.split("?")[0].split("#")[0]).as_posix().lstrip("./")
    mime = _IMAGE_TYPES.get(PurePosixPath(path).suffix.lower())
    if path in files and mime:
        return Part("image", index, alt, mime, base64.b64encode(files[path]).decode("ascii"), f"file {path}")
    return Part("missing image", index, alt, where=f"{NOT_SUBMITTED}: {target} is not in the submission")


def _output_parts(output: Mapping, index: int) -> list[Part]:
    kind = output.get("output_type")
    if kind == "stream":
        text = _joined(output.get("text", ""))
        return [Part("output", index, text[:MAX_OUTPUT_CHARS])] if text.strip() else []
    if kind not in ("display_data", "execute_result"):
        return []
    data = output.get("data") or {}
    for mime in _OUTPUT_IMAGES:
        if isinstance(data.get(mime), (str, list)):
            payload = _joined(data[mime])
            if mime == "image/svg+xml":  # notebooks keep SVG as text: base64 like the others, shown as an image only
                payload = base64.b64encode(payload.encode("utf-8")).decode("ascii")
            else:
                payload = "".join(payload.split())
            return [Part("image", index, "", mime, payload, "output")]
    for mime in _OUTPUT_TEXTS:
        if isinstance(data.get(mime), (str, list)):
            text = _joined(data[mime])
            return [Part("output", index, text[:MAX_OUTPUT_CHARS], mime)] if text.strip() else []
    return []


def _source(cell: Mapping) -> str:
    return _joined(cell.get("source", ""))


def _joined(value) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""
