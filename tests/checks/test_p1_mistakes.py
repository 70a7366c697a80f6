"""The seed student's problem 1 on the course's own data: both of its mistakes are named.

The answers are the ones the seed printed (LassoCV's 16 columns, their least-squares refit, and the mean
residual 0.0377, unsquared and without the intercept), read by the grader's own probe; the keys are built
from the course file by the grader's key builders, and the checks judge through the one judging path.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import PROJECT_ROOT, SHARED_PROBLEM1

from autograder.config import load_config
from autograder.data import problem1
from autograder.judging import judge
from autograder.keys import configured_checks, key_context
from autograder.probes.p1_lasso import probe_answers
from autograder.suite import ITEMS

SEED_S_HAT = [2, 3, 5, 6, 8, 11, 12, 19, 20, 21, 23, 26, 32, 42, 45, 48]
SEED_BETA_HAT = [
    -0.0643364, 0.29695741, 0.52519071, 0.71956429, 0.06739147, 0.08330628, -0.05529041, -0.06542213,
    -0.07389919, 0.03914796, -0.06664548, -0.02158837, -0.04292513, 0.11715993, -0.06012735, 0.06022714,
]  # fmt: skip
SEED_RISK_HAT = 0.03770867616530804
P1_CHECKS = [i for i in ITEMS if i.startswith("q1_2")]


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> tuple[dict, dict]:
    """Each problem 1 check's key and settings, built from the course's data file."""
    folder = tmp_path_factory.mktemp("course")
    shutil.copyfile(PROJECT_ROOT / "grading.yml", folder / "grading.yml")
    config = load_config(folder / "grading.yml")
    problem1.data_path(config).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHARED_PROBLEM1, problem1.data_path(config))
    configs = configured_checks(config)
    keys = {i: json.loads(json.dumps(ITEMS[i].make_key(key_context(config, i)))) for i in P1_CHECKS}
    return keys, configs


@pytest.mark.skipif(not SHARED_PROBLEM1.exists(), reason="the course's problem1_Xy.pkl is not beside the project")
def test_the_seed_students_two_mistakes_are_both_named(course):
    keys, configs = course
    observed = json.loads(
        json.dumps(probe_answers(np.array(SEED_S_HAT), np.array(SEED_BETA_HAT), np.float64(SEED_RISK_HAT)))
    )
    results = {i: judge(i, observed, keys[i], configs[i]) for i in P1_CHECKS}
    named = {i: r.misconceptions for i, r in results.items() if r.misconceptions}
    assert named == {
        "q1_2_S.support_recovery": ("p1.support-lassocv-alone",),
        "q1_2_risk.risk_band": ("p1.risk-unsquared-residual",),
    }, {i: r.message for i, r in results.items()}
    assert all(results[i].status == "failed" for i in named)
    assert "the mean residual, not squared, as the risk" in results["q1_2_risk.risk_band"].message
