"""Test plumbing shared by the check tests: a private bundle, and checks run exactly as the engine runs them."""

from __future__ import annotations

import json
import math
import re
import shutil

import numpy as np
import pytest

from autograder.checks.spec import CheckConfig
from autograder.config import Config, load_config
from autograder.data import problem1
from autograder.keys import build_bundle
from autograder.judging import judge_answers
from autograder.results import CheckResult

from conftest import PROJECT_ROOT


def private_bundle(tmp_path_factory, name: str) -> tuple[Config, dict]:
    """Every check's key and settings from a private copy of grading.yml with generated problem-1 data
    (the hidden problem-1 keys need it), round-tripped through JSON as the bundle is shipped."""
    folder = tmp_path_factory.mktemp(name)
    shutil.copyfile(PROJECT_ROOT / "grading.yml", folder / "grading.yml")
    config = load_config(folder / "grading.yml")
    problem1.generate(config)
    return config, json.loads(json.dumps(build_bundle(config, include_hidden=True)))


def judge(bundle: dict, check_id: str, answers: dict) -> CheckResult:
    """`answers` probed and judged through the one judging path (`judging.judge_answers`): the probe sees
    the key minus its secret fields, its result travels through JSON, the check reads the full key."""
    return judge_answers(check_id, answers, bundle["keys"][check_id], CheckConfig(**bundle["configs"][check_id]))


def expect(result: CheckResult, status: str, points: float, *phrases: str) -> None:
    """The result has this status and points, and its message contains every phrase."""
    assert result.status == status, result.message
    assert result.points == pytest.approx(points), result.message
    for phrase in phrases:
        assert phrase in result.message, f"{phrase!r} not in {result.message!r}"


def max_points(bundle: dict, check_id: str) -> float:
    return bundle["configs"][check_id]["points"]


def shown_at_3_decimals(message: str, values) -> list[float]:
    """The values whose first 3 decimals appear in `message` (as a number, or the start of a longer one)."""
    numbers = re.findall(r"\d+(?:\.\d+)?", message)
    return [
        v for v in values if math.isfinite(v) and abs(v) >= 1e-3 and any(t.startswith(f"{abs(v):.3f}") for t in numbers)
    ]


def regress_of_difference(kernel, X, y, x, lmbda):
    """Written for kernels of the difference k(x - y), as two of the real correct solutions are."""
    K = kernel(X[:, None] - X[None, :])
    return kernel(x[:, None] - X[None, :]) @ np.linalg.solve(K + lmbda * np.eye(len(X)), y)


def regress_of_gram_matrix(kernel, X, y, x, lmbda):
    """Written for kernels that return the whole Gram matrix k(A, B): one call for K, one for K(x, X)."""
    K = kernel(X, X)
    return kernel(x, X) @ np.linalg.solve(K + lmbda * np.eye(len(X)), y)


def gram_matrix_kernel(h):
    """A real student's Gaussian kernel, written for 1-D arrays and returning the len(A) x len(B) Gram matrix."""

    def k(A, B):
        return np.exp(-((A[:, None] - B[None, :]) ** 2) / (2 * h**2))

    return k


# Student-style alpha_hat(K, Y, lmbda): solvers of (K + lambda I) a = Y, all valid on exactly singular K,
# and the un-cancelled normal equations, which are not.


def alpha_pinv(K, Y, lmbda):
    return np.linalg.pinv(K + lmbda * np.eye(len(K))) @ Y


def alpha_lstsq(K, Y, lmbda):
    return np.linalg.lstsq(K + lmbda * np.eye(len(K)), Y, rcond=None)[0]


def alpha_cholesky(K, Y, lmbda):
    L = np.linalg.cholesky(K + lmbda * np.eye(len(K)))
    return np.linalg.solve(L.T, np.linalg.solve(L, Y))


def alpha_eigh(K, Y, lmbda):
    """Through K's eigendecomposition: every eigenvalue, zero ones included, shifted by lambda > 0."""
    w, V = np.linalg.eigh(K)
    return V @ ((V.T @ Y) / (w + lmbda))


def alpha_normal_equations(K, Y, lmbda):
    """The un-cancelled normal equations (K'K + lambda K) a = K'Y of a written derivation: the answer while
    K is invertible, a singular system (LinAlgError) when K is exactly singular."""
    return np.linalg.solve(K.T @ K + lmbda * K, K.T @ Y)
