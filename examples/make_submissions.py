"""Write examples/submissions/: the reference solution as a student would submit it, and flawed variants.

Each variant is the reference notebook with named edits; its flaw is stated in a comment cell at the
top, and `FLAWS` records which checks it should fail, so tests can hold the grader to it.
Run after `assn1 build` (it reads the built solution notebook):

    python examples/make_submissions.py
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_NOTEBOOK = ROOT / "dist" / "autograder" / "assn1.ipynb"
OUT = ROOT / "examples" / "submissions"


@dataclass(frozen=True)
class Variant:
    """A submission: its flaw in one sentence, the checks it must fail, and the source edits making it."""

    flaw: str
    fails: tuple[str, ...] = ()
    edits: tuple[tuple[str, str], ...] = field(default=())


SEED_P1_SELECT = """from sklearn.linear_model import LassoCV, LinearRegression
reg = LassoCV(cv=5, random_state=0).fit(X, y)
S_hat = np.where(reg.coef_ != 0)[0]"""

VARIANTS = {
    "reference": Variant("none: the instructor's solution, expected to earn every autograded point."),
    "seed_student_p1": Variant(
        "Problem 1 as the seed student answered it: the LassoCV support (many noise columns), a "
        "LinearRegression refit, and the risk computed as the mean of the residuals, not squared and "
        "without the intercept (0.0377 on the course data).",
        fails=("q1_2_S.support_recovery", "q1_2_risk.risk_format", "q1_2_risk.risk_band"),
        edits=(
            ("S_hat = select_by_bic(X, y)", SEED_P1_SELECT),
            (
                "beta_hat = refit(X, y, S_hat)[1]",
                "lnreg = LinearRegression().fit(X[:, S_hat], y)\nbeta_hat = lnreg.coef_",
            ),
            ("risk_hat = float(np.mean(squared_errors))", "risk_hat = np.mean(y - X[:, S_hat].dot(lnreg.coef_))"),
        ),
    ),
    "p2_wrong_risk_rate": Variant(
        "Problem 2.2 states the risk rate as n^(-1/(p+4)), the bandwidth's rate, instead of n^(-4/(p+4)).",
        fails=("q2_2.exponent_values",),
        edits=(("return -4 / (p + 4)", "return -1 / (p + 4)"),),
    ),
    "p3_column_output": Variant(
        "Problem 3.2 returns the fit as a (len(x), 1) column; in the simulation it broadcasts into a "
        "grid and the squared bias comes out wrong.",
        fails=("q3_2.regress_shape", "q3_2.regress_values"),
        edits=(("return K_x @ alpha_hat(K, y, lmbda)", "return (K_x @ alpha_hat(K, y, lmbda)).reshape(-1, 1)"),),
    ),
    "p3_missing_identity": Variant(
        "Problem 3.1 solves (K + lambda) alpha = Y, adding lambda to every entry of K instead of to its diagonal.",
        fails=("q3_1.alpha_stationary", "q3_1.alpha_objective", "q3_2.regress_limits", "q3_2.regress_values"),
        edits=(("return np.linalg.solve(K + lmbda * np.eye(len(Y)), Y)", "return np.linalg.solve(K + lmbda, Y)"),),
    ),
}

MARKER_LINE = re.compile(r"^\s*# (BEGIN|END) SOLUTION\s*$")


def as_submitted(source: str) -> str:
    """The cell as a student would have it: without the master's solution markers."""
    lines = [line for line in source.splitlines() if not MARKER_LINE.match(line)]
    return "\n".join(re.sub(r"\s*# SOLUTION$", "", line) for line in lines)


def make(name: str, variant: Variant, base: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(base)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = as_submitted(cell.source)
    for old, new in variant.edits:
        hits = [cell for cell in nb.cells if old in cell.source]
        if len(hits) != 1:
            raise SystemExit(f"{name}: edit target {old!r} found in {len(hits)} cells; update VARIANTS")
        hits[0].source = hits[0].source.replace(old, new)
    header = f"# Example submission `{name}`.\n# Flaw: {variant.flaw}"
    nb.cells.insert(0, nbformat.v4.new_code_cell(header))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def main() -> int:
    if not SOLUTION_NOTEBOOK.exists():
        print(f"{SOLUTION_NOTEBOOK} not found; run `assn1 build` first", file=sys.stderr)
        return 1
    base = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, variant in VARIANTS.items():
        nbformat.write(make(name, variant, base), OUT / f"{name}.ipynb")
        print(f"wrote {OUT.relative_to(ROOT)}/{name}.ipynb")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
