"""grading.yml, read once into frozen dataclasses.

The dataclasses below are the schema: every key is required unless its field has a default
(tolerances, a question's checks), an unknown key is an error, and each value must have the
annotated type. Errors name the file and the dotted key in one line,
before any notebook runs. Relative paths are resolved against the folder of grading.yml.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import yaml

from autograder.errors import ConfigError

CONFIG_NAME = "grading.yml"


@dataclass(frozen=True)
class CheckSettings:
    """Points, visibility and tolerances of one automatic check of a question."""

    points: float
    hidden: bool
    rtol: float = 1e-6
    atol: float = 0.0
    params: dict[str, float] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    title: str
    points: float
    manual: bool
    checks: dict[str, CheckSettings] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    title: str
    points: float
    questions: dict[str, Question]


@dataclass(frozen=True)
class Assignment:
    title: str
    seed: int


@dataclass(frozen=True)
class Limits:
    cell_timeout_s: float
    notebook_timeout_s: float
    memory_mb: int
    max_processes: int
    cpu_time_s: float
    probe_call_timeout_s: float
    probe_budget_s: float
    file_memory_mb: int  # one grader-side process that reads a submitted file (loads a model)
    file_timeout_s: float


@dataclass(frozen=True)
class RemoteSource:
    """Where a real data file can be downloaded, and the bytes it must have."""

    url: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Download:
    connect_timeout_s: float
    retries: int


@dataclass(frozen=True)
class Problem1Generate:
    """Parameters of the problem-1 look-alike: a sparse linear model with one weak signal."""

    seed: int
    n_rows: int
    n_cols: int
    n_strong: tuple[int, int]
    strong_magnitude: tuple[float, float]
    weak_magnitude: tuple[float, float]
    sigma: tuple[float, float]


@dataclass(frozen=True)
class CourseKey:
    """The answer key for the course's real file, whose truth is unknown: columns whose signal is
    beyond doubt (`strong`, required in S_hat) and ones that may go either way (`plausible`)."""

    strong: list[int]
    plausible: list[int]


@dataclass(frozen=True)
class Problem1Data:
    file: str
    source: RemoteSource
    generate: Problem1Generate
    course_key: CourseKey
    strong_t: float


@dataclass(frozen=True)
class Problem4Generate:
    """What `assn1 data generate --problem 4` writes by default."""

    seed: int
    images_per_segment: int
    segments: list[int]


@dataclass(frozen=True)
class Problem4Data:
    """The calcium image segments: which ones train and test, how to make or download them."""

    segments: int
    train_segments: list[int]
    test_segments: list[int]
    generate: Problem4Generate
    # file name (e.g. real_7.gz) -> where to download it; empty means generate instead
    sources: dict[str, RemoteSource] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Data:
    dir: Path
    answer_key_dir: Path
    cache_dir: Path
    download: Download
    notebook_files: list[str]
    problem1: Problem1Data
    problem4: Problem4Data


@dataclass(frozen=True)
class Build:
    """Where `assn1 build` reads the master notebook and writes what it makes."""

    master: Path
    student_dir: Path
    dist_dir: Path


@dataclass(frozen=True)
class StudentEnvironment:
    """The environment students wrote their notebooks in (their term's Google Colab): student code is
    graded with exactly these versions, built into `dir` by `assn1 env create`."""

    name: str
    python: str  # major.minor, as students have it, e.g. "3.13"
    dir: Path
    packages: dict[str, str]  # distribution name -> exact version


@dataclass(frozen=True)
class Config:
    assignment: Assignment
    problems: dict[str, Problem]
    limits: Limits
    data: Data
    build: Build
    environment: StudentEnvironment
    path: Path = dataclasses.field(default=Path(CONFIG_NAME), compare=False)

    @property
    def total_points(self) -> float:
        return sum(p.points for p in self.problems.values())


def load_config(path: str | Path) -> Config:
    """Read and validate grading.yml; raise ConfigError naming the file and key on any problem."""
    path = Path(path).resolve()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; pass --config PATH to a grading.yml.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: should hold a mapping of sections; got {type(raw).__name__}.")
    config = _build(Config, raw, "", path)
    root = path.parent
    config = dataclasses.replace(
        config,
        path=path,
        data=_resolve_paths(config.data, root),
        build=Build(*(root / getattr(config.build, f.name) for f in dataclasses.fields(Build))),
        environment=dataclasses.replace(config.environment, dir=(root / config.environment.dir).resolve()),
    )
    _check_semantics(config)
    from autograder.keys import configured_checks  # the checks' own declarations: names and params

    configured_checks(config)
    return config


def find_config(start: str | Path = ".") -> Path:
    """The grading.yml in `start` or the nearest folder above it."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {CONFIG_NAME} in {start} or any folder above it; run from the project folder or pass --config PATH."
    )


def _resolve_paths(data: Data, root: Path) -> Data:
    return dataclasses.replace(
        data,
        dir=(root / data.dir).resolve(),
        answer_key_dir=(root / data.answer_key_dir).resolve(),
        cache_dir=(root / data.cache_dir).resolve(),
    )


def _check_semantics(config: Config) -> None:
    """Checks the types can't express: positive limits, points that add up, checksum form."""
    where = config.path
    if not config.problems:
        raise ConfigError(f"{where}: `problems` should name at least one problem.")
    for name, problem in config.problems.items():
        if not problem.questions:
            raise ConfigError(f"{where}: `problems.{name}.questions` should name at least one question.")
        total = sum(q.points for q in problem.questions.values())
        if abs(total - problem.points) > 1e-9:
            raise ConfigError(
                f"{where}: `problems.{name}` has points {problem.points:g} but its questions add up to {total:g}."
            )
        for qname, question in problem.questions.items():
            _check_question(where, f"problems.{name}.questions.{qname}", question)
    for field in dataclasses.fields(Limits):
        value = getattr(config.limits, field.name)
        if value <= 0:
            raise ConfigError(f"{where}: `limits.{field.name}` should be a positive number; got {value}.")
    sources = {"data.problem1.source": config.data.problem1.source}
    sources.update({f"data.problem4.sources.{n}": src for n, src in config.data.problem4.sources.items()})
    for key, source in sources.items():
        if len(source.sha256) != 64 or any(c not in "0123456789abcdef" for c in source.sha256):
            raise ConfigError(f"{where}: `{key}.sha256` should be 64 lowercase hex digits; got {source.sha256!r}.")
    p4 = config.data.problem4
    for field in ("train_segments", "test_segments"):
        bad = [s for s in getattr(p4, field) + p4.generate.segments if not 0 <= s < p4.segments]
        if bad or not getattr(p4, field):
            raise ConfigError(f"{where}: `data.problem4.{field}` should list segments in 0-{p4.segments - 1}.")
    gen = config.data.problem1.generate
    for field in ("n_strong", "strong_magnitude", "weak_magnitude", "sigma"):
        low, high = getattr(gen, field)
        if not 0 <= low <= high:
            raise ConfigError(
                f"{where}: `data.problem1.generate.{field}` should be [low, high] with 0 <= low <= high; got [{low}, {high}]."
            )
    _check_environment(where, config.environment)


# What the kernel itself runs on: a student environment without it could not run a notebook.
KERNEL_PACKAGE = "ipykernel"


def _check_environment(where: Path, env: StudentEnvironment) -> None:
    """Python as major.minor, and each package pinned to one exact release (a version, not a range)."""
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    if not re.fullmatch(r"3\.\d{1,2}", env.python):
        raise ConfigError(f'{where}: `environment.python` should be a Python version like "3.13"; got {env.python!r}.')
    if not env.packages:
        raise ConfigError(
            f'{where}: `environment.packages` should pin the libraries students use, e.g. numpy: "2.1.3".'
        )
    for name, version in env.packages.items():
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise ConfigError(f"{where}: `environment.packages` has {name!r}, which is not a package name.")
        try:
            exact = str(Version(version)) == version  # "2.1.3"; not ">=2.1", "2.1.*" or "v2.1.3"
        except InvalidVersion:
            exact = False
        if not exact:
            raise ConfigError(
                f'{where}: `environment.packages.{name}` should be one exact version like "1.6.1"; got {version!r}.'
            )
    if KERNEL_PACKAGE not in {canonicalize_name(n) for n in env.packages}:
        raise ConfigError(
            f"{where}: `environment.packages` should pin {KERNEL_PACKAGE}, which runs the notebooks' kernel."
        )


def _check_question(where: Path, key: str, question: Question) -> None:
    if question.points < 0:
        raise ConfigError(f"{where}: `{key}.points` should be >= 0; got {question.points:g}.")
    if question.manual and question.checks:
        raise ConfigError(f"{where}: `{key}` is manual, so it should have no `checks`.")
    for cname, check in question.checks.items():
        if check.points < 0 or check.rtol < 0 or check.atol < 0:
            raise ConfigError(f"{where}: `{key}.checks.{cname}` should have points, rtol and atol >= 0.")
    total = sum(c.points for c in question.checks.values())
    if question.checks and abs(total - question.points) > 1e-9:
        raise ConfigError(f"{where}: `{key}` has points {question.points:g} but its checks add up to {total:g}.")


def _build(tp: Any, value: Any, key: str, file: Path) -> Any:
    """Turn a YAML value into an instance of the annotated type `tp`, or raise ConfigError."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build_dataclass(tp, value, key, file)
    if origin in (Union, types.UnionType):
        errors = []
        for option in typing.get_args(tp):
            try:
                return _build(option, value, key, file)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[-1]
    if origin is dict:
        _, value_type = typing.get_args(tp)
        _expect(isinstance(value, dict), "a mapping", value, key, file)
        return {str(k): _build(value_type, v, f"{key}.{k}", file) for k, v in value.items()}
    if origin is list:
        (item_type,) = typing.get_args(tp)
        _expect(isinstance(value, list), "a list", value, key, file)
        return [_build(item_type, v, f"{key}[{i}]", file) for i, v in enumerate(value)]
    if origin is tuple:
        args = typing.get_args(tp)
        _expect(isinstance(value, list) and len(value) == len(args), f"a list of {len(args)} values", value, key, file)
        return tuple(_build(a, v, f"{key}[{i}]", file) for i, (a, v) in enumerate(zip(args, value)))
    if tp is type(None):
        _expect(value is None, "null", value, key, file)
        return None
    if tp is bool:
        _expect(isinstance(value, bool), "true or false", value, key, file)
        return value
    if tp is int:
        _expect(isinstance(value, int) and not isinstance(value, bool), "an integer", value, key, file)
        return value
    if tp is float:
        if isinstance(value, str):  # YAML 1.1 reads 1e-6 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        _expect(isinstance(value, (int, float)) and not isinstance(value, bool), "a number", value, key, file)
        return float(value)
    if tp is str:
        _expect(isinstance(value, str) and value != "", "a non-empty string", value, key, file)
        return value
    if tp is Path:
        _expect(isinstance(value, str) and value != "", "a path", value, key, file)
        return Path(value)
    raise TypeError(f"config schema has an unsupported type {tp!r} at {key}")


def _build_dataclass(cls: type, value: Any, key: str, file: Path) -> Any:
    where = f"`{key}`" if key else "the top level"
    if not isinstance(value, dict):
        raise ConfigError(f"{file}: {where} should be a mapping; got {_describe(value)}.")
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.name != "path"]
    names = {f.name for f in fields}
    unknown = sorted(set(map(str, value)) - names)
    if unknown:
        bad = f"{key}.{unknown[0]}" if key else unknown[0]
        raise ConfigError(f"{file}: unknown key `{bad}`; expected one of: {', '.join(sorted(names))}.")
    kwargs = {}
    for f in fields:
        sub = f"{key}.{f.name}" if key else f.name
        if f.name not in value:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue
            raise ConfigError(f"{file}: missing key `{sub}`.")
        kwargs[f.name] = _build(hints[f.name], value[f.name], sub, file)
    return cls(**kwargs)


def _expect(ok: bool, wanted: str, value: Any, key: str, file: Path) -> None:
    if not ok:
        raise ConfigError(f"{file}: `{key}` should be {wanted}; got {_describe(value)}.")


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({type(value).__name__})"
