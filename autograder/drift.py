"""Library drift: a cell's error that looks like an API change in a declared library, not a student's slip.

A notebook written against one release of a library can fail under another: a keyword argument that
was removed or renamed, a function or module that is gone, an attribute lookup the library's own code
now rejects, a deprecation turned into an error. Such a failure is not the student's mistake, and it
costs every answer downstream of the cell. `detect` recognises these errors from what the kernel
reported (the exception's name, message and traceback text) and names the library and the version in
use; the engine turns each into a concern for the instructor, and the score stands. A NameError, a
wrong shape or any error that can't be tied to a declared library is the student's, and is not flagged.

Everything here is a pure function of its arguments: no kernel, no imports of the libraries themselves.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# A frame in an installed package, in IPython's traceback text (any IPython since 7)
LIBRARY_FRAME = re.compile(r"(?:site|dist)-packages/([A-Za-z_][A-Za-z0-9_]*)")
# Python's own complaint about a call's arguments: "LassoCV.__init__() got an unexpected keyword argument 'x'"
UNEXPECTED_KEYWORD = re.compile(r"^(?P<callee>[\w.<>]+)\(\) got an unexpected keyword argument '(?P<arg>\w+)'")
POSITIONAL_COUNT = re.compile(
    r"^(?P<callee>[\w.<>]+)\(\) takes (?:from \d+ to )?\d+ positional arguments? but \d+ (?:positional arguments? )?(?:was|were) given"
)
MODULE_ATTRIBUTE = re.compile(r"^module '(?P<module>[\w.]+)' has no attribute '(?P<attr>\w+)'")
OBJECT_ATTRIBUTE = re.compile(r"^'(?P<type>[\w.]+)' object has no attribute '(?P<attr>\w+)'")
CANNOT_IMPORT = re.compile(r"^cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'")
NO_MODULE = re.compile(r"^No module named '(?P<module>[\w.]+)'")
DEPRECATION = re.compile(r"deprecat|\bremoved\b|no longer (?:supported|accepted|available)", re.IGNORECASE)
CALLEE = re.compile(r"((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\s*\(")
OWN = ""  # in a name map: defined by the notebook itself
# Types whose missing attribute is the student's slip wherever it surfaces: a list handed to a library
# that wanted an array ("'list' object has no attribute 'shape'") is a wrong argument, not an API change.
PLAIN_TYPES = {n for n, v in vars(builtins).items() if isinstance(v, type)} | {
    "NoneType",
    "function",
    "method",
    "builtin_function_or_method",
    "generator",
    "module",
    "coroutine",
}


@dataclass(frozen=True)
class Drift:
    """A cell's error that looks like an API change in `library` (its declared name), at `version`."""

    library: str
    version: str
    error: str  # "TypeError: LassoCV.__init__() got an unexpected keyword argument 'n_alphas'"
    why: str  # what kind of API change it looks like


def detect(
    ename: str,
    evalue: str,
    traceback: str,
    libraries: Mapping[str, tuple[str, str]],
    names: Mapping[str, str] | None = None,
) -> Drift | None:
    """The library drift a cell's error points to, or None when it looks like the student's own error.

    `libraries` maps each declared library's import names to (declared name, version in use), e.g.
    {"sklearn": ("scikit-learn", "1.6.1")}; `names` maps the notebook's names to the module they were
    imported from ("LassoCV" -> "sklearn", "np" -> "numpy") or to "" for its own definitions
    (`notebook_names`). An error is drift when it is of a kind API changes cause *and* it can be tied to
    a declared library: by the module its message names, by the library code that raised it, or by
    the library name the failing line called.
    """
    names = names or {}
    text = ANSI.sub("", traceback or "")
    message = " ".join(str(evalue).split())
    error = f"{ename}: {message}" if message else ename
    frames = [m.group(1) for m in LIBRARY_FRAME.finditer(text)]
    deepest = next((libraries[f] for f in reversed(frames) if f in libraries), None)

    def found(library: tuple[str, str] | None, why: str) -> Drift | None:
        return Drift(library[0], library[1], error[:300], why) if library else None

    def of_module(module: str) -> tuple[str, str] | None:
        return libraries.get(module.split(".")[0])

    if ename in ("TypeError", "AttributeError"):  # matplotlib reports a bad keyword as an AttributeError
        call = UNEXPECTED_KEYWORD.match(message) or POSITIONAL_COUNT.match(message)
        if call:
            why = "an argument this version does not accept" if "keyword" in message else "a changed signature"
            return found(_callee_library(call["callee"], text, libraries, names, deepest), why)
    if ename == "AttributeError":
        hit = MODULE_ATTRIBUTE.match(message)
        if hit:
            return found(of_module(hit["module"]), f"`{hit['module']}.{hit['attr']}` does not exist in this version")
        hit = OBJECT_ATTRIBUTE.match(message)
        if hit:
            # A lookup on a class the notebook imported from a library, or one the library's own code
            # rejected (pandas' DataFrame.__getattr__) on one of its own types. A builtin type's missing
            # attribute ('numpy.ndarray' ... 'append', 'list' ... 'shape') is the student's slip: not drift.
            kind = hit["type"]
            why = f"`{kind.split('.')[-1]}.{hit['attr']}` does not exist in this version"
            owner = names.get(kind)
            if owner is not None:
                return found(libraries.get(owner.split(".")[0]) if owner != OWN else None, why)
            if "." in kind or kind in PLAIN_TYPES:
                return None
            return found(deepest, why)
    if ename == "ImportError":
        hit = CANNOT_IMPORT.match(message)
        if hit:
            return found(of_module(hit["module"]), f"`{hit['module']}` has no `{hit['name']}` in this version")
    if ename == "ModuleNotFoundError":
        hit = NO_MODULE.match(message)
        if hit and "." in hit["module"]:  # a submodule of an installed library: moved or removed
            return found(of_module(hit["module"]), f"module `{hit['module']}` does not exist in this version")
    if ename.endswith("Warning") or DEPRECATION.search(message):  # a deprecation turned into an error
        library = deepest or next((of_module(m) for m in re.findall(r"[A-Za-z_][\w.]*", message) if of_module(m)), None)
        return found(library, "a deprecation turned into an error")
    return None


def _callee_library(
    callee: str,
    text: str,
    libraries: Mapping[str, tuple[str, str]],
    names: Mapping[str, str],
    deepest: tuple[str, str] | None,
) -> tuple[str, str] | None:
    """The library of the callable a signature error names ("LassoCV.__init__" -> LassoCV's library)."""
    parts = [p for p in callee.split(".") if p not in ("__init__", "__call__", "__new__")]
    if not parts or parts[0].startswith("<"):  # a lambda or comprehension: the notebook's own
        return None
    head, short = parts[0], parts[-1]
    if head in names:  # the notebook imported it (LassoCV) or defined it (its own function)
        owner = names[head]
        return libraries.get(owner.split(".")[0]) if owner != OWN else None
    # The failing line's calls: `lm.LassoCV(n_alphas=5)`, `sklearn.linear_model.LassoCV(...)`
    for called in CALLEE.findall(_failing_line(text)):
        pieces = called.split(".")
        if pieces[-1] == short and len(pieces) > 1:
            owner = names.get(pieces[0], pieces[0] if pieces[0] in libraries else None)
            if owner:
                return libraries.get(owner.split(".")[0])
    return deepest  # raised inside a library (a wrapper that forwards **kwargs, pandas' read_csv)


def _failing_line(text: str) -> str:
    """The source line IPython marks with an arrow in the last frame of the traceback."""
    marked = [line for line in text.splitlines() if re.match(r"\s*-+>\s*\d+", line)]
    return re.sub(r"^\s*-+>\s*\d+\s?", "", marked[-1]) if marked else ""


def notebook_names(sources: Iterable[str]) -> dict[str, str]:
    """The names a notebook binds by import (name -> the module imported from) or by `def`/`class`
    (name -> ""), later cells overriding earlier ones. IPython's `%magic` and `!shell` lines are skipped,
    and a cell that does not parse is read line by line for its imports."""
    names: dict[str, str] = {}
    for source in sources:
        lines = [("" if re.match(r"\s*[%!]", line) else line) for line in str(source).splitlines()]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            tree = ast.Module(body=[], type_ignores=[])
            for line in lines:
                try:
                    tree.body += ast.parse(line.strip()).body
                except SyntaxError:
                    pass
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        names[alias.asname] = alias.name
                    else:
                        names[alias.name.split(".")[0]] = alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    names[alias.asname or alias.name] = node.module
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names[node.name] = OWN
    return names


def describe(drift: Drift, cell_number: int) -> str:
    """The concern's text: what the instructor reads in the summary, the CSV status and results.json."""
    return (
        f"possible library version difference: cell {cell_number} raised {drift.error} "
        f"({drift.library} {drift.version} in the student environment; {drift.why})"
    )
