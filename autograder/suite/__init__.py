"""The assignment's content: for each automatic check, which answers it reads, how the grader
builds its key, how the answers are probed in the student's kernel, and which check judges them.

The engine only sees `ITEMS`; the manual pages `FORMULAS` and `WRITTEN`. Adding a problem means adding a module here and its checks in
grading.yml.
"""

from __future__ import annotations

from autograder.suite import p1_lasso, p2_bandwidth, p3_mercer, p4_cnn
from autograder.suite.item import Formula, Item

_MODULES = (p1_lasso, p2_bandwidth, p3_mercer, p4_cnn)
ITEMS: dict[str, Item] = {item.id: item for module in _MODULES for item in module.ITEMS}
# question -> a function of the KeyContext drawing the reference's figure for the feedback pages
REFERENCE_FIGURES = {q: draw for module in _MODULES for q, draw in getattr(module, "FIGURES", {}).items()}

# Hand-graded questions: the formulas their answers end in (suggested verdicts, never scores), by id,
# and prompt patterns that find an answer in a notebook without otter's markers or a numbered heading.
FORMULAS: dict[str, Formula] = {f.id: f for module in _MODULES for f in getattr(module, "FORMULAS", ())}
WRITTEN: dict[str, tuple[str, ...]] = {q: p for module in _MODULES for q, p in getattr(module, "WRITTEN", {}).items()}
# The known mistakes each problem's failed checks are matched against (explanations, never points).
MISCONCEPTIONS = tuple(m for module in _MODULES for m in getattr(module, "MISCONCEPTIONS", ()))
