"""The probes run in the students' kernel, whose numpy is whatever their term pinned: numpy 1.x and 2.x
must give the same plain data.

The same answers go through every problem 1-3 probe here (this environment's numpy 2) and in a small
environment with numpy 1.26 and nothing else (the probes need nothing else), and the results must agree.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import environment
from autograder.judging import observe
from autograder.results import Unobserved
from autograder.suite import ITEMS

from checks.checking import private_bundle
from conftest import PROJECT_ROOT

NUMPY_1 = "numpy==1.26.4"  # the last 1.x: wheels for Python 3.9 to 3.12
ANSWERS = """
import numpy as np

S_hat = [3, 5, 6]
beta_hat = [0.7, 0.6, 0.3]
risk_hat = 0.14

def optimal_bandwidth(c1, c2, n, p):
    return (p * c2 / (4 * c1 * n)) ** (1 / (p + 4))

def risk_bound(c1, c2, n, p):
    h = optimal_bandwidth(c1, c2, n, p)
    return c1 * h**4 + c2 / (n * h**p)

bandwidth_exponent, risk_exponent = -1 / 5, -4 / 5
sample_size = lambda R, p: R ** (-(p + 4) / 4)

def alpha_hat(K, Y, lmbda):
    return np.linalg.solve(K + lmbda * np.eye(len(K)), Y)

def kernel1(x, y):
    return np.exp(-np.subtract.outer(np.ravel(x), np.ravel(y)) ** 2 / 2)

def kernel2(x, y):
    return np.exp(-np.abs(np.subtract.outer(np.ravel(x), np.ravel(y))))

def mercer_kernel_regress(kernel, X, y, x, lmbda):
    K = kernel(X, X)
    return kernel(x, X) @ np.linalg.solve(K + lmbda * np.eye(len(X)), y)

lambda_hat_1, lambda_hat_2 = 0.01, 0.1
"""
RUN = """
import json, sys
import numpy
from autograder.judging import observe
from autograder.results import Unobserved
keys = json.load(open(sys.argv[1]))
answers = {}
exec(sys.argv[2], answers)
out = {"numpy": numpy.__version__}
for check_id, key in keys.items():
    got = observe(check_id, answers, key)
    out[check_id] = {"unobserved": got.reason} if isinstance(got, Unobserved) else got
print(json.dumps(out))
"""


def _probed_checks(bundle: dict) -> dict:
    """Every check of problems 1-3 whose probe runs in the kernel (not a figure, not a file)."""
    return {
        i: key
        for i, key in bundle["keys"].items()
        if not ITEMS[i].engine_only and ITEMS[i].file is None and not i.startswith("q4")
    }


@pytest.fixture(scope="module")
def numpy1_python(tmp_path_factory) -> str:
    if sys.version_info[:2] > (3, 12):
        pytest.skip(f"{NUMPY_1} has no wheels for Python {sys.version_info.major}.{sys.version_info.minor}")
    folder = tmp_path_factory.mktemp("numpy1") / "env"
    uv = environment._uv()
    run_env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(folder)], check=True, env=run_env)
    python = str(folder / "bin" / "python")
    subprocess.run([uv, "pip", "install", "--quiet", "--python", python, NUMPY_1], check=True, env=run_env)
    return python


def _same(a, b, rel: float = 1e-9) -> bool:
    """Equal plain data, floats within `rel`: numpy 1 and 2 may sum in another order (ill-conditioned solves
    in the lambda simulation differ in the 11th digit)."""
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, (int, float))
            and isinstance(b, (int, float))
            and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
        )
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, rel) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], rel) for k in a)
    return a == b


def test_probes_give_the_same_plain_data_with_numpy_1_and_2(numpy1_python, tmp_path_factory):
    _, bundle = private_bundle(tmp_path_factory, "numpy1-keys")
    keys = _probed_checks(bundle)
    keys_file = Path(tmp_path_factory.mktemp("numpy1-run")) / "keys.json"
    keys_file.write_text(json.dumps(keys))
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT), "LANG": "C.UTF-8"}
    done = subprocess.run(
        [numpy1_python, "-c", RUN, str(keys_file), ANSWERS], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    there = json.loads(done.stdout)
    assert there.pop("numpy") == NUMPY_1.split("==")[1]
    answers: dict = {}
    exec(ANSWERS, answers)
    for check_id, key in keys.items():
        here = observe(check_id, answers, key)
        here = {"unobserved": here.reason} if isinstance(here, Unobserved) else here
        assert "unobserved" not in there[check_id], f"{check_id} with numpy 1: {there[check_id]}"
        assert _same(there[check_id], here), f"{check_id}: numpy 1 gave {there[check_id]}, numpy 2 {here}"
