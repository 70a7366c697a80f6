"""How a student's kernel is confined: the command prefix that starts it, and the level it reaches.

Best, "bubblewrap": own user, PID, IPC and network namespaces (the kernel is `nobody` inside), the
file system read-only except the scratch copy, the project tree, answer keys, other submissions and
outputs hidden; rlimits on address space and CPU time; and, where the pids cgroup is writable, a
cap on the number of processes (rlimits on processes don't bind root, so this is how a fork bomb
is stopped). Where bubblewrap is missing or refused: rlimits under an unprivileged user
("rlimits+user"), or rlimits alone when not running as root ("rlimits"). The level is reported
with every grade.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from autograder.config import Limits

NOBODY = 65534
LEVELS = ("bubblewrap", "rlimits+user", "rlimits")
PIDS_CGROUP = Path("/sys/fs/cgroup/pids")
_BWRAP_NAMESPACES = [
    "--unshare-user",
    "--uid",
    str(NOBODY),
    "--gid",
    str(NOBODY),
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
]


@dataclass(frozen=True)
class Confinement:
    """Everything needed to start one kernel confined: where it may write, what it must not see."""

    scratch: Path  # the submission's working copy: the kernel's cwd and only writable folder
    connection_dir: Path  # unix sockets of the kernel's ipc transport
    shipped: Path  # read-only copy of the kernel-side checking code
    hidden: tuple[Path, ...]  # folders the kernel must not read (project tree, keys, other submissions)
    visible: tuple[Path, ...]  # folders inside hidden ones it still needs (the Python environment)


@functools.lru_cache(maxsize=None)
def isolation_level(requested: str = "auto") -> str:
    """The best level this machine allows (or `requested`, checked); bubblewrap is tried once."""
    if requested not in ("auto", *LEVELS):
        raise ValueError(f"isolation should be auto or one of {', '.join(LEVELS)}; got {requested!r}")
    if requested in ("auto", "bubblewrap") and _bwrap_works():
        return "bubblewrap"
    if requested == "bubblewrap":
        raise RuntimeError("bubblewrap is not installed or not permitted here (install the `bubblewrap` package)")
    return "rlimits+user" if os.geteuid() == 0 else "rlimits"


def _bwrap_works() -> bool:
    if not shutil.which("bwrap"):
        return False
    probe = ["bwrap", "--ro-bind", "/", "/", *_BWRAP_NAMESPACES, "--dev", "/dev", "--proc", "/proc", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def hides_home(level: str) -> bool:
    """Whether the grader's home must be hidden: not when an unprivileged user can't read it anyway."""
    return level != "rlimits+user"


def _as_user() -> list[str]:
    """Drop to an unprivileged user when we are root: rlimits on processes don't bind root."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def kernel_prefix(level: str, limits: Limits, box: Confinement, cgroup: Path | None = None) -> list[str]:
    """The command put before `python -m ipykernel_launcher -f CONNECTION_FILE`."""
    prefix = []
    if cgroup is not None:  # join the cgroup first, so the kernel and all it forks are counted
        prefix = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgroup)]
    prefix += [
        "prlimit",
        f"--as={limits.memory_mb * 1024 * 1024}",
        f"--nproc={limits.max_processes}",
        f"--cpu={int(limits.cpu_time_s)}",
        "--",
    ]
    if level != "bubblewrap":
        return prefix + (_as_user() if level == "rlimits+user" else [])
    bwrap = ["bwrap", "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc"]
    hidden = [h for h in box.hidden if h.exists() and not any(o in h.parents for o in box.hidden)]
    for path in hidden:  # an empty file system over each; nested ones are hidden with their parent
        bwrap += ["--tmpfs", str(path)]
    covered = [*hidden, Path("/tmp")]  # /tmp is replaced by an empty tmpfs too
    for path in box.visible:
        if any(path == h or h in path.parents for h in covered):
            bwrap += ["--ro-bind", str(path), str(path)]
    for path in hidden:  # read-only once the binds inside are in place: writes there fail
        bwrap += ["--remount-ro", str(path)]
    bwrap += ["--ro-bind", str(box.shipped), str(box.shipped)]
    bwrap += ["--bind", str(box.scratch), str(box.scratch), "--bind", str(box.connection_dir), str(box.connection_dir)]
    bwrap += ["--chdir", str(box.scratch), "--setenv", "HOME", str(box.scratch), "--unsetenv", "JPY_PARENT_PID"]
    bwrap += [*_BWRAP_NAMESPACES, "--die-with-parent", "--new-session"]
    return prefix + bwrap


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


def hand_over(level: str, paths: list[Path]) -> None:
    """Make the unprivileged kernel user own the folders it must write to (only at "rlimits+user":
    under bubblewrap the kernel's user maps to ours)."""
    if level != "rlimits+user" or not _as_user():
        return
    for path in paths:
        for root, dirs, files in os.walk(path):
            os.chown(root, NOBODY, NOBODY)
            for name in files:
                os.chown(os.path.join(root, name), NOBODY, NOBODY)
