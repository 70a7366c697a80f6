"""The drift detector: a cell's error typical of an API change in a declared library is flagged with the
library and its version; the student's own errors are not.

The tracebacks are IPython's, as the kernel sends them (colours removed), for errors seen with
scikit-learn 1.6.1, numpy 2.1.3 and pandas 2.2.3: a frame in an installed package names its path.
"""

from __future__ import annotations

import pytest

from autograder.drift import describe, detect, notebook_names

LIBRARIES = {
    "sklearn": ("scikit-learn", "1.6.1"),
    "numpy": ("numpy", "2.1.3"),
    "pandas": ("pandas", "2.2.3"),
    "matplotlib": ("matplotlib", "3.10.0"),
    "mpl_toolkits": ("matplotlib", "3.10.0"),
    "scipy": ("scipy", "1.16.3"),
}
SITE = "/grading/.venv-student/lib/python3.11/site-packages"
IMPORTS = """
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import sklearn.linear_model as lm
from sklearn.linear_model import LassoCV
from scipy import optimize
"""
OWN = """
def risk_bound(c1, c2, n, p):
    return c1 + c2

class Smoother:
    pass
"""
NAMES = notebook_names([IMPORTS, OWN])


def _cell(line: str, *frames: str) -> str:
    """IPython's traceback text for an error raised on `line` of a cell, then in `frames` (deepest last)."""
    text = f"---------------------------------------------------------------------------\nCell In[7], line 3\n----> 3 {line}\n"
    for path, code in frames:
        text += f"\nFile {SITE}/{path}:120, in f(*args)\n--> 120 {code}\n"
    return text


def _flag(ename: str, evalue: str, traceback: str):
    return detect(ename, evalue, traceback, LIBRARIES, NAMES)


def test_a_removed_keyword_argument_of_an_imported_class_is_drift_in_its_library():
    found = _flag(
        "TypeError",
        "LassoCV.__init__() got an unexpected keyword argument 'n_alphas'",
        _cell("model = LassoCV(n_alphas=100, cv=5).fit(X, y)"),
    )
    assert (found.library, found.version) == ("scikit-learn", "1.6.1")
    assert found.error == "TypeError: LassoCV.__init__() got an unexpected keyword argument 'n_alphas'"
    assert describe(found, 7) == (
        "possible library version difference: cell 7 raised TypeError: LassoCV.__init__() got an unexpected "
        "keyword argument 'n_alphas' (scikit-learn 1.6.1 in the student environment; an argument this version "
        "does not accept)"
    )


def test_the_call_is_traced_through_a_module_alias_on_the_failing_line():
    found = _flag(
        "TypeError",
        "ElasticNetCV.__init__() got an unexpected keyword argument 'n_alphas'",
        _cell("model = lm.ElasticNetCV(n_alphas=100)"),
    )
    assert found.library == "scikit-learn"


def test_a_keyword_rejected_inside_a_library_wrapper_is_drift_in_that_library():
    found = _flag(
        "TypeError",
        "read_csv() got an unexpected keyword argument 'error_bad_lines'",
        _cell(
            "df = pd.read_csv('x.csv', error_bad_lines=False)", ("pandas/util/_decorators.py", "return func(*a, **k)")
        ),
    )
    assert (found.library, found.version) == ("pandas", "2.2.3")


def test_a_positional_argument_made_keyword_only_is_drift():
    found = _flag(
        "TypeError",
        "LassoCV.__init__() takes 1 positional argument but 2 were given",
        _cell("LassoCV(0.001)"),
    )
    assert found.library == "scikit-learn" and "changed signature" in found.why


def test_a_missing_module_attribute_is_drift_in_that_module():
    found = _flag(
        "AttributeError",
        "module 'numpy' has no attribute 'matvec'",
        _cell("np.matvec(A, x)", ("numpy/__init__.py", "raise AttributeError(...)")),
    )
    assert (found.library, found.version) == ("numpy", "2.1.3")
    assert "`numpy.matvec` does not exist in this version" == found.why


def test_an_attribute_the_librarys_own_code_rejects_is_drift():
    found = _flag(
        "AttributeError",
        "'DataFrame' object has no attribute 'append'",
        _cell("df = df.append(row, ignore_index=True)", ("pandas/core/generic.py", "return object.__getattribute__")),
    )
    assert found.library == "pandas"


def test_a_name_no_longer_importable_is_drift():
    found = _flag(
        "ImportError",
        f"cannot import name 'plot_roc_curve' from 'sklearn.metrics' ({SITE}/sklearn/metrics/__init__.py)",
        _cell("from sklearn.metrics import plot_roc_curve"),
    )
    assert found.library == "scikit-learn"


def test_a_removed_submodule_is_drift_but_a_package_not_installed_is_not():
    gone = _flag(
        "ModuleNotFoundError", "No module named 'sklearn.externals.joblib'", _cell("import sklearn.externals.joblib")
    )
    assert gone.library == "scikit-learn"
    assert _flag("ModuleNotFoundError", "No module named 'seaborn'", _cell("import seaborn as sns")) is None


def test_a_deprecation_turned_error_inside_a_library_is_drift():
    found = _flag(
        "FutureWarning",
        "The default of observed=False is deprecated and will be changed to True in a future version",
        _cell("df.groupby('g').mean()", ("pandas/core/frame.py", "warnings.warn(...)")),
    )
    assert found.library == "pandas" and "deprecation" in found.why


@pytest.mark.parametrize(
    "ename, evalue, traceback",
    [
        ("NameError", "name 'beta_hat' is not defined", _cell("risk = np.mean((y - X @ beta_hat) ** 2)")),
        (
            "ValueError",
            "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 4 is different from 3)",
            _cell("np.ones(3) @ np.ones(4)"),
        ),
        (
            "ValueError",
            "Found input variables with inconsistent numbers of samples: [100, 99]",
            _cell("LassoCV().fit(X, y[1:])", ("sklearn/utils/validation.py", "raise ValueError(...)")),
        ),
        ("TypeError", "risk_bound() got an unexpected keyword argument 'h'", _cell("risk_bound(1, 2, 3, 4, h=1)")),
        (
            "TypeError",
            "risk_bound() takes 4 positional arguments but 5 were given",
            _cell(
                "optimize.minimize(risk_bound, x0, args=(1, 2, 3, 4))", ("scipy/optimize/_optimize.py", "fun(x, *args)")
            ),
        ),
        ("AttributeError", "'numpy.ndarray' object has no attribute 'append'", _cell("errors.append(e)")),
        (
            "AttributeError",
            "'list' object has no attribute 'shape'",
            _cell("plt.plot(xs)", ("matplotlib/axes/_base.py", "n = x.shape[0]")),
        ),
        ("AttributeError", "'Smoother' object has no attribute 'fit'", _cell("Smoother().fit(X)")),
        ("ZeroDivisionError", "division by zero", _cell("1 / 0")),
        ("TypeError", "<lambda>() takes 1 positional argument but 2 were given", _cell("k(x, y)")),
    ],
    ids=[
        "name-error",
        "wrong-shape",
        "wrong-lengths-in-library",
        "own-function-keyword",
        "own-function-called-by-scipy",
        "ndarray-append",
        "list-into-matplotlib",
        "own-class-attribute",
        "zero-division",
        "lambda-arity",
    ],
)
def test_the_students_own_errors_are_not_drift(ename, evalue, traceback):
    assert _flag(ename, evalue, traceback) is None


def test_an_error_no_declared_library_explains_is_not_drift():
    assert (
        detect(
            "AttributeError", "module 'seaborn' has no attribute 'histplot'", _cell("sns.histplot(x)"), LIBRARIES, {}
        )
        is None
    )


def test_notebook_names_reads_imports_and_definitions_and_skips_magics():
    names = notebook_names(
        [
            "%matplotlib inline\n!pip install foo\nimport numpy as np, scipy.stats\nfrom sklearn import linear_model as lm",
            "def f(x):\n    from pandas import DataFrame\n    return x\nclass K: pass",
            "this is ( not python\nimport keras",
        ]
    )
    assert names == {
        "np": "numpy",
        "scipy": "scipy",
        "lm": "sklearn",
        "f": "",
        "DataFrame": "pandas",
        "K": "",
        "keras": "keras",
    }
