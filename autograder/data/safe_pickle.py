"""Load the course's pickled (X, y) without executing arbitrary code.

A pickle can call any importable function while it loads, so a pickle from a place we do not
control (a download whose checksum is unknown, a file a student put in data/) could run code in
the grader. This unpickler resolves only the few numpy names that rebuild plain arrays; tuples,
lists and numbers need no names at all. Anything else is refused before it is called.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from autograder.errors import DataError

# (module, name) pairs that rebuild an ndarray; numpy 2 moved numpy.core to numpy._core.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load `{module}.{name}`: only numpy arrays and tuples are allowed")


def load_arrays_pickle(path: str | Path) -> Any:
    """Unpickle `path` allowing only numpy arrays, tuples, lists and plain scalars."""
    path = Path(path)
    try:
        return _ArrayOnlyUnpickler(io.BytesIO(path.read_bytes())).load()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError) as exc:
        raise DataError(f"{path}: not a pickle of numpy arrays ({exc}).") from None
