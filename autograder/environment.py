"""The students' environment: the library versions student code runs with, built and checked here.

grading.yml's `environment` pins the libraries students used (their term's Google Colab). `create`
builds a virtual environment of its own for the notebooks' kernels with exactly those versions plus
what the grader's kernel-side code and otter need; the grader's own process (the checks, the model
measurement with ONNX Runtime) keeps the project's environment. The same list goes into the
Gradescope zip's environment.yml (`requirements`), so otter and Gradescope run students' code with
the same pins. A stamp file in the environment records what it was built from (a hash of the list)
and what was installed (the lock), so a changed pin rebuilds it and an unchanged one does nothing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder.config import Config, StudentEnvironment
from autograder.errors import Assn1Error

STAMP = ".assn1-env.json"
# A release whose Linux x86-64 wheel has a CPU-only twin of the same version and Python API: the grading
# machines have no GPU, so the twin is installed (locally and on Gradescope) in its place.
CPU_BUILDS = {"tensorflow": "tensorflow-cpu"}
MIN_PYTHON = (3, 10)  # the kernel-side checking code needs it
# How packages are installed; part of the fingerprint, so a change here rebuilds. Bytecode is compiled
# once at install, as pip does: a kernel confined to a read-only file system could never cache it, and
# would compile numpy, scipy and scikit-learn from source on every start (twice the time of a notebook).
INSTALL_OPTIONS = ("--compile-bytecode",)
# Reports, for the declared distributions, what an interpreter has: its version, the distributions'
# versions (None: not installed), the import names each provides, and where the installation lies.
INSPECT = r"""
import importlib.metadata as m, json, os, platform, sys
wanted = json.loads(sys.argv[1])  # declared name -> distributions that provide it
versions = {}
for declared, dists in wanted.items():
    versions[declared] = None
    for dist in dists:
        try:
            versions[declared] = [m.version(dist), dist]
            break
        except m.PackageNotFoundError:
            pass
owners = {d.lower().replace("_", "-"): name for name, ds in wanted.items() for d in ds}
modules = {}
for module, dists in m.packages_distributions().items():
    for dist in dists:
        name = owners.get(dist.lower().replace("_", "-"))
        if name and not module.startswith("_"):
            modules[module] = name
print(json.dumps({
    "python": platform.python_version(), "prefix": sys.prefix, "base_prefix": sys.base_prefix,
    "executable": os.path.realpath(sys.executable), "versions": versions, "modules": modules,
}))
"""


class StudentEnvironmentError(Assn1Error):
    """The student environment is not built, does not match grading.yml, or could not be built."""


@dataclass(frozen=True)
class Installed:
    """A built student environment, as its own interpreter reports it."""

    dir: Path
    python: Path  # the kernel's interpreter, dir/bin/python
    python_version: str  # e.g. "3.13.0"
    versions: dict[str, str | None]  # declared name -> installed version, None when missing
    distributions: dict[str, str]  # declared name -> the distribution installed for it (tensorflow-cpu)
    modules: dict[str, str]  # import name -> declared name (sklearn -> scikit-learn)
    paths: tuple[Path, ...]  # the folders the interpreter reads: its prefix, base prefix, executable's
    stamp: dict = field(default_factory=dict)  # what `create` recorded; {} when it did not finish

    @property
    def python_minor(self) -> str:
        return ".".join(self.python_version.split(".")[:2])

    def libraries(self) -> dict[str, tuple[str, str]]:
        """Import name -> (declared name, version in use), for the drift detector."""
        return {m: (name, self.versions[name] or "?") for m, name in self.modules.items() if name in self.versions}

    def note(self, declared: StudentEnvironment) -> str:
        """One line for results.json: the environment student code ran in, and its Python if it differs."""
        line = f"student environment: {declared.name} (Python {self.python_version}"
        if self.python_minor != declared.python:
            line += f"; students had Python {declared.python}, not available on the grading machine"
        return line + ")"


def pins(declared: StudentEnvironment, marker_env: dict[str, str] | None = None) -> list[str]:
    """The declared packages as exact requirements, each CPU-only twin in place of its GPU build on Linux x86-64."""
    marker_env = marker_env or _this_platform()
    linux_x86 = marker_env.get("sys_platform") == "linux" and marker_env.get("platform_machine") == "x86_64"
    out = []
    for name, version in declared.packages.items():
        dist = CPU_BUILDS.get(canonicalize_name(name), name) if linux_x86 else name
        out.append(f"{dist}=={version}")
    return out


def requirements(config: Config, marker_env: dict[str, str] | None = None) -> list[str]:
    """What the student environment holds besides otter: the pins, then the grader's other dependencies
    (the kernel-side checking code's, unpinned). The Gradescope zip's requirements.txt is this list."""
    from autograder.bundle import grading_requirements

    pinned = pins(config.environment, marker_env)
    named = {canonicalize_name(Requirement(p).name) for p in pinned}
    named |= {canonicalize_name(n) for n in config.environment.packages}
    named |= {canonicalize_name(CPU_BUILDS[n]) for n in named if n in CPU_BUILDS}
    rest = [r for r in grading_requirements(marker_env) if canonicalize_name(Requirement(r).name) not in named]
    return pinned + rest


def install_list(config: Config) -> list[str]:
    """What `create` installs: `requirements` and otter itself, as otter's environment.yml adds it
    (without its Google plugins, which grading never uses)."""
    import importlib.metadata

    return [*requirements(config), f"otter-grader[grading]=={importlib.metadata.version('otter-grader')}"]


def fingerprint(config: Config) -> str:
    """The hash of what the environment is built from: the declared Python and the install list."""
    payload = {
        "name": config.environment.name,
        "python": config.environment.python,
        "install": install_list(config),
        "options": INSTALL_OPTIONS,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def interpreter(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def inspect(config: Config) -> Installed | None:
    """What the environment in `environment.dir` holds, or None when there is none. Asked once per process
    while the environment's interpreter, stamp and package folders are unchanged (a batch asks for it
    where it decides, where it builds its job and at each station)."""
    env_dir = config.environment.dir
    python = interpreter(env_dir)
    if not python.exists():
        return None
    changes = tuple(_mtime(p) for p in (python, env_dir / STAMP, *sorted(env_dir.glob("lib*/python*/site-packages"))))
    return _inspect(env_dir, python, tuple(config.environment.packages), changes)


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


@functools.lru_cache(maxsize=8)
def _inspect(env_dir: Path, python: Path, packages: tuple[str, ...], changes: tuple) -> Installed | None:
    wanted = {name: _candidates(name) for name in packages}
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", INSPECT, json.dumps(wanted)], capture_output=True, text=True, timeout=120
        )
        report = json.loads(done.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return None
    found = report["versions"]
    paths = {Path(report["prefix"]), Path(report["base_prefix"]), Path(report["executable"]).parent.parent}
    try:
        stamp = json.loads((env_dir / STAMP).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        stamp = {}
    return Installed(
        dir=env_dir,
        python=python,
        python_version=report["python"],
        versions={name: (v[0] if v else None) for name, v in found.items()},
        distributions={name: v[1] for name, v in found.items() if v},
        modules=report["modules"],
        paths=tuple(sorted(paths)),
        stamp=stamp,
    )


def differences(config: Config, installed: Installed | None) -> list[str]:
    """How the installed packages differ from the declared ones, one phrase each ([] when they match)."""
    if installed is None:
        return ["not built"]
    out = []
    for name, version in config.environment.packages.items():
        have = installed.versions.get(name)
        if have is None:
            out.append(f"{name} missing, {version} declared")
        elif have != version:
            out.append(f"{name} {have} installed, {version} declared")
    return out


def problems(config: Config, installed: Installed | None) -> list[str]:
    """Why `assn1 grade` would refuse this environment: its versions differ, or its build did not finish."""
    found = differences(config, installed)
    if not found and not installed.stamp and not running_in(installed.dir):
        found.append("its build did not finish")
    return found


def running_in(env_dir: Path) -> bool:
    """Whether this process runs on the environment in `env_dir` (otter's on Gradescope, made by its setup.sh,
    not by `assn1 env create`: it has no stamp, and whatever built it finished)."""
    return Path(sys.prefix).resolve() == Path(env_dir).resolve()


def require(config: Config) -> Installed:
    """The student environment, when it matches grading.yml; else StudentEnvironmentError in one line."""
    installed = inspect(config)
    where = _show(config.environment.dir)
    if installed is None:
        raise StudentEnvironmentError(
            f"the student environment of {config.path.name} (`environment`) is not built in {where}; "
            "run `assn1 env create` first."
        )
    found = problems(config, installed)
    if found:
        raise StudentEnvironmentError(
            f"the student environment in {where} does not match {config.path.name}'s `environment` "
            f"({'; '.join(found)}); run `assn1 env create`."
        )
    return installed


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: tuple[int, int, int]

    @property
    def minor(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def find_interpreter(wanted: str, explicit: str | None = None) -> tuple[Interpreter, str]:
    """The interpreter to build with, and a note when it is not Python `wanted`: the one given, else
    `python<wanted>` on PATH, else the closest version found (python3.N on PATH, this grader's own)."""
    if explicit:
        found = _probe(explicit)
        if found is None:
            raise StudentEnvironmentError(
                f"--python {explicit}: not a working Python {'.'.join(map(str, MIN_PYTHON))}+."
            )
        note = "" if found.minor == wanted else f"Python {found.minor} given with --python; students had {wanted}"
        return found, note
    names = [f"python{wanted}"] + [f"python3.{n}" for n in range(MIN_PYTHON[1], 30)]
    seen: dict[str, Interpreter] = {}
    for candidate in [*(shutil.which(n) for n in names), getattr(sys, "_base_executable", None), sys.executable]:
        if candidate:
            found = _probe(candidate)
            if found is not None:
                seen.setdefault(found.path, found)
    if not seen:
        raise StudentEnvironmentError("no Python 3.10 or newer found on PATH; pass --python PATH.")
    minor = int(wanted.split(".")[1])
    best = min(seen.values(), key=lambda i: (abs(i.version[1] - minor), -i.version[1], -i.version[2]))
    note = "" if best.minor == wanted else f"no Python {wanted} on this machine; built with the closest, {best.minor}"
    return best, note


def create(config: Config, python: str | None = None, log: Callable[[str], None] = print) -> tuple[Installed, bool]:
    """Build the student environment unless it is already built from the same list; return it and
    whether it was (re)built. Idempotent: an unchanged declaration changes nothing."""
    declared = config.environment
    env_dir = declared.dir
    digest = fingerprint(config)
    current = inspect(config)
    chosen = note = None
    if current is not None and current.stamp.get("fingerprint") == digest and not differences(config, current):
        if python:  # kept unless another interpreter is asked for
            chosen, note = find_interpreter(declared.python, python)
            if chosen.path == current.stamp.get("interpreter"):
                return current, False
        elif current.python_minor == declared.python:
            return current, False
        else:  # kept unless the declared Python has appeared on this machine since
            chosen, note = find_interpreter(declared.python)
            if chosen.minor != declared.python:
                return current, False
    if chosen is None:
        chosen, note = find_interpreter(declared.python, python)
    if note:
        log(f"note: {note}")
    _clear(env_dir)
    uv = _uv()
    started = time.monotonic()
    run_env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    log(f"building the student environment {declared.name} in {_show(env_dir)} with Python {chosen.minor} ...")
    _run([uv, "venv", "--quiet", "--python", chosen.path, str(env_dir)], run_env, "uv venv")
    listed = install_list(config)
    _run(
        [uv, "pip", "install", *INSTALL_OPTIONS, "--python", str(interpreter(env_dir)), *listed],
        run_env,
        "uv pip install",
    )
    lock = subprocess.run(
        [uv, "pip", "freeze", "--python", str(interpreter(env_dir))], capture_output=True, text=True, env=run_env
    ).stdout.splitlines()
    built = inspect(config)
    if built is None or differences(config, built):
        raise StudentEnvironmentError(
            f"the student environment in {_show(env_dir)} was built but does not match `environment`: "
            f"{'; '.join(differences(config, built))}."
        )
    stamp = {
        "name": declared.name,
        "fingerprint": digest,
        "python_declared": declared.python,
        "interpreter": chosen.path,
        "python": built.python_version,
        "install": listed,
        "lock": lock,
        "seconds": round(time.monotonic() - started, 1),
    }
    (env_dir / STAMP).write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return inspect(config), True


def show(config: Config, installed: Installed | None) -> list[str]:
    """The declared and the installed versions side by side, what differs marked, and the verdict."""
    declared = config.environment
    rows = [("python", declared.python, installed.python_version if installed else "-", "")]
    if installed and installed.python_minor != declared.python:
        rows[0] = (*rows[0][:3], "DIFFERS (the closest Python here; see below)")
    for name, version in declared.packages.items():
        have = installed.versions.get(name) if installed else None
        dist = installed.distributions.get(name, name) if installed else name
        shown = (have or "missing") + (f" ({dist})" if have and dist != name else "")
        mark = "" if have == version else "DIFFERS"
        rows.append((name, version, shown if installed else "-", mark))
    width = [max(len(r[i]) for r in rows + [("package", "declared", "installed", "")]) for i in range(3)]
    lines = [f"student environment {declared.name}: {_show(declared.dir)} (grading.yml `environment`)"]
    lines.append(f"  {'package'.ljust(width[0])}  {'declared'.ljust(width[1])}  installed")
    for row in rows:
        lines.append(
            f"  {row[0].ljust(width[0])}  {row[1].ljust(width[1])}  {row[2].ljust(width[2])}  {row[3]}".rstrip()
        )
    found = problems(config, installed)
    if found:
        lines.append(f"does not match the declaration ({'; '.join(found)}): run `assn1 env create`.")
        return lines
    if installed.python_minor != declared.python:
        lines.append(
            f"note: student code runs on Python {installed.python_version}, not {declared.python} as students had it "
            f"(no Python {declared.python} on this machine when it was built; `assn1 env create --python PATH` picks one)."
        )
    built = installed.stamp.get("seconds")
    lines.append(
        f"matches the declaration: `assn1 grade` runs student code here ({len(installed.stamp.get('lock', []))} "
        f"packages locked in {STAMP}{f', built in {built:.0f} s' if built else ''})."
    )
    return lines


def _candidates(name: str) -> list[str]:
    key = canonicalize_name(name)
    return [CPU_BUILDS[key], name] if key in CPU_BUILDS else [name]


def _this_platform() -> dict[str, str]:
    return {"sys_platform": sys.platform, "platform_machine": platform.machine()}


def _probe(path: str) -> Interpreter | None:
    """The interpreter `path` runs (resolved), if it works, is new enough and can make environments."""
    code = "import os, sys, venv; print(os.path.realpath(sys.executable)); print(*sys.version_info[:3])"
    try:
        done = subprocess.run([path, "-I", "-c", code], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.split("\n")
    if done.returncode != 0 or len(lines) < 2:
        return None
    version = tuple(int(x) for x in lines[1].split())
    return Interpreter(lines[0], version) if version[:2] >= MIN_PYTHON else None


def _uv() -> str:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if not found:
        raise StudentEnvironmentError("uv is not installed; run `pip install -e .` in the project (it installs uv).")
    return found


def _clear(env_dir: Path) -> None:
    """Remove an earlier student environment; never a folder that is not one."""
    if not env_dir.exists():
        return
    if not (env_dir / "pyvenv.cfg").exists() and any(env_dir.iterdir()):
        raise StudentEnvironmentError(
            f"{env_dir} exists and is not a virtual environment; point `environment.dir` elsewhere or remove it."
        )
    shutil.rmtree(env_dir)


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        lines = [" ".join(line.split()) for line in done.stdout.splitlines() if line.strip()]
        # uv says what failed on its "error:" / "×" line and why on the next ("Because ...", "Caused by: ...")
        start = next((i for i, line in enumerate(lines) if line.startswith(("error", "×"))), max(len(lines) - 1, 0))
        tail = " ".join(lines[start : start + 2]) or f"exit status {done.returncode}"
        raise StudentEnvironmentError(f"{what} failed: {tail[:300]}")


def _show(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
