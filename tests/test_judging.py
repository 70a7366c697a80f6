"""The one judging path: whose fault decides the outcome, and every check's params are declared once.

Malformed answers from the student's code are judged ("failed", with a message about the answer);
an exception from the grader's own code, or data the grader could not make, is "errored": 0 points,
never shown as the student's mistake, and a concern for the instructor.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import yaml

from autograder.checks.spec import CheckConfig
from autograder.config import load_config
from autograder.errors import ConfigError
from autograder.judging import UNBUILT, judge, judge_answers
from autograder.results import ERRORED_MESSAGE, CheckResult, Unobserved
from autograder.suite import ITEMS

from checks.checking import private_bundle
from conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return private_bundle(tmp_path_factory, "judging")[1]


def _cfg(bundle: dict, check_id: str) -> CheckConfig:
    return CheckConfig(**bundle["configs"][check_id])


def _planted(monkeypatch, check_id: str, **changes) -> None:
    """Replace the registered item of `check_id` with a copy carrying `changes`."""
    monkeypatch.setitem(ITEMS, check_id, dataclasses.replace(ITEMS[check_id], **changes))


def test_an_exception_inside_a_check_is_errored_not_the_students_mistake(bundle, monkeypatch):
    def broken(observed, key, *, cfg):
        raise KeyError("strong")

    _planted(monkeypatch, "q2_1.bandwidth_values", check=broken)
    result = judge_answers(
        "q2_1.bandwidth_values", {}, bundle["keys"]["q2_1.bandwidth_values"], _cfg(bundle, "q2_1.bandwidth_values")
    )
    assert result.status == "errored" and result.points == 0 and result.message == ERRORED_MESSAGE
    (concern,) = result.concerns
    assert concern.kind == "grader" and concern.check_id == "q2_1.bandwidth_values"
    assert "the check raised KeyError" in concern.text


def test_an_exception_inside_a_probe_is_errored(bundle, monkeypatch):
    def broken(answers, key):
        raise RuntimeError("probe bug")

    _planted(monkeypatch, "q3_3.lambdas_chosen", probe=broken)
    result = judge_answers("q3_3.lambdas_chosen", {"lambda_hat_1": 0.1}, {}, _cfg(bundle, "q3_3.lambdas_chosen"))
    assert result.status == "errored" and "the probe raised RuntimeError: probe bug" in result.concerns[0].text


def test_a_key_the_grader_could_not_build_is_errored(bundle):
    cfg = _cfg(bundle, "q2_1.bandwidth_values")
    result = judge(
        "q2_1.bandwidth_values", {"values": [1.0]}, {UNBUILT: "its key could not be built: ValueError: x"}, cfg
    )
    assert result.status == "errored" and "its key could not be built" in result.concerns[0].text


@pytest.mark.parametrize("points", [99.0, -1.0, float("nan")])
def test_a_check_giving_impossible_points_is_errored(bundle, monkeypatch, points):
    check_id = "q3_3.lambdas_chosen"
    _planted(
        monkeypatch,
        check_id,
        check=lambda observed, key, *, cfg: CheckResult(cfg.id, "passed", "ok", points, cfg.points),
    )
    result = judge_answers(check_id, {"lambda_hat_1": 0.1, "lambda_hat_2": 0.2}, {}, _cfg(bundle, check_id))
    assert result.status == "errored"


@pytest.mark.parametrize(
    "reason, fault, status",
    [
        ("the kernel did not start", "grader", "errored"),
        ("took longer than 30 s", "limit", "failed"),
        ("x", "submission", "failed"),
    ],
)
def test_missing_answers_are_judged_by_whose_doing_it_was(bundle, reason, fault, status):
    result = judge("q3_3.lambdas_chosen", Unobserved(reason, fault), {}, _cfg(bundle, "q3_3.lambdas_chosen"))
    assert result.status == status and result.points == 0
    assert [c.kind for c in result.concerns] == ([fault] if fault != "submission" else [])


def _function_returning(value):
    return lambda *args, **kwargs: value


def _raising(*args, **kwargs):
    raise ValueError("student bug")


HOSTILE = {
    "None": None,
    "a string": "0.5",
    "NaN": float("nan"),
    "infinity": float("inf"),
    "a 2-D array": np.ones((3, 4)),
    "an empty array": np.array([]),
    "an object": object(),
    "a dict": {"a": 1},
    "a function returning a string": _function_returning("x"),
    "a function returning NaN": _function_returning(float("nan")),
    "a function returning a wrong-shaped array": _function_returning(np.ones((2, 2, 2))),
    "a function returning None": _function_returning(None),
    "a function that raises": _raising,
    "a function of no arguments": lambda: 1.0,
}


@pytest.mark.parametrize("what", sorted(HOSTILE))
def test_malformed_answers_are_failed_with_a_message_never_errored(bundle, what):
    """Whatever a student's names hold, every check judges it: failed (or passed), never a grader fault."""
    value = HOSTILE[what]
    for check_id, key in bundle["keys"].items():
        item = ITEMS[check_id]
        if item.file is not None or item.engine_only:
            continue
        answers = {name: value for name in item.answers}
        result = judge_answers(check_id, answers, key, _cfg(bundle, check_id))
        assert result.status in ("passed", "failed"), f"{check_id} with {what}: {result.status} {result.concerns}"
        assert result.message and "\n" not in result.message


def _config_with(tmp_path, path: list[str], value):
    raw = yaml.safe_load((PROJECT_ROOT / "grading.yml").read_text())
    node = raw
    for part in path[:-1]:
        node = node[part]
    if value is None:
        node.pop(path[-1])
    else:
        node[path[-1]] = value
    (tmp_path / "grading.yml").write_text(yaml.safe_dump(raw))
    return tmp_path / "grading.yml"


BETA = ["problems", "p1", "questions", "q1_2_beta", "checks", "beta_values", "params"]
ACCURACY = ["problems", "p4", "questions", "q4_2", "checks", "accuracy", "params"]


@pytest.mark.parametrize(
    "path, value, message",
    [
        (
            BETA,
            {"zz": 3.0},
            "`problems.p1.questions.q1_2_beta.checks.beta_values.params.zz` is not a setting of check `q1_2_beta.beta_values`; its settings: alpha.",
        ),
        (
            BETA,
            {"alpha": -1.0},
            "`problems.p1.questions.q1_2_beta.checks.beta_values.params.alpha` should be >= 0.0001 and <= 0.2; got -1.",
        ),
        (
            BETA,
            {"alpha": "three"},
            "`problems.p1.questions.q1_2_beta.checks.beta_values.params.alpha` should be a number; got 'three' (str).",
        ),
        (ACCURACY, {"full_from": 0.95}, "`problems.p4.questions.q4_2.checks.accuracy.params.partial_from` is missing"),
        (
            ACCURACY,
            {"partial_from": 0.9, "full_from": 0.8},
            "`problems.p4.questions.q4_2.checks.accuracy.params.full_from` should be above `partial_from` (0.9); got 0.8.",
        ),
    ],
)
def test_check_params_are_validated_when_grading_yml_is_loaded(tmp_path, path, value, message):
    with pytest.raises(ConfigError) as error:
        load_config(_config_with(tmp_path, path, value))
    assert message in str(error.value) and str(tmp_path / "grading.yml") in str(error.value)
    assert "\n" not in str(error.value)


def test_a_check_reads_its_params_defaults_from_its_declaration(tmp_path):
    from autograder.keys import configured_checks

    config = load_config(_config_with(tmp_path, BETA, None))
    assert configured_checks(config)["q1_2_beta.beta_values"].params == {
        "alpha": ITEMS["q1_2_beta.beta_values"].params["alpha"].default
    }


def test_a_misspelt_params_key_stops_the_command_in_one_line(tmp_path, capsys):
    from autograder.cli import main

    config = _config_with(tmp_path, BETA, {"zz": 3.0})
    assert main(["--config", str(config), "grade", str(tmp_path), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "params.zz` is not a setting" in err and "Traceback" not in err
