"""The student environment: declared in grading.yml, built once by `assn1 env create`, rebuilt when a pin
changes, compared side by side by `assn1 env show`, and required by `assn1 grade`.

The project's own environment is the one `make test` builds (`tests/conftest.py: STUDENT_ENV`); the
rebuild test makes a second one in a temporary folder, from uv's cache.
"""

from __future__ import annotations

import sys

import pytest
import yaml

from autograder import environment
from autograder.cli import main
from autograder.config import load_config
from autograder.errors import ConfigError

from conftest import PROJECT_ROOT, STUDENT_ENV, project_config

LINUX = {"sys_platform": "linux", "platform_machine": "x86_64"}
MAC = {"sys_platform": "darwin", "platform_machine": "arm64"}


def _config(tmp_path, **changes):
    """The project's grading.yml with `environment` keys changed (packages merged), in tmp_path."""
    raw = project_config()
    packages = changes.pop("packages", {})
    raw["environment"].update(changes)
    raw["environment"]["packages"].update(packages)
    raw["environment"]["packages"] = {k: v for k, v in raw["environment"]["packages"].items() if v is not None}
    (tmp_path / "grading.yml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return tmp_path / "grading.yml"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"packages": {"numpy": 2.1}}, "`environment.packages.numpy` should be a non-empty string; got 2.1 (float)"),
        ({"packages": {"scikit-learn": ">=1.6"}}, "`environment.packages.scikit-learn` should be one exact version"),
        ({"packages": {"pandas": "2.2.*"}}, "`environment.packages.pandas` should be one exact version"),
        ({"packages": {"ipykernel": None}}, "`environment.packages` should pin ipykernel"),
        ({"python": "3"}, "`environment.python` should be a Python version like \"3.13\"; got '3'"),
        ({"python": 3.13}, "`environment.python` should be a non-empty string; got 3.13 (float)"),
    ],
    ids=["unquoted-version", "range", "wildcard", "no-ipykernel", "python-major-only", "python-unquoted"],
)
def test_a_malformed_declaration_is_named_in_one_line(tmp_path, changes, expected):
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, **changes))
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_the_declaration_is_complete_and_exact():
    """The issue's libraries, each at one release; the environment lives in the project folder."""
    config = load_config(PROJECT_ROOT / "grading.yml")
    declared = config.environment
    expected = {"numpy", "scipy", "pandas", "scikit-learn", "matplotlib", "tensorflow", "keras", "sympy", "ipykernel"}
    assert set(declared.packages) == expected


def test_pins_install_tensorflows_cpu_twin_only_on_linux_x86():
    config = load_config(PROJECT_ROOT / "grading.yml")
    version = config.environment.packages["tensorflow"]
    assert f"tensorflow-cpu=={version}" in environment.pins(config.environment, LINUX)
    assert f"tensorflow=={version}" in environment.pins(config.environment, MAC)


def test_requirements_are_the_pins_then_the_graders_other_dependencies_unpinned():
    from packaging.requirements import Requirement

    config = load_config(PROJECT_ROOT / "grading.yml")
    listed = environment.requirements(config, LINUX)
    pins = environment.pins(config.environment, LINUX)
    assert listed[: len(pins)] == pins
    names = [Requirement(r).name for r in listed]
    assert len(names) == len(set(names)), "each package once: a pin replaces the project's range"
    assert {"onnxruntime", "tf2onnx", "pyyaml"} <= set(names) and "uv" not in names and "tensorflow" not in names


def test_the_fingerprint_changes_with_a_pin_and_nothing_else(tmp_path):
    base = environment.fingerprint(load_config(_config(tmp_path)))
    assert environment.fingerprint(load_config(_config(tmp_path))) == base
    assert environment.fingerprint(load_config(_config(tmp_path, packages={"sympy": "1.13.3"}))) != base
    assert environment.fingerprint(load_config(_config(tmp_path, python="3.12"))) != base


def test_a_changed_pin_makes_the_gradebook_grade_again(tmp_path):
    """A stored grade is kept only while the students' versions are those it was graded with."""
    from autograder.fingerprint import fingerprint

    def observed(config_path):
        return fingerprint(load_config(config_path), {"keys": {}, "configs": {}}, "bubblewrap", lambda path: "")

    before = observed(_config(tmp_path)).observe
    assert observed(_config(tmp_path)).observe_changes(before) == []
    assert observed(_config(tmp_path, packages={"scikit-learn": "1.5.2"})).observe_changes(before) == [
        "the student environment (grading.yml `environment`) changed"
    ]


def test_an_interpreter_of_the_declared_version_or_else_the_closest_is_chosen():
    mine = f"{sys.version_info.major}.{sys.version_info.minor}"
    found, note = environment.find_interpreter(mine, explicit=sys.executable)
    assert found.minor == mine and note == ""
    found, note = environment.find_interpreter("3.99")
    assert (
        found.version[:2] >= (3, 10)
        and note == f"no Python 3.99 on this machine; built with the closest, {found.minor}"
    )


def test_the_built_environment_has_exactly_the_declared_versions(capsys):
    """What `make test` built. `assn1 env show` prints declared and installed side by side."""
    config = load_config(PROJECT_ROOT / "grading.yml")
    installed = environment.require(config)
    assert installed.versions == config.environment.packages
    assert installed.modules["sklearn"] == "scikit-learn" and installed.modules["tensorflow"] == "tensorflow"
    assert main(["--config", str(config.path), "env", "show"]) == 0
    shown = capsys.readouterr().out
    for name, version in config.environment.packages.items():
        assert any(line.split()[:3] == [name, version, version] for line in shown.splitlines()), name
    assert "matches the declaration" in shown
    if installed.python_minor != config.environment.python:
        assert f"not {config.environment.python} as students had it" in shown


def test_grade_refuses_in_one_line_when_the_environment_does_not_match(tmp_path, capsys):
    built = environment.require(load_config(PROJECT_ROOT / "grading.yml")).versions["sympy"]
    config = _config(tmp_path, packages={"sympy": "1.13.3"})
    (tmp_path / "notebook.ipynb").write_text("{}")
    assert main(["--config", str(config), "grade", str(tmp_path / "notebook.ipynb"), "-o", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert error == (
        f"assn1: error: the student environment in {environment._show(STUDENT_ENV)} does not match grading.yml's "
        f"`environment` (sympy {built} installed, 1.13.3 declared); run `assn1 env create`.\n"
    )
    assert not (tmp_path / "out" / "notebook").exists(), "nothing was graded"
    assert main(["--config", str(config), "env", "show"]) == 1
    assert any(
        line.split()[:4] == ["sympy", "1.13.3", built, "DIFFERS"] for line in capsys.readouterr().out.splitlines()
    )


def test_grade_refuses_before_the_environment_is_built(tmp_path, capsys):
    config = _config(tmp_path, dir=str(tmp_path / "not-built"))
    (tmp_path / "notebook.ipynb").write_text("{}")
    assert main(["--config", str(config), "grade", str(tmp_path / "notebook.ipynb"), "-o", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("assn1: error: the student environment of grading.yml (`environment`) is not built in ")
    assert error.endswith("; run `assn1 env create` first.\n") and error.count("\n") == 1


def test_create_builds_once_and_again_only_when_a_pin_changes(tmp_path, monkeypatch):
    """A small second environment in tmp_path (two pins, bytecode not compiled, so it builds in seconds):
    the build, the stamp and the rebuild are the real ones; only the list is shorter."""
    monkeypatch.setattr(environment, "install_list", lambda config: environment.pins(config.environment))
    monkeypatch.setattr(environment, "INSTALL_OPTIONS", ())
    raw = project_config()
    raw["environment"].update(dir=str(tmp_path / "env"), packages={"ipykernel": "6.17.1", "six": "1.16.0"})

    def declared(six: str):
        raw["environment"]["packages"]["six"] = six
        (tmp_path / "grading.yml").write_text(yaml.safe_dump(raw))
        return load_config(tmp_path / "grading.yml")

    first = declared("1.16.0")
    installed, built = environment.create(first, log=lambda line: None)
    assert built and installed.versions == {"ipykernel": "6.17.1", "six": "1.16.0"}
    assert installed.stamp["fingerprint"] == environment.fingerprint(first) and installed.stamp["lock"]
    again, built = environment.create(first, log=lambda line: None)
    assert not built and again.stamp == installed.stamp
    changed = declared("1.17.0")
    rebuilt, built = environment.create(changed, log=lambda line: None)
    assert built and rebuilt.versions["six"] == "1.17.0" and not environment.differences(changed, rebuilt)


def test_create_never_removes_a_folder_that_is_not_an_environment(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    config = load_config(_config(tmp_path, dir=str(folder)))
    with pytest.raises(environment.StudentEnvironmentError, match="exists and is not a virtual environment"):
        environment.create(config, log=lambda line: None)
    assert (folder / "keep.txt").read_text() == "mine"
