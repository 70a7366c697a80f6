"""How a student's kernel is confined: the command prefix that starts it, and the level it reaches.

Best, "bubblewrap": own PID, IPC, network and mount namespaces, the file system read-only except the
scratch copy, the project tree, answer keys, other submissions, outputs and home hidden; rlimits on
address space and CPU time; and, where the pids cgroup is writable, a cap on the number of processes.
Where bubblewrap is missing or refused: rlimits under the unprivileged user nobody ("rlimits+user"),
or rlimits alone when the grader is not root ("rlimits"). Student code never runs as root: a root
grader builds the sandbox and the kernel becomes nobody inside it, a real unprivileged user outside
too (without root, bubblewrap's user namespace maps it to the grader's own user). Where nobody cannot
run the Python environment, bubblewrap falls back to a user namespace that maps the kernel to root
outside, and the level's note says so. The level is reported with every grade.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from autograder.config import Limits
from autograder.errors import Assn1Error

NOBODY = 65534
LEVELS = ("bubblewrap", "rlimits+user", "rlimits")
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")
_BWRAP_USER = ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
_BWRAP_NAMESPACES = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]


@dataclass(frozen=True)
class Confinement:
    """Everything needed to start one kernel confined: where it may write, what it must not see."""

    scratch: Path  # the submission's working copy: the kernel's cwd and only writable folder
    connection_dir: Path  # unix sockets of the kernel's ipc transport
    shipped: Path  # read-only copy of the kernel-side checking code
    hidden: tuple[Path, ...]  # folders the kernel must not read (project tree, keys, other submissions)
    visible: tuple[Path, ...]  # folders inside hidden ones it still needs (the Python environment)


class SandboxError(Assn1Error):
    """The requested isolation level is not possible on this machine, or unsafe for this user."""


@dataclass(frozen=True)
class Isolation:
    """The level student code is confined at, and how: `as_nobody` when the grader is root and the
    confined processes switch to the unprivileged user, a real one outside any namespace (at level
    bubblewrap, root builds the sandbox and the process becomes nobody inside it); `note` says what
    this machine could not do."""

    level: str
    as_nobody: bool = False
    note: str = ""


@functools.lru_cache(maxsize=None)
def choose_isolation(
    requested: str = "auto", kernel_python: str = "", kernel_paths: tuple[Path, ...] = ()
) -> Isolation:
    """The best level this machine allows, or `requested` if it can be had; SandboxError otherwise.

    `kernel_python` is the interpreter the kernels run on (the student environment's; this one's when
    empty), `kernel_paths` the folders it reads. Where the unprivileged user cannot use the Python
    environments, bubblewrap maps the kernel to root outside its user namespace (with a note) and
    rlimits+user is refused: its kernels could not start."""
    if requested not in ("auto", *LEVELS):
        raise SandboxError(f"--isolation should be auto or one of {', '.join(LEVELS)}; got {requested!r}.")
    root = os.geteuid() == 0
    if requested in ("auto", "bubblewrap") and _bwrap_works():
        if not root:
            return Isolation("bubblewrap")
        problem = _nobody_problem("bubblewrap", kernel_python, kernel_paths)
        if not problem:
            return Isolation("bubblewrap", as_nobody=True)
        return Isolation("bubblewrap", note=f"student code is root outside the sandbox's user namespace: {problem}")
    if requested == "bubblewrap":
        raise SandboxError(
            "--isolation bubblewrap: bubblewrap is not installed or not permitted here; install it "
            "(Debian: apt-get install bubblewrap) or choose --isolation auto."
        )
    if not root:
        if requested == "rlimits+user":
            raise SandboxError("--isolation rlimits+user switches student code to the user nobody, which needs root.")
        return Isolation("rlimits")
    if requested == "rlimits":
        raise SandboxError(
            "--isolation rlimits would run student code as root; use rlimits+user (the default without bubblewrap)."
        )
    problem = _nobody_problem("rlimits+user", kernel_python, kernel_paths)
    if problem:
        raise SandboxError(
            f"student code must run as the unprivileged user nobody here (no bubblewrap), but {problem}; install "
            "the project and the student environment (grading.yml `environment.dir`) where every user can read "
            "them (e.g. under /opt), or install bubblewrap."
        )
    return Isolation("rlimits+user", as_nobody=True)


def _bwrap_works() -> bool:
    if not shutil.which("bwrap"):
        return False
    user = [] if os.geteuid() == 0 else _BWRAP_USER  # root builds namespaces without a user namespace
    probe = ["bwrap", "--ro-bind", "/", "/", *user, *_BWRAP_NAMESPACES, "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _nobody_problem(level: str, kernel_python: str = "", kernel_paths: tuple[Path, ...] = ()) -> str:
    """Why processes confined at `level` as the user nobody can't start on this Python environment (the
    grader's own, for the file-measuring processes) or on the kernels' (`kernel_python`), or ""."""
    if not shutil.which("setpriv"):
        return "setpriv (util-linux) is not installed"
    checks = [(sys.executable, sys.prefix)]
    if kernel_python:
        checks.append((kernel_python, str(Path(kernel_python).parent.parent)))
    # Finding (not importing) ipykernel reads the environment's folders as nobody, in milliseconds.
    check = "import importlib.util, sys; sys.exit(importlib.util.find_spec('ipykernel') is None)"
    with tempfile.TemporaryDirectory(prefix="assn1-nobody-") as tmp:
        scratch = Path(tmp)
        os.chmod(scratch, 0o755)
        isolation = Isolation(level, as_nobody=True)
        hand_over(isolation, [scratch])
        box = Confinement(scratch, scratch, scratch, hidden=(Path.home(),), visible=python_paths(kernel_paths))
        for python, prefix in checks:
            command = [*confine(isolation, box), python, "-c", check]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=scratch)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return f"the check as nobody failed ({exc})"
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
                return f"the user nobody cannot use the Python environment {prefix} ({tail[0][:160]})"
    return ""


def python_paths(extra: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """The Python installations confined processes run on, which may lie inside a hidden folder: the
    grader's own (the file-measuring processes) and `extra`, the student environment's (the kernel)."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent}
    return tuple(sorted(paths | set(extra)))


def _as_nobody() -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--no-new-privs"]


def kernel_prefix(isolation: Isolation, limits: Limits, box: Confinement, cgroup: Path | None = None) -> list[str]:
    """The command put before `python -m ipykernel_launcher -f CONNECTION_FILE`: join the process cap,
    set the rlimits, then confine it (`confine`)."""
    prefix = []
    if cgroup is not None:  # join the cgroup first, so the kernel and all it forks are counted
        prefix = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgroup)]
    # The process rlimit counts every process of the user, so all kernels running as nobody at once
    # would share it: where the cgroup caps this kernel's own processes, it is the only cap.
    nproc = [] if cgroup is not None else [f"--nproc={limits.max_processes}"]
    prefix += ["prlimit", f"--as={limits.memory_mb * 1024 * 1024}", *nproc, f"--cpu={int(limits.cpu_time_s)}", "--"]
    return prefix + confine(isolation, box)


def confine(isolation: Isolation, box: Confinement) -> list[str]:
    """The command put before a program to confine it without limits: at level bubblewrap, enter the
    sandbox; then become nobody, when the grader is root."""
    nobody = _as_nobody() if isolation.as_nobody else []
    if isolation.level != "bubblewrap":
        return nobody
    # /tmp and /dev/shm writable by every user (sticky), as on the host: the kernel may not be root inside
    shared = ["--perms", "1777", "--tmpfs", "/tmp", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm"]
    bwrap = ["bwrap", "--ro-bind", "/", "/", *shared, "--proc", "/proc"]
    hidden = [h for h in box.hidden if h.exists() and not any(o in h.parents for o in box.hidden)]
    for path in hidden:  # an empty file system over each; nested ones are hidden with their parent
        bwrap += ["--tmpfs", str(path)]
    covered = [*hidden, Path("/tmp")]  # /tmp is replaced by an empty tmpfs too
    made: set[Path] = set()
    for path in box.visible:
        if any(path == h or h in path.parents for h in covered):
            bwrap += [*_parents(path, covered, made), "--ro-bind", str(path), str(path)]
    for path in hidden:  # read-only once the binds inside are in place: writes there fail
        bwrap += ["--remount-ro", str(path)]
    for path, how in ((box.shipped, "--ro-bind"), (box.scratch, "--bind"), (box.connection_dir, "--bind")):
        bwrap += [*_parents(path, covered, made), how, str(path), str(path)]
    bwrap += ["--chdir", str(box.scratch), "--setenv", "HOME", str(box.scratch), "--unsetenv", "JPY_PARENT_PID"]
    # As root, bubblewrap builds the sandbox without a user namespace and the kernel becomes nobody
    # inside it (setpriv): nobody outside too. Otherwise the user namespace maps it to our own user.
    user = [] if isolation.as_nobody else _BWRAP_USER
    return [*bwrap, *user, *_BWRAP_NAMESPACES, "--die-with-parent", "--new-session", *nobody]


def _parents(path: Path, covered: list[Path], made: set[Path]) -> list[str]:
    """bwrap options making the folders between a tmpfs in `covered` and `path` traversable by anyone
    (bwrap would make them private to root, and the kernel may be nobody); each folder once."""
    top = next((c for c in covered if c in path.parents), None)
    if top is None:
        return []
    options = []
    for folder in reversed(path.parents):
        if top in folder.parents and folder not in made:
            made.add(folder)
            options += ["--perms", "0755", "--dir", str(folder)]
    return options


@contextmanager
def process_cap(name: str, max_processes: int):
    """A pids cgroup capping the processes of one kernel, or None where cgroups can't be written."""
    path = PIDS_CGROUP / f"assn1-{os.getpid()}-{name}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(max_processes))
    except OSError:
        yield None
        return
    try:
        yield path
    finally:
        for _ in range(50):  # the kernel's processes may take a moment to go
            try:
                path.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def hand_over(isolation: Isolation, paths: list[Path]) -> None:
    """Make the unprivileged user own the folders the confined processes write to (when they run as it)."""
    if not isolation.as_nobody:
        return
    for path in paths:
        for root, dirs, files in os.walk(path):
            os.chown(root, NOBODY, NOBODY)
            for name in files:
                os.chown(os.path.join(root, name), NOBODY, NOBODY)
