"""Check what is in data/: each known file's size, checksum, format, and whether its key matches."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.config import Config
from autograder.data import calcium, problem1, problem4
from autograder.data.checksum import sha256_file
from autograder.data.fetch import part_path
from autograder.errors import DataError


@dataclass(frozen=True)
class FileReport:
    """One line of `assn1 data verify`: a file, whether it is usable, and why."""

    path: Path
    ok: bool
    message: str


def verify_data(config: Config) -> list[FileReport]:
    """Report on every data file the assignment knows, plus leftovers such as partial downloads."""
    reports = _verify_problem1(config) + _verify_problem4(config)
    known = {r.path for r in reports} | {config.data.dir / problem4.MANIFEST}
    for folder in (config.data.dir, config.data.answer_key_dir):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path in known or not path.is_file() or path.name.startswith("."):
                continue
            if path.name.endswith(".part"):
                reports.append(FileReport(path, False, "incomplete download; run `assn1 data fetch` to resume it."))
            elif path.name.endswith(".tmp"):
                reports.append(FileReport(path, False, "left over from an interrupted write; delete it."))
    return reports


def _verify_problem4(config: Config) -> list[FileReport]:
    """Each calcium file present, and the test segments grading needs: generated here or a configured course file."""
    p4 = config.data.problem4
    manifest = problem4.read_manifest(config.data.dir)
    names = [problem4.segment_name(k, s) for s in range(p4.segments) for k in calcium.KINDS]
    required = {problem4.segment_name(k, s) for s in p4.test_segments for k in calcium.KINDS}
    reports = []
    for name in names:
        path = config.data.dir / name
        if not path.exists():
            if name in required:
                hint = "`assn1 data fetch --problem 4`" if name in p4.sources else "`assn1 data generate --problem 4`"
                reports.append(FileReport(path, False, f"missing (a P4 test segment); run {hint}."))
            continue
        digest = sha256_file(path)
        entry, source = manifest.get(name), p4.sources.get(name)
        if source is not None and digest == source.sha256:
            reports.append(FileReport(path, True, "course file, sha256 verified."))
        elif entry is not None and digest == entry.sha256:
            reports.append(FileReport(path, True, f"generated stand-in (seed {entry.seed}, {entry.images:,} images)."))
        else:
            reports.append(FileReport(path, False, "neither generated here nor a configured course file (sha256)."))
    return reports


def _verify_problem1(config: Config) -> list[FileReport]:
    path = problem1.data_path(config)
    key_file = problem1.key_path(config)
    source = config.data.problem1.source
    if not path.exists():
        hint = " (a partial download is present)" if part_path(path).exists() else ""
        return [
            FileReport(path, False, f"missing{hint}; run `assn1 data fetch` (course file) or `assn1 data generate`.")
        ]
    digest = sha256_file(path)
    try:
        X, y = problem1.load_xy(path, config.data.problem1.generate.n_cols)
    except DataError as exc:
        return [FileReport(path, False, str(exc).removeprefix(f"{path}: "))]
    shape = f"X {X.shape} float64, y {y.shape} float64"
    if digest == source.sha256:
        report = FileReport(path, True, f"course file, sha256 verified; {shape}.")
        return [report] + _key_report(key_file, digest, required=False)
    key = _read_key_or_none(key_file)
    if key is not None and key.data_sha256 == digest:
        return [
            FileReport(path, True, f"generated look-alike (seed {key.seed}); {shape}."),
            FileReport(key_file, True, f"answer key matches {path.name} ({len(key.support)} nonzero coefficients)."),
        ]
    return [
        FileReport(
            path,
            False,
            "neither the course file (sha256 differs) nor the file its answer key was made for; "
            "run `assn1 data fetch` or `assn1 data generate`.",
        )
    ] + _key_report(key_file, digest, required=True)


def _key_report(key_file: Path, data_digest: str, required: bool) -> list[FileReport]:
    if not key_file.exists():
        return [] if not required else [FileReport(key_file, False, "missing; run `assn1 data generate`.")]
    try:
        key = problem1.read_key(key_file)
    except DataError as exc:
        return [FileReport(key_file, False, str(exc).removeprefix(f"{key_file}: "))]
    if key.data_sha256 != data_digest:
        # With the course file in place a stale key is harmless: the real data's key lives in grading.yml.
        return [FileReport(key_file, not required, "made for another problem1_Xy.pkl; not used.")]
    return [FileReport(key_file, True, "answer key matches the data file.")]


def _read_key_or_none(key_file: Path) -> problem1.Problem1Truth | None:
    try:
        return problem1.read_key(key_file)
    except DataError:
        return None
