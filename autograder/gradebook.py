"""OUT/gradebook.sqlite: every graded submission, recorded as it finishes, and what graded it.

One transaction per submission (WAL mode), so an interruption loses nothing that finished and a
power cut leaves a readable file. Per submission: its name, source and content digest, the plain
observations its checks judged (so a change of points or tolerances is rescored without running it
again), each check's result, the run's concerns, notes, timing, isolation and seed, and the
fingerprints of what graded it. The CSV and results.json files are exports of it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from autograder.config import Config
from autograder.errors import Assn1Error
from autograder.judging import score_questions
from autograder.results import CheckResult, Concern, SubmissionResult

NAME = "gradebook.sqlite"
APPLICATION = "assn1-gradebook"
SCHEMA = 4
# Schema 2 added the hand-graded questions' tables; schema 3 each check's misconceptions and each
# submission's timings; schema 4 moved the data files' digests to the course's cache (`derived`),
# shared by every output folder. An older gradebook is brought up to date when opened (MIGRATIONS).
_MANUAL_TABLES = """
CREATE TABLE IF NOT EXISTS manual_scores (
    submission TEXT NOT NULL, question TEXT NOT NULL, score REAL NOT NULL, comment TEXT NOT NULL,
    grader TEXT NOT NULL, entered_at REAL NOT NULL, PRIMARY KEY (submission, question));
CREATE TABLE IF NOT EXISTS suggestions (submission TEXT PRIMARY KEY, digest TEXT NOT NULL, data TEXT NOT NULL);
"""


def _add_columns(db: sqlite3.Connection) -> None:
    """Schema 2 -> 3: each check's misconceptions, each submission's timings (columns kept if present)."""
    for table, column, declaration in (
        ("checks", "misconceptions", "TEXT NOT NULL DEFAULT '[]'"),
        ("submissions", "timings", "TEXT NOT NULL DEFAULT '{}'"),
    ):
        if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


MIGRATIONS = {  # schema -> what brings a gradebook of it one step up
    "1": lambda db: db.executescript(_MANUAL_TABLES),
    "2": _add_columns,
    "3": lambda db: db.execute("DROP TABLE IF EXISTS digests"),
}
_TABLES = (
    _MANUAL_TABLES
    + """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, workspace TEXT, started REAL NOT NULL,
    finished REAL, state TEXT NOT NULL);
CREATE TABLE submissions (
    name TEXT PRIMARY KEY, source TEXT NOT NULL, sha256 TEXT NOT NULL, observe_fp TEXT NOT NULL,
    score_fp TEXT NOT NULL, isolation TEXT NOT NULL, seed INTEGER, seconds REAL NOT NULL,
    not_graded TEXT NOT NULL, concerns TEXT NOT NULL, notes TEXT NOT NULL, observations TEXT NOT NULL,
    graded_at REAL NOT NULL, rescored_at REAL, run_id INTEGER, timings TEXT NOT NULL DEFAULT '{}');
CREATE TABLE checks (
    submission TEXT NOT NULL REFERENCES submissions(name) ON DELETE CASCADE, check_id TEXT NOT NULL,
    status TEXT NOT NULL, points REAL NOT NULL, max_points REAL NOT NULL, hidden INTEGER NOT NULL,
    message TEXT NOT NULL, concerns TEXT NOT NULL, misconceptions TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (submission, check_id));
"""
)


class GradebookError(Assn1Error):
    """The gradebook file is damaged, or is not an assn1 gradebook."""


@dataclass(frozen=True)
class ManualScore:
    """A grader's score for one hand-graded question of one submission, with who entered it and when."""

    submission: str
    question: str
    score: float
    comment: str
    grader: str
    entered_at: float


@dataclass(frozen=True)
class Stored:
    """One submission as the gradebook holds it."""

    name: str
    source: str
    sha256: str
    observe_fp: dict[str, str]
    score_fp: str
    seed: int | None
    checks: tuple[CheckResult, ...]
    observations: dict
    isolation: str
    seconds: float
    not_graded: str
    concerns: tuple[Concern, ...]
    notes: tuple[str, ...]
    graded_at: float
    rescored_at: float | None
    timings: dict = field(default_factory=dict)  # seconds per phase of its grading

    def result(self, config: Config) -> SubmissionResult:
        """The submission's result, its questions scored from its checks under `config`'s questions."""
        return SubmissionResult(
            self.name,
            self.source,
            self.isolation,
            self.seconds,
            score_questions(config, list(self.checks)),
            concerns=self.concerns,
            not_graded=self.not_graded,
            notes=self.notes,
            observations=self.observations,
            timings=self.timings,
        )


class Gradebook:
    """An open gradebook file; every write is one transaction."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self._db = connection

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._db:  # commits, or rolls back on an exception
            yield self._db

    def record(self, stored: Stored, run_id: int | None) -> None:
        """Write one submission, replacing what was stored under its name, in one transaction."""
        with self._transaction() as db:
            db.execute("DELETE FROM checks WHERE submission = ?", (stored.name,))
            db.execute(
                "INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.name,
                    stored.source,
                    stored.sha256,
                    json.dumps(stored.observe_fp, sort_keys=True),
                    stored.score_fp,
                    stored.isolation,
                    stored.seed,
                    stored.seconds,
                    stored.not_graded,
                    json.dumps([c.to_dict() for c in stored.concerns]),
                    json.dumps(list(stored.notes)),
                    json.dumps(stored.observations, sort_keys=True),
                    stored.graded_at,
                    stored.rescored_at,
                    run_id,
                    json.dumps(stored.timings, sort_keys=True),
                ),
            )
            db.executemany(
                "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        stored.name,
                        c.check_id,
                        c.status,
                        c.points,
                        c.max_points,
                        int(c.hidden),
                        c.message,
                        json.dumps([x.to_dict() for x in c.concerns]),
                        json.dumps(list(c.misconceptions)),
                    )
                    for c in stored.checks
                ],
            )

    def load(self) -> dict[str, Stored]:
        """Every stored submission by name."""
        checks: dict[str, list[CheckResult]] = {}
        for row in self._db.execute("SELECT * FROM checks ORDER BY submission, rowid"):
            submission, check_id, status, points, max_points, hidden, message, concerns, mistakes = row
            concerns = tuple(Concern.from_dict(c) for c in json.loads(concerns))
            checks.setdefault(submission, []).append(
                CheckResult(
                    check_id, status, message, points, max_points, bool(hidden), concerns, tuple(json.loads(mistakes))
                )
            )
        out = {}
        for row in self._db.execute("SELECT * FROM submissions ORDER BY name"):
            (name, source, sha, observe_fp, score_fp, isolation, seed, seconds, not_graded, concerns, notes) = row[:11]
            observations, graded_at, rescored_at, timings = *row[11:14], row[15]
            out[name] = Stored(
                name,
                source,
                sha,
                json.loads(observe_fp),
                score_fp,
                seed,
                tuple(checks.get(name, ())),
                json.loads(observations),
                isolation,
                seconds,
                not_graded,
                tuple(Concern.from_dict(c) for c in json.loads(concerns)),
                tuple(json.loads(notes)),
                graded_at,
                rescored_at,
                json.loads(timings),
            )
        return out

    def record_manual(self, scores: list[ManualScore]) -> None:
        """Store hand-entered scores (replacing earlier ones for the same submission and question), all
        in one transaction: either every one is stored or none."""
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO manual_scores VALUES (?, ?, ?, ?, ?, ?)",
                [(m.submission, m.question, m.score, m.comment, m.grader, m.entered_at) for m in scores],
            )

    def manual_scores(self) -> dict[str, dict[str, ManualScore]]:
        """The hand-entered scores, by submission and question."""
        out: dict[str, dict[str, ManualScore]] = {}
        for row in self._db.execute("SELECT * FROM manual_scores ORDER BY submission, question"):
            out.setdefault(row[0], {})[row[1]] = ManualScore(*row)
        return out

    def record_suggestions(self, submission: str, digest: str, data: list[dict]) -> None:
        """The suggested verdicts of one submission (plain data), with the digest of what they were made from."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO suggestions VALUES (?, ?, ?)", (submission, digest, json.dumps(data)))

    def suggestions(self) -> dict[str, tuple[str, list[dict]]]:
        """(digest, suggestions) by submission."""
        rows = self._db.execute("SELECT submission, digest, data FROM suggestions").fetchall()
        return {name: (digest, json.loads(data)) for name, digest, data in rows}

    def start_run(self, workspace: Path | None) -> int:
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (pid, workspace, started, state) VALUES (?, ?, ?, 'running')",
                (os.getpid(), str(workspace) if workspace else None, time.time()),
            )
            return int(cursor.lastrowid)

    def set_workspace(self, run_id: int, workspace: Path) -> None:
        with self._transaction() as db:
            db.execute("UPDATE runs SET workspace = ? WHERE id = ?", (str(workspace), run_id))

    def finish_run(self, run_id: int, state: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE runs SET finished = ?, state = ? WHERE id = ?", (time.time(), state, run_id))

    def dead_runs(self) -> list[tuple[int, int, str | None]]:
        """(id, pid, workspace) of runs recorded as running whose process is gone (killed, or a power cut)."""
        rows = self._db.execute("SELECT id, pid, workspace FROM runs WHERE state = 'running'").fetchall()
        return [(i, pid, ws) for i, pid, ws in rows if not _alive(pid) or pid == os.getpid()]


def open_gradebook(out_dir: Path, fresh: bool = False) -> Gradebook:
    """The gradebook in `out_dir`, created if absent; a damaged or foreign file is refused, never replaced,
    unless `fresh`, which keeps it as a backup and starts a new one."""
    path = (out_dir / NAME).resolve()
    if fresh and path.exists():
        backup = _backup_name(path)
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{path}{suffix}").exists():
                shutil.move(f"{path}{suffix}", f"{backup}{suffix}")
        print(f"kept the previous gradebook as {backup.name}")
    new = not path.exists()
    try:
        db = sqlite3.connect(path, timeout=30, isolation_level="DEFERRED")
        if new:
            db.execute("PRAGMA journal_mode=WAL")
            with db:
                db.executescript(_TABLES)
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)", [("application", APPLICATION), ("schema", str(SCHEMA))]
                )
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("quick_check failed")
    except sqlite3.DatabaseError as exc:
        raise GradebookError(
            f"{path} is not a readable assn1 gradebook ({exc}); move it away, or pass --fresh to keep it as a "
            "backup and start a new one."
        ) from None
    while meta.get("application") == APPLICATION and meta.get("schema") in MIGRATIONS:
        with db:  # one schema step at a time, each in a transaction
            MIGRATIONS[meta["schema"]](db)
            meta["schema"] = str(int(meta["schema"]) + 1)
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (meta["schema"],))
    if meta.get("application") != APPLICATION or meta.get("schema") != str(SCHEMA):
        db.close()
        raise GradebookError(
            f"{path} is not an assn1 gradebook of schema {SCHEMA}; pass --fresh to keep it as a backup and start a new one."
        )
    db.execute("PRAGMA foreign_keys=ON")
    return Gradebook(path, db)


def _backup_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, n = path.with_name(f"{path.stem}.{stamp}.bak"), 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}.{stamp}-{n}.bak")
    return candidate


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
