"""Problem 1 data: the course's (X, y) pickle, look-alikes with a known sparse truth, and their key.

The look-alike has the course file's exact format (a pickled tuple of two float64 arrays, X of
shape (n, p) and y of shape (n,)). The truth it was drawn from (support, beta, sigma, seed) goes
to a separate answer-key file that only the grading side reads.
"""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from autograder.config import Config, Problem1Generate
from autograder.data.checksum import sha256_file
from autograder.data.safe_pickle import load_arrays_pickle
from autograder.errors import DataError

KEY_NAME = "problem1_key.json"


@dataclass(frozen=True)
class Problem1Truth:
    """The model a look-alike was drawn from: y = X beta + sigma * eps."""

    seed: int
    support: tuple[int, ...]
    beta: tuple[float, ...]
    sigma: float
    weak: int
    n_rows: int
    n_cols: int
    data_sha256: str = ""


def draw_problem1(params: Problem1Generate, seed: int) -> tuple[np.ndarray, np.ndarray, Problem1Truth]:
    """Draw X ~ N(0, 1), a sparse beta with one weak coefficient, and y, all from `seed`."""
    rng = np.random.default_rng(seed)
    n, p = params.n_rows, params.n_cols
    n_strong = int(rng.integers(params.n_strong[0], params.n_strong[1] + 1))
    support = np.sort(rng.choice(p, size=n_strong + 1, replace=False))
    weak = int(rng.choice(support))
    beta = np.zeros(p)
    for j in support:
        low, high = params.weak_magnitude if j == weak else params.strong_magnitude
        beta[j] = rng.uniform(low, high) * rng.choice([-1.0, 1.0])
    sigma = float(rng.uniform(*params.sigma))
    X = rng.standard_normal((n, p))
    y = X @ beta + sigma * rng.standard_normal(n)
    truth = Problem1Truth(
        seed=seed,
        support=tuple(int(j) for j in support),
        beta=tuple(float(b) for b in beta),
        sigma=sigma,
        weak=weak,
        n_rows=n,
        n_cols=p,
    )
    return X, y, truth


class _CourseFormatPickler(pickle._Pickler):
    """Pickles arrays under the module name the course file uses, so numpy 1.x can read them too.

    numpy 2 names its array rebuilder `numpy._core.multiarray._reconstruct`, which numpy 1.x
    cannot import; the course file (and numpy 2's compatibility alias) use `numpy.core.multiarray`.
    """

    def save_global(self, obj, name=None):  # noqa: ANN001 - pickle's own signature
        if obj is _reconstruct():
            self.save("numpy.core.multiarray")
            self.save("_reconstruct")
            self.write(pickle.STACK_GLOBAL)
            self.memoize(obj)
            return
        super().save_global(obj, name)


def _reconstruct():
    return np.ndarray.__reduce__(np.zeros(1))[0]


def write_xy_pickle(path: Path, X: np.ndarray, y: np.ndarray) -> None:
    """Write (X, y) as the course does (pickle protocol 4), atomically."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        _CourseFormatPickler(fh, protocol=4).dump((X, y))
    os.replace(tmp, path)


def write_key(path: Path, truth: Problem1Truth) -> None:
    """Write the answer key as JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(truth), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_key(path: Path) -> Problem1Truth:
    """Read an answer key written by `write_key`."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        truth = Problem1Truth(**raw)
    except FileNotFoundError:
        raise DataError(f"{path}: answer key not found; run `assn1 data generate`.") from None
    except (json.JSONDecodeError, TypeError) as exc:
        raise DataError(f"{path}: not a problem-1 answer key ({exc}); run `assn1 data generate` again.") from None
    return replace(truth, support=tuple(truth.support), beta=tuple(truth.beta))


def data_path(config: Config) -> Path:
    return config.data.dir / config.data.problem1.file


def key_path(config: Config) -> Path:
    return config.data.answer_key_dir / KEY_NAME


def generate(config: Config, seed: int | None = None, force: bool = False) -> Problem1Truth:
    """Write a look-alike problem1_Xy.pkl into data/ and its answer key beside the other keys.

    Refuses to overwrite the course's real file unless `force`, since that file can't be
    regenerated offline.
    """
    target = data_path(config)
    if not force and target.exists() and sha256_file(target) == config.data.problem1.source.sha256:
        raise DataError(f"{target} is the course's real file; pass --force to replace it with a generated look-alike.")
    seed = config.data.problem1.generate.seed if seed is None else seed
    X, y, truth = draw_problem1(config.data.problem1.generate, seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_xy_pickle(target, X, y)
    truth = replace(truth, data_sha256=sha256_file(target))
    write_key(key_path(config), truth)
    return truth


def load_xy(path: str | Path, n_cols: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load (X, y) through the array-only unpickler and check the course format."""
    obj = load_arrays_pickle(path)
    check_xy(obj, path, n_cols)
    return obj


def check_xy(obj: object, path: str | Path, n_cols: int | None = None) -> None:
    """Raise DataError unless `obj` is a tuple (X float64 2-D, y float64 1-D) with matching rows."""
    if not (isinstance(obj, tuple) and len(obj) == 2 and all(isinstance(a, np.ndarray) for a in obj)):
        raise DataError(f"{path}: should hold a tuple (X, y) of two numpy arrays; got {type(obj).__name__}.")
    X, y = obj
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise DataError(f"{path}: X should be (n, p) and y (n,); got X {X.shape} and y {y.shape}.")
    if n_cols is not None and X.shape[1] != n_cols:
        raise DataError(f"{path}: X should have {n_cols} columns; got {X.shape[1]}.")
    if X.dtype != np.float64 or y.dtype != np.float64:
        raise DataError(f"{path}: X and y should be float64; got {X.dtype} and {y.dtype}.")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise DataError(f"{path}: X and y should be finite; found NaN or infinity.")
