"""Problem-1 data: look-alikes are deterministic, in the course format, with a separate key."""

from __future__ import annotations

import pickle
import pickletools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autograder.data import problem1
from autograder.data.checksum import sha256_file
from autograder.data.safe_pickle import load_arrays_pickle
from autograder.errors import DataError

from conftest import SHARED_PROBLEM1


def _globals_named(path: Path) -> set[str]:
    """Strings a pickle pushes (module and attribute names among them), without loading it."""
    return {
        str(arg)
        for op, arg, _ in pickletools.genops(path.read_bytes())
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "GLOBAL")
    }


def test_same_seed_gives_identical_bytes(config, tmp_path):
    problem1.generate(config, seed=7)
    first = sha256_file(problem1.data_path(config))
    problem1.generate(config, seed=7)
    assert sha256_file(problem1.data_path(config)) == first
    problem1.generate(config, seed=8)
    assert sha256_file(problem1.data_path(config)) != first


def test_generated_file_loads_with_the_courses_own_code(config):
    """The notebook reads the data with pd.read_pickle; pickle.load must work as well."""
    truth = problem1.generate(config)
    path = problem1.data_path(config)
    X, y = pd.read_pickle(path)
    with open(path, "rb") as fh:
        X2, y2 = pickle.load(fh)
    assert X.shape == (100, 50) and y.shape == (100,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    beta = np.array(truth.beta)
    residual = y - X @ beta
    assert abs(residual.std(ddof=0) - truth.sigma) < 0.1, "y was drawn from the recorded truth"


def test_generated_pickle_names_the_same_numpy_globals_as_the_course_file(config):
    problem1.generate(config)
    names = _globals_named(problem1.data_path(config))
    assert "numpy.core.multiarray" in names and "numpy._core.multiarray" not in names


@pytest.mark.parametrize("seed", range(12))
def test_truth_has_the_specified_shape(config, seed):
    X, y, truth = problem1.draw_problem1(config.data.problem1.generate, seed)
    beta = np.array(truth.beta)
    nonzero = np.flatnonzero(beta)
    assert 3 <= len(nonzero) <= 5
    assert list(nonzero) == list(truth.support)
    magnitudes = np.abs(beta[nonzero])
    assert magnitudes.min() >= 0.15 and magnitudes.max() <= 0.75
    weak = abs(beta[truth.weak])
    assert 0.15 <= weak <= 0.2, "one coefficient sits near the detection limit"
    assert sum(m < 0.3 for m in magnitudes) == 1
    assert 0.35 <= truth.sigma <= 0.40
    assert X.shape == (100, 50) and abs(X.mean()) < 0.05 and abs(X.std() - 1) < 0.05


def test_truth_goes_to_the_key_not_the_data(config):
    truth = problem1.generate(config)
    data = load_arrays_pickle(problem1.data_path(config))
    assert isinstance(data, tuple) and len(data) == 2, "the student file holds only (X, y)"
    key_file = problem1.key_path(config)
    assert key_file.parent != problem1.data_path(config).parent
    assert problem1.read_key(key_file) == truth
    assert truth.data_sha256 == sha256_file(problem1.data_path(config))


def test_generate_refuses_to_overwrite_the_course_file(config, tmp_path):
    fake_course = replace(
        config.data.problem1,
        source=replace(config.data.problem1.source, sha256=sha256_file(_written(config))),
    )
    guarded = replace(config, data=replace(config.data, problem1=fake_course))
    with pytest.raises(DataError, match="is the course's real file; pass --force"):
        problem1.generate(guarded, seed=99)
    problem1.generate(guarded, seed=99, force=True)


def _written(config) -> Path:
    problem1.generate(config)
    return problem1.data_path(config)


def test_safe_loader_refuses_code_without_running_it(tmp_path):
    sentinel = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (sentinel,))

    bad = tmp_path / "bad.pkl"
    bad.write_bytes(pickle.dumps((np.zeros((2, 2)), Exploit())))
    with pytest.raises(DataError, match="refusing to load `pathlib.Path.touch`|refusing to load `pathlib"):
        load_arrays_pickle(bad)
    assert not sentinel.exists()


def test_loader_rejects_wrong_shape_and_dtype(tmp_path):
    wrong_dtype = tmp_path / "f32.pkl"
    wrong_dtype.write_bytes(pickle.dumps((np.zeros((100, 50), np.float32), np.zeros(100))))
    with pytest.raises(DataError, match="should be float64; got float32"):
        problem1.load_xy(wrong_dtype)
    wrong_shape = tmp_path / "shape.pkl"
    wrong_shape.write_bytes(pickle.dumps((np.zeros((100, 50)), np.zeros(99))))
    with pytest.raises(DataError, match=r"got X \(100, 50\) and y \(99,\)"):
        problem1.load_xy(wrong_shape)
    not_tuple = tmp_path / "list.pkl"
    not_tuple.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DataError, match="should hold a tuple"):
        problem1.load_xy(not_tuple)


@pytest.mark.skipif(not SHARED_PROBLEM1.exists(), reason="the course's problem1_Xy.pkl is not beside the project")
def test_course_file_loads_through_the_project_loader(config):
    """grading.yml's checksum and size are the real file's; the safe loader reads it."""
    assert sha256_file(SHARED_PROBLEM1) == config.data.problem1.source.sha256
    assert SHARED_PROBLEM1.stat().st_size == config.data.problem1.source.size
    X, y = problem1.load_xy(SHARED_PROBLEM1, n_cols=50)
    assert X.shape == (100, 50) and X.dtype == np.float64
    assert y.shape == (100,) and y.dtype == np.float64
    assert _globals_named(SHARED_PROBLEM1) >= {"numpy.core.multiarray", "_reconstruct", "ndarray", "dtype"}
