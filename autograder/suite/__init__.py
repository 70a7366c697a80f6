"""The assignment's content: for each automatic check, which answers it reads, how the grader
builds its key, how the answers are probed in the student's kernel, and which check judges them.

The engine only sees `ITEMS`; adding a problem means adding a module here and its checks in
grading.yml.
"""

from __future__ import annotations

from autograder.suite import p1_lasso, p2_bandwidth, p3_mercer, p4_cnn
from autograder.suite.item import Item

ITEMS: dict[str, Item] = {
    item.id: item for module in (p1_lasso, p2_bandwidth, p3_mercer, p4_cnn) for item in module.ITEMS
}
# question -> a function of the KeyContext drawing the reference's figure for the feedback pages
REFERENCE_FIGURES = {q: draw for module in (p1_lasso, p2_bandwidth) for q, draw in module.FIGURES.items()}
