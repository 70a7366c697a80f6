"""The hand-graded questions over a gradebook's submissions: each one's answers (from its executed
notebook) and its formulas' suggested verdicts, cached in the gradebook, and `manual_suggestions.csv`.

A suggestion is never a grade: it goes to the grader (this CSV, the template's `suggestion` column, the
manual pages) and nowhere into the scores.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from autograder.config import Config
from autograder.gradebook import Gradebook, Stored
from autograder.manual.extract import (
    _IMAGE_TYPES,
    Answer,
    extract_answers,
    known_labels,
    template_texts,
    written_questions,
)
from autograder.manual.formulas import DEFAULT_PARSER, Judge, Suggestion, suggest

SUGGESTIONS_CSV = "manual_suggestions.csv"
SUGGESTIONS_VERSION = "1"  # bump when extraction or judging changes what a stored suggestion would be
EXECUTED = "executed.ipynb"
MAX_NOTEBOOK_BYTES = 64 << 20
MAX_IMAGE_BYTES = 10 << 20
MAX_IMAGES = 50


def read_submission(out_dir: Path, stored: Stored) -> tuple[dict | None, dict[str, bytes]]:
    """The notebook to read for a submission (its executed copy in OUT, else the file it submitted) and
    the image files submitted beside it (a zip's members with an image suffix, within size limits)."""
    executed = out_dir / stored.name / EXECUTED
    source = Path(stored.source)
    notebook, images = None, {}
    if executed.is_file() and executed.stat().st_size <= MAX_NOTEBOOK_BYTES:
        notebook = _json(executed.read_bytes())
    if source.suffix == ".zip" and source.is_file():
        try:
            with zipfile.ZipFile(source) as archive:
                for info in archive.infolist():
                    path = PurePosixPath(info.filename)
                    if info.is_dir() or path.is_absolute() or ".." in path.parts:
                        continue
                    if notebook is None and path.suffix == ".ipynb" and info.file_size <= MAX_NOTEBOOK_BYTES:
                        notebook = _json(archive.read(info))
                    elif (
                        path.suffix.lower() in _IMAGE_TYPES
                        and info.file_size <= MAX_IMAGE_BYTES
                        and len(images) < MAX_IMAGES
                    ):
                        images[path.as_posix()] = archive.read(info)
        except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
            pass
    elif (
        notebook is None
        and source.suffix == ".ipynb"
        and source.is_file()
        and source.stat().st_size <= MAX_NOTEBOOK_BYTES
    ):
        notebook = _json(source.read_bytes())
    return notebook, images


def read_answers(config: Config, out_dir: Path, stored: Stored) -> dict[str, Answer]:
    """Each hand-graded question's answer in a stored submission (method "none" when its notebook can't be read)."""
    written = written_questions(config)
    notebook, images = read_submission(out_dir, stored)
    template = template_texts(config.build.master)
    return extract_answers(notebook or {}, written, known_labels(config), template, images)


def formulas_by_question() -> dict[str, tuple]:
    from autograder.suite import FORMULAS

    out: dict[str, tuple] = {}
    for formula in FORMULAS.values():
        out[formula.question] = (*out.get(formula.question, ()), formula)
    return out


def suggestions_for(answers: dict[str, Answer], judge: Judge) -> list[Suggestion]:
    """Every declared formula's suggestion for one submission's answers."""
    out = []
    for question, formulas in formulas_by_question().items():
        answer = answers.get(question) or Answer(question, "", "none")
        out += [suggest(answer, f, judge, formulas) for f in formulas]
    return out


def refresh_suggestions(
    config: Config,
    out_dir: Path,
    gradebook: Gradebook,
    parser: str = DEFAULT_PARSER,
    progress: Callable[[str], None] | None = None,
    judge: Judge | None = None,
) -> dict[str, list[Suggestion]]:
    """The suggestions of every stored submission, computed for those whose notebook (or the judging)
    changed since they were stored, and stored again; the others read from the gradebook. `judge`: one
    the caller started (and closes); else one is started when needed and closed here."""
    stored = gradebook.load()
    held = gradebook.suggestions()
    out: dict[str, list[Suggestion]] = {}
    own = judge is None
    try:
        for name, submission in stored.items():
            digest = _digest(out_dir, submission, parser)
            if name in held and held[name][0] == digest:
                out[name] = [Suggestion(**s) for s in held[name][1]]
                continue
            if judge is None:
                judge = Judge(parser)
            if progress:
                progress(name)
            out[name] = suggestions_for(read_answers(config, out_dir, submission), judge)
            gradebook.record_suggestions(name, digest, [dataclasses.asdict(s) for s in out[name]])
    finally:
        if own and judge is not None:
            judge.close()
    return out


def write_suggestions(suggestions: dict[str, list[Suggestion]], path: Path) -> None:
    """manual_suggestions.csv: one row per submission and formula, for the grader (never a score)."""
    from autograder.reports import write_csv

    rows = [["submission", "question", "formula", "verdict", "parsed_expression", "note", "student_latex"]]
    for name in sorted(suggestions):
        for s in suggestions[name]:
            rows.append([name, s.question, s.formula.split(".")[-1], s.verdict, s.parsed, s.note, s.latex])
    write_csv(rows, path)


def _digest(out_dir: Path, stored: Stored, parser: str) -> str:
    """What a submission's suggestions depend on: its files, the declarations, the judging code's version."""
    from autograder.suite import FORMULAS, WRITTEN

    h = hashlib.sha256()
    h.update(f"{SUGGESTIONS_VERSION}:{parser}:{stored.sha256}".encode())
    h.update(repr(sorted((k, dataclasses.astuple(v)) for k, v in FORMULAS.items())).encode())
    h.update(repr(sorted(WRITTEN.items())).encode())
    executed = out_dir / stored.name / EXECUTED
    if executed.is_file():
        h.update(hashlib.sha256(executed.read_bytes()).digest())
    return h.hexdigest()


def _json(data: bytes) -> dict | None:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None
