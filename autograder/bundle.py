"""`dist/autograder.zip`: one bundle for Gradescope's zip upload, `otter grade` and `otter run`, graded by the engine.

otter generate writes the Gradescope layout (setup.sh, run_autograder, run_otter.py, environment.yml,
otter_config.json, tests/, files/). It is completed here so that every path grades with the engine of
`assn1 grade`, never with otter's in-kernel test files (they stay for the students' `grader.check`):

- `files/assn1/`: this package, grading.yml, every check's key (`assn1_keys.json`) and the data files
  the notebook reads. Under files/, because `otter grade` adds nothing else of the zip to its image;
- `files/assn1/setup_data.sh`, run at the end of setup.sh: generates (or, when grading.yml lists course
  URLs, downloads) the Problem 4 test segments and decompresses them once into the cache. Gigabytes
  of images never travel in the zip; the script is idempotent (verified files are kept);
- setup.sh also installs bubblewrap (used where the container permits it) and lets the user nobody
  run the grading environment, so student code never runs as root;
- run_autograder runs `files/assn1/grade_submission.sh` in place of otter's run_otter.py: the engine
  grades /autograder/submission and writes results.json (`autograder.gradescope`);
- otter_config.json names the plugin `autograder.otter_plugin.EngineGrades`, through which
  `otter run` (which never runs run_autograder) grades with the engine too.

environment.yml is the student environment (grading.yml `environment`): the students' Python and
their pinned library versions, then this project's other requirements (`environment.requirements`),
the list `assn1 env create` installs for `assn1 grade`'s kernels.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder.config import Config
from autograder.environment import requirements
from autograder.errors import Assn1Error
from autograder.in_kernel import BUNDLE_NAME

PACKAGE = Path(__file__).resolve().parent
ZIP_NAME = "autograder.zip"
PROJECT_DIR = "files/assn1"  # inside the zip; /autograder/source/files/assn1 on the grading machine
DISTRIBUTION = "assn1"  # pyproject's project name: its dependencies are the grading environment's
# Installed on the grading machine with otter itself (its environment.yml), so not listed again.
OTTER_PROVIDES = frozenset({"otter-grader", "nbformat", "nbclient", "ipykernel", "pytest"})
BUILD_TOOLS = frozenset({"uv"})  # builds the student environment here; nothing on the grading machine uses it
GRADING_PLATFORM = {"sys_platform": "linux", "platform_machine": "x86_64"}  # Gradescope's image
READY = ".setup_data_done"  # in the data folder, once setup_data.sh has made the data
SETUP_DATA = """\
#!/usr/bin/env bash
# assn1: the grading data, made on the grading machine (idempotent). PYTHON is the grading
# environment's interpreter; setup.sh passes otter's, a rehearsal passes its own.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${{PYTHON:-python3}}"
cd "$HERE"
export PYTHONPATH="$HERE${{PYTHONPATH:+:$PYTHONPATH}}"
$PYTHON -m autograder.cli data {p4_step} --problem 4{p4_args}
$PYTHON -m autograder.cli data cache
touch "$HERE/data/{ready}"
"""
GRADE_SUBMISSION = """\
#!/usr/bin/env bash
# assn1: grade {autograder_dir}/submission as `assn1 grade` does and write results/results.json (and
# results.pkl, which otter grade reads). PYTHON is the grading environment's interpreter (run_autograder
# has activated it; a rehearsal passes its own); ASSN1_AUTOGRADER_DIR stands in for {autograder_dir}.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${{PYTHON:-python}}"
# otter grade builds its image before it adds files/, so its setup.sh could not make the data: make it now
if [ ! -e "$HERE/data/{ready}" ]; then
    PYTHON="$PYTHON" bash "$HERE/setup_data.sh" || echo "assn1: the data step failed; the checks that need the data will come out errored"
fi
cd "$HERE"
PYTHONPATH="$HERE" exec $PYTHON -m autograder.gradescope "${{ASSN1_AUTOGRADER_DIR:-{autograder_dir}}}"
"""
SETUP_HOOK = """
# assn1: bubblewrap confines student code where this container permits it (elsewhere the engine runs
# it as the user nobody under rlimits); nobody may use the grading environment: its parent folders
# traversable (not listable), its files readable
apt-get install -y bubblewrap || echo "assn1: bubblewrap is not installed; student code will run as nobody under rlimits"
chmod o+x {parents}
chmod -R o+rX {miniconda}
# assn1: the Problem 4 test data, made here rather than shipped in the zip. otter grade builds its image
# before it adds files/; there grade_submission.sh makes the data instead.
if [ -f {autograder_dir}/source/{project}/setup_data.sh ]; then
    PYTHON="mamba run -n {env} python" bash {autograder_dir}/source/{project}/setup_data.sh
fi
"""
RUN_HOOK = """# assn1: the engine grades, as `assn1 grade` does; otter's notebook run and test files decide nothing
bash {autograder_dir}/source/{project}/grade_submission.sh
"""
PLUGIN = "autograder.otter_plugin.EngineGrades"  # `otter run` reads otter_config.json, never run_autograder


class BundleError(Assn1Error):
    """otter generate failed, or a file the bundle needs is missing."""


def grading_requirements(marker_env: dict[str, str] | None = None) -> list[str]:
    """This project's dependencies as Gradescope's Linux x86-64 image (or the platform `marker_env`
    describes) needs them, less otter's own and the build tools.

    Read from the installed package's metadata, so pyproject.toml stays the one list.
    """
    marker_env = marker_env or GRADING_PLATFORM
    try:
        declared = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        raise BundleError(
            f"the {DISTRIBUTION} package is not installed; run `pip install -e .` (or `make demo`)."
        ) from None
    needed = []
    for text in declared:
        requirement = Requirement(text)
        if canonicalize_name(requirement.name) in OTTER_PROVIDES | BUILD_TOOLS:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({**marker_env, "extra": ""}):
            continue
        requirement.marker = None
        needed.append(str(requirement))
    return needed


def write_zip(config: Config, autograder_dir: Path, target: Path) -> Path:
    """Make `target` from the built autograder folder (tests/ and autograder/ with every key)."""
    with tempfile.TemporaryDirectory(prefix="assn1-zip-") as tmp:
        stage = Path(tmp)
        shutil.copytree(autograder_dir / "autograder", stage / "autograder")
        (stage / "data").mkdir()
        for name in config.data.notebook_files:
            source = config.data.dir / name
            if not source.is_file():
                raise BundleError(f"{source} is missing; run `assn1 data generate` (or fetch) before `assn1 build`.")
            shutil.copyfile(source, stage / "data" / name)
        # The student environment's pins and Python (grading.yml `environment`): students' code runs with the
        # versions `assn1 grade` gives its kernels, and the engine beside it.
        listed = requirements(config, GRADING_PLATFORM)
        (stage / "requirements.txt").write_text("\n".join(listed) + "\n", encoding="utf-8")
        # How `otter run` lays out its own results.json (Gradescope's comes from the engine): a visible
        # "Public Tests" summary, and each question's full results once grades are published.
        otter_config = {"lang": "python", "show_hidden": True, "force_public_test_summary": True}
        (stage / "otter_config.json").write_text(json.dumps(otter_config) + "\n", encoding="utf-8")
        generated = stage / "otter.zip"
        command = [
            *[sys.executable, "-m", "otter", "generate", "-t", str(autograder_dir / "tests")],
            *["-o", str(generated), "-r", "requirements.txt", "-c", "otter_config.json"],
            *["--python-version", config.environment.python, "autograder", "data"],
        ]
        result = subprocess.run(command, cwd=stage, capture_output=True, text=True)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise BundleError(f"otter generate failed: {tail[0]}")
        _finish(config, generated, autograder_dir / "autograder" / BUNDLE_NAME, target)
    return target


def _finish(config: Config, generated: Path, keys: Path, target: Path) -> None:
    """Copy otter's zip, completing setup.sh, run_autograder and otter_config.json, and add the project copy
    with its keys (every check's, `keys`) and data files."""
    from otter.generate import OTTER_ENV_NAME
    from otter.run.run_autograder.autograder_config import AutograderConfig

    p4 = config.data.problem4
    if p4.sources:
        step, args = "fetch", " --no-progress"
    else:
        step = "generate"
        args = " --segments " + " ".join(str(s) for s in p4.test_segments)
        args += " ${ASSN1_IMAGES_PER_SEGMENT:+--images-per-segment $ASSN1_IMAGES_PER_SEGMENT}"
    defaults = AutograderConfig()
    where = {"autograder_dir": defaults.autograder_dir, "project": PROJECT_DIR}
    miniconda = PurePosixPath(defaults.miniconda_path)
    parents = " ".join(str(p) for p in reversed(miniconda.parents) if str(p) != "/")
    setup = SETUP_HOOK.format(env=OTTER_ENV_NAME, parents=parents, miniconda=miniconda, **where)
    tmp = target.with_name(target.name + ".tmp")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(generated) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "setup.sh":
                data = data.rstrip(b"\n") + b"\n" + setup.encode()
            elif info.filename == "run_autograder":
                data = _engine_runs(data, RUN_HOOK.format(**where))
            elif info.filename == "otter_config.json":
                data = (json.dumps({**json.loads(data), "plugins": [PLUGIN]}, indent=2) + "\n").encode()
            out.writestr(info, data)
        out.writestr(f"{PROJECT_DIR}/setup_data.sh", SETUP_DATA.format(p4_step=step, p4_args=args, ready=READY))
        out.writestr(f"{PROJECT_DIR}/grade_submission.sh", GRADE_SUBMISSION.format(ready=READY, **where))
        out.writestr(f"{PROJECT_DIR}/grading.yml", config.path.read_bytes())
        out.write(keys, f"{PROJECT_DIR}/{BUNDLE_NAME}")
        for name in config.data.notebook_files:  # read by the notebook; copied beside it by the engine
            out.write(config.data.dir / name, f"{PROJECT_DIR}/data/{name}")
        for path in sorted(PACKAGE.rglob("*.py")):
            out.write(path, f"{PROJECT_DIR}/autograder/{path.relative_to(PACKAGE)}")
    tmp.replace(target)


def _engine_runs(run_autograder: bytes, hook: str) -> bytes:
    """otter's run_autograder with the line that starts otter's own grading replaced by the engine's."""
    lines = run_autograder.decode().splitlines()
    at = [i for i, line in enumerate(lines) if "run_otter.py" in line]
    if len(at) != 1:
        raise BundleError(
            "otter generate's run_autograder has no single run_otter.py line; this otter version is not supported."
        )
    lines[at[0] : at[0] + 1] = hook.rstrip("\n").splitlines()
    return ("\n".join(lines) + "\n").encode()
