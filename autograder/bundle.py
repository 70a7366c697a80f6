"""`dist/autograder.zip`: one bundle for `otter run`, `otter grade` and Gradescope's zip upload.

otter generate writes the Gradescope layout (setup.sh, run_autograder, run_otter.py, environment.yml,
otter_config.json, tests/, files/). Its test files call the same checks as `assn1 grade` through
`autograder.in_kernel`, shipped in files/ with every key. Two things are added here:

- `assn1/`: this package and grading.yml, so the grading machine can make its own data;
- `assn1/setup_data.sh`, run at the end of setup.sh: generates (or, when grading.yml lists course
  URLs, downloads) the Problem 4 test segments and decompresses them once into the cache. Gigabytes
  of images never travel in the zip; the script is idempotent (verified files are kept).

Problem 1's data file is small and travels in files/data/, exactly the file the keys were made from.
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
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autograder.config import Config
from autograder.environment import requirements
from autograder.errors import Assn1Error

PACKAGE = Path(__file__).resolve().parent
ZIP_NAME = "autograder.zip"
PROJECT_DIR = "assn1"  # inside the zip; /autograder/source/assn1 on Gradescope
DISTRIBUTION = "assn1"  # pyproject's project name: its dependencies are the grading environment's
# Installed on the grading machine with otter itself (its environment.yml), so not listed again.
OTTER_PROVIDES = frozenset({"otter-grader", "nbformat", "nbclient", "ipykernel", "pytest"})
BUILD_TOOLS = frozenset({"uv"})  # builds the student environment here; nothing on the grading machine uses it
GRADING_PLATFORM = {"sys_platform": "linux", "platform_machine": "x86_64"}  # Gradescope's image
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
"""
SETUP_HOOK = """
# assn1: make the Problem 4 test data here rather than shipping it in the zip
PYTHON="mamba run -n {env} python" bash {autograder_dir}/source/{project}/setup_data.sh
"""
CHECK_LOG_HOOK = """# assn1: the notebook's tests log each check's result here, for results.json
export ASSN1_CHECK_LOG={autograder_dir}/results/assn1_checks.jsonl
"""
RESULTS_HOOK = """
# assn1: results.json from the logged check results, written as `assn1 grade` writes it
PYTHONPATH={autograder_dir}/source/{project} python -m autograder.otter_results {autograder_dir}/results/results.json \\
    --checks {autograder_dir}/results/assn1_checks.jsonl
"""


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
        # The student environment's pins and Python (grading.yml `environment`): otter runs students' code,
        # and the checks beside it, with the versions `assn1 grade` gives its kernels.
        listed = requirements(config, GRADING_PLATFORM)
        (stage / "requirements.txt").write_text("\n".join(listed) + "\n", encoding="utf-8")
        # Public checks: a visible "Public Tests" summary. Each question's full results (hidden checks
        # included) appear once grades are published (visibility after_published).
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
        _finish(config, generated, target)
    return target


def _finish(config: Config, generated: Path, target: Path) -> None:
    """Copy otter's zip, hooking the data step into setup.sh and adding the project copy."""
    from otter.generate import OTTER_ENV_NAME
    from otter.run.run_autograder.autograder_config import AutograderConfig

    p4 = config.data.problem4
    if p4.sources:
        step, args = "fetch", " --no-progress"
    else:
        step = "generate"
        args = " --segments " + " ".join(str(s) for s in p4.test_segments)
        args += " ${ASSN1_IMAGES_PER_SEGMENT:+--images-per-segment $ASSN1_IMAGES_PER_SEGMENT}"
    where = {"autograder_dir": AutograderConfig().autograder_dir, "project": PROJECT_DIR}
    hooks = {"setup.sh": SETUP_HOOK.format(env=OTTER_ENV_NAME, **where), "run_autograder": RESULTS_HOOK.format(**where)}
    tmp = target.with_name(target.name + ".tmp")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(generated) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename in hooks:
                data = data.rstrip(b"\n") + b"\n" + hooks[info.filename].encode()
            if info.filename == "run_autograder":  # before otter runs the notebook: after the #! line
                first, _, rest = data.partition(b"\n")
                data = first + b"\n" + CHECK_LOG_HOOK.format(**where).encode() + rest
            out.writestr(info, data)
        out.writestr(f"{PROJECT_DIR}/setup_data.sh", SETUP_DATA.format(p4_step=step, p4_args=args))
        out.writestr(f"{PROJECT_DIR}/grading.yml", config.path.read_bytes())
        for path in sorted(PACKAGE.rglob("*.py")):
            out.write(path, f"{PROJECT_DIR}/autograder/{path.relative_to(PACKAGE)}")
    tmp.replace(target)
