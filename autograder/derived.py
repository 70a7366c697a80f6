"""What a course derives from grading.yml and its data alone, kept between runs: files' digests (while
their size and modification time hold) and the values made from them (the keys, the reference figures).

One small SQLite file in the data folder's cache, shared by every output folder and command, so a rerun,
a rescore, a new output folder and a student's `assn1 check` make none of it again. It is a cache: a
damaged file is made anew, and where none can be written the values are made each time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograder.data.checksum import sha256_file

NAME = "derived.sqlite"
_TABLES = """
CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS derived (name TEXT PRIMARY KEY, made_from TEXT NOT NULL, data TEXT NOT NULL);
"""


class Derived:
    """An open cache of derived values; every write is one transaction."""

    def __init__(self, connection: sqlite3.Connection):
        self._db = connection

    def digest(self, path: Path) -> str:
        """A file's sha256, from the cache while its size and modification time are unchanged."""
        path = Path(path).resolve()
        stat = path.stat()
        row = self._db.execute("SELECT size, mtime_ns, sha256 FROM digests WHERE path = ?", (str(path),)).fetchone()
        if row and row[0] == stat.st_size and row[1] == stat.st_mtime_ns:
            return row[2]
        value = sha256_file(path)
        self._write(
            "INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?)", (str(path), stat.st_size, stat.st_mtime_ns, value)
        )
        return value

    def remember(self, name: str, made_from: str, make: Callable[[], Any]) -> Any:
        """What `make` returns (plain JSON data), kept under `name` and made again only when `made_from` (a
        digest of everything it is made from) differs from the kept one's. The value comes back through
        JSON either way, in its own order, so a kept value and a fresh one are alike."""
        row = self._db.execute("SELECT made_from, data FROM derived WHERE name = ?", (name,)).fetchone()
        if row and row[0] == made_from:
            return json.loads(row[1])
        data = json.dumps(make())
        self._write("INSERT OR REPLACE INTO derived VALUES (?, ?, ?)", (name, made_from, data))
        return json.loads(data)

    def close(self) -> None:
        self._db.close()

    def _write(self, sql: str, values: tuple) -> None:
        try:
            with self._db:
                self._db.execute(sql, values)
        except sqlite3.OperationalError:  # locked by another run for too long, or read-only: not kept this time
            pass


def open_derived(cache_dir: Path) -> Derived:
    """The course's cache in its data folder's cache folder (grading.yml's `data.cache_dir`); in memory
    when that can't be written."""
    path = Path(cache_dir) / NAME
    try:
        return Derived(_connect(path))
    except sqlite3.OperationalError:  # locked past the timeout, or a folder it can't write: not kept this time
        pass
    except sqlite3.DatabaseError:  # damaged, or no database at all: a cache is made anew, nothing is lost
        try:
            path.unlink(missing_ok=True)
            return Derived(_connect(path))
        except (OSError, sqlite3.Error):
            pass
    except OSError:
        pass
    return Derived(_connect(":memory:"))


def _connect(path: Path | str) -> sqlite3.Connection:
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30)
    try:
        db.executescript(_TABLES)
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError(f"{path}: quick_check failed")
    except BaseException:
        db.close()
        raise
    return db
