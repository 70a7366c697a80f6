"""Problem 4 data: calcium image segments in the course format, generated or fetched.

Format (the course's): `real_{i}.gz` / `fake_{i}.gz`, each a gzip of raw little-endian float32
images of 128 x 128, 2,048 per file at full size. Generation streams one chunk of images at a
time into the gzip stream, so memory stays at a few chunks whatever the segment size, and runs
the files in parallel processes. A manifest beside the files records how each was made and its
digest, so generating again skips what is already there.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from autograder.config import Config
from autograder.data import calcium
from autograder.data.checksum import sha256_file
from autograder.errors import DataError

MANIFEST = "problem4_manifest.json"
IMAGE_BYTES = calcium.SIDE * calcium.SIDE * 4


@dataclass(frozen=True)
class SegmentFile:
    """One generated file and how it was made."""

    name: str
    seed: int
    segment: int
    kind: str
    images: int
    sha256: str


def segment_name(kind: str, segment: int) -> str:
    return f"{kind}_{segment:d}.gz"


def write_segment(path: Path, seed: int, segment: int, kind: str, images: int) -> SegmentFile:
    """Write `images` images of one segment and kind to `path` (atomically), chunk by chunk."""
    if images <= 0 or images % calcium.CHUNK:
        raise DataError(f"images per segment must be a positive multiple of {calcium.CHUNK}; got {images}.")
    tmp = path.with_name(path.name + ".tmp")
    # No name or time in the gzip header: one seed gives the same bytes on every run.
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", compresslevel=1, fileobj=raw, mtime=0) as out:
        for chunk in range(images // calcium.CHUNK):
            out.write(calcium.draw_images(seed, segment, kind, chunk).astype("<f4", copy=False).tobytes())
    os.replace(tmp, path)
    return SegmentFile(path.name, seed, segment, kind, images, sha256_file(path))


def _write_task(task: tuple) -> SegmentFile:
    path, seed, segment, kind, images = task
    return write_segment(Path(path), seed, segment, kind, images)


def read_manifest(data_dir: Path) -> dict[str, SegmentFile]:
    path = data_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        return {e["name"]: SegmentFile(**e) for e in json.loads(path.read_text(encoding="utf-8"))["files"]}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: unreadable manifest ({exc}); delete it and generate again.") from None


def _write_manifest(data_dir: Path, entries: dict[str, SegmentFile]) -> None:
    path = data_dir / MANIFEST
    tmp = path.with_name(path.name + ".tmp")
    files = [asdict(e) for e in sorted(entries.values(), key=lambda e: (e.segment, e.kind))]
    tmp.write_text(json.dumps({"files": files}, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def generate(
    config: Config,
    segments: Iterable[int] | None = None,
    images_per_segment: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    on_file: Callable[[SegmentFile, bool], None] | None = None,
) -> list[SegmentFile]:
    """Write the real and fake files of `segments` into data/, skipping files already made alike.

    `on_file(entry, reused)` is called as each file is ready (for progress). Refuses to replace a
    file that the manifest does not know (such as a downloaded course file).
    """
    gen = config.data.problem4.generate
    segments = sorted(set(gen.segments if segments is None else segments))
    images = gen.images_per_segment if images_per_segment is None else images_per_segment
    seed = gen.seed if seed is None else seed
    data_dir = config.data.dir
    data_dir.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(data_dir)
    todo, done = [], []
    for segment in segments:
        if not 0 <= segment < config.data.problem4.segments:
            raise DataError(f"segment {segment} is out of range 0-{config.data.problem4.segments - 1}.")
        for kind in calcium.KINDS:
            name = segment_name(kind, segment)
            path = data_dir / name
            wanted = (seed, segment, kind, images)
            known = manifest.get(name)
            if known and (known.seed, known.segment, known.kind, known.images) == wanted and path.exists():
                if sha256_file(path) == known.sha256:
                    done.append(known)
                    if on_file:
                        on_file(known, True)
                    continue
            if path.exists() and known is None:
                raise DataError(f"{path} was not generated here (no manifest entry); move it away to generate.")
            todo.append((str(path), *wanted))
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for entry in pool.map(_write_task, todo):
            done.append(entry)
            manifest[entry.name] = entry
            _write_manifest(data_dir, manifest)
            if on_file:
                on_file(entry, False)
    return done


def read_segment(path: str | Path) -> np.ndarray:
    """All images of one file as float32 (N, 128, 128), checking the course format on the way."""
    blocks = list(iter_images(Path(path)))
    if not blocks:
        raise DataError(f"{path}: holds no images.")
    return np.concatenate(blocks)


@dataclass(frozen=True)
class TestSet:
    """The decompressed test segments: images (N, 128, 128, 1) float32 and labels (N,) uint8 as .npy
    files that every worker memory-maps, and their digests."""

    images: Path
    labels: Path
    count: int
    sha256: str


def iter_images(path: Path, per_read: int = calcium.CHUNK):
    """Yield float32 (k, 128, 128) blocks of a segment file, reading it as a stream."""
    try:
        with gzip.open(path, "rb") as fh:
            while block := fh.read(per_read * IMAGE_BYTES):
                if len(block) % IMAGE_BYTES:
                    raise DataError(f"{path}: ends inside an image; the file is truncated or not in the course format.")
                yield np.frombuffer(block, dtype="<f4").reshape(-1, calcium.SIDE, calcium.SIDE)
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable gzip file ({exc}).") from None


def test_set(data_dir: Path, cache_dir: Path, test_segments: Iterable[int]) -> TestSet:
    """The test segments decompressed once into the cache folder, reused while their sources are unchanged.

    The cache is named by the digest of the source files and checked against its own recorded digest
    each time it is reused; a stale or damaged cache is rebuilt. Digests come from the course's cache
    while a file's size and modification time hold (`derived`), so a reuse reads no file whole.
    """
    from autograder.derived import open_derived

    sources = []
    for segment in test_segments:
        for kind in calcium.KINDS:
            path = Path(data_dir) / segment_name(kind, segment)
            if not path.is_file():
                raise DataError(
                    f"{path} is missing: the P4 test segments are needed to grade the models; run "
                    f"`assn1 data generate --problem 4` (stand-ins) or `assn1 data fetch --problem 4`."
                )
            sources.append(path)
    with closing(open_derived(cache_dir)) as derived:
        tag = hashlib.sha256("".join(derived.digest(p) for p in sources).encode()).hexdigest()[:16]
        folder = Path(cache_dir) / f"p4_test_{tag}"
        meta_file, images = folder / "meta.json", folder / "images.npy"
        if meta_file.exists():
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            if images.is_file() and derived.digest(images) == meta["sha256"]:
                _readable_by_all(folder)
                return TestSet(images, folder / "labels.npy", meta["count"], meta["sha256"])
            shutil.rmtree(folder)
    return _build_test_set(sources, folder)


def _build_test_set(sources: list[Path], folder: Path) -> TestSet:
    """Decompress the sources once into images.npy, sized from gzip's own length field.

    That field holds only the last gzip member's length (mod 4 GiB); when it does not match what the
    stream holds, the images are counted in a first pass instead.
    """
    try:
        return _write_test_set(sources, folder, [_recorded_size(path) // IMAGE_BYTES for path in sources])
    except _CountMismatch:
        return _write_test_set(sources, folder, [sum(map(len, iter_images(path, per_read=1024))) for path in sources])


class _CountMismatch(Exception):
    """A segment held another number of images than its gzip length field said."""


def _recorded_size(path: Path) -> int:
    with open(path, "rb") as fh:
        fh.seek(-4, os.SEEK_END)
        return int.from_bytes(fh.read(4), "little")


def _write_test_set(sources: list[Path], folder: Path, counts: list[int]) -> TestSet:
    total = sum(counts)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    digest = hashlib.sha256()
    try:
        with open(tmp / "images.npy", "wb") as out:
            header = io.BytesIO()
            shape = (total, calcium.SIDE, calcium.SIDE, 1)
            np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": shape})
            parts = [[header.getvalue()]] + [_checked_blocks(path, n) for path, n in zip(sources, counts)]
            for data in itertools.chain.from_iterable(parts):
                out.write(data)
                digest.update(data)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    labels = np.repeat([calcium.KINDS.index(p.name.split("_")[0]) for p in sources], counts).astype(np.uint8)
    np.save(tmp / "labels.npy", labels)
    meta = {"count": total, "sha256": digest.hexdigest()}
    (tmp / "meta.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    _readable_by_all(tmp)
    try:
        os.rename(tmp, folder)
    except OSError:  # another batch built it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    return TestSet(folder / "images.npy", folder / "labels.npy", total, meta["sha256"])


def _readable_by_all(folder: Path) -> None:
    """Let every user read the cache (a grader that is not root may share it); where it already is, nothing."""
    for path, mode in ((folder, 0o755), *((p, 0o644) for p in folder.iterdir())):
        if path.stat().st_mode & mode != mode:
            os.chmod(path, mode)


def _checked_blocks(path: Path, expected: int):
    """The raw bytes of a segment's images, raising _CountMismatch unless there are exactly `expected`."""
    seen = 0
    for block in iter_images(path):
        seen += len(block)
        if seen > expected:
            raise _CountMismatch(path)
        yield memoryview(np.ascontiguousarray(block)).cast("B")
    if seen != expected:
        raise _CountMismatch(path)
