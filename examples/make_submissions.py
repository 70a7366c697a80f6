"""Write examples/submissions/: the reference solution as a student would submit it, and flawed variants.

Each variant is the reference notebook with named edits; its flaw is stated in a comment cell at the
top, and `FLAWS` records which checks it should fail, so tests can hold the grader to it.
Run after `assn1 build` (it reads the built solution notebook):

    python examples/make_submissions.py
"""

from __future__ import annotations

import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_NOTEBOOK = ROOT / "dist" / "autograder" / "assn1.ipynb"
OUT = ROOT / "examples" / "submissions"


@dataclass(frozen=True)
class Variant:
    """A submission: its flaw in one sentence, the checks it must fail, and the source edits making it.

    A variant with `models` is a zip, as `grader.export()` makes it: the notebook plus each model file
    (submitted name, file in examples/models/); `printed` gives the saved output of the cells that
    print the reported accuracies, as the student's own run left them. `partial` names checks that
    earn some but not all of their points; `names` the known mistakes (autograder/checks/p*_mistakes.py)
    its failed checks must name.
    """

    flaw: str
    fails: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    edits: tuple[tuple[str, str], ...] = field(default=())
    models: tuple[tuple[str, str], ...] = ()
    printed: tuple[tuple[str, str], ...] = ()
    partial: tuple[str, ...] = ()


SEED_P1_SELECT = """from sklearn.linear_model import LassoCV, LinearRegression
reg = LassoCV(cv=5, random_state=0).fit(X, y)
S_hat = np.where(reg.coef_ != 0)[0]"""

IMPROVED_1 = """    model_1 = compile_model(keras.Sequential([
        keras.Input((128, 128, 1)),
        layers.Conv2D(16, (5, 5), padding="same", activation="relu"),
        layers.MaxPooling2D((4, 4)),
        layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((4, 4)),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(32, activation="relu"),
        layers.Dense(2),
    ]))
    # Keep the epoch with the best validation accuracy: a late Adam step can knock a nearly perfect net off.
    keep_best = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True)
    model_1.fit(more_images, more_labels, epochs=2, validation_split=0.2, shuffle=True, callbacks=[keep_best])"""
BASELINE_MORE_DATA = """    model_1 = compile_model(keras.Sequential([  # the baseline's layers, trained longer on more data
        keras.Input((128, 128, 1)),
        layers.Conv2D(32, (5, 5), activation="relu"),
        layers.MaxPooling2D((4, 4)),
        layers.Flatten(),
        layers.Dense(2),
    ]))
    model_1.fit(more_images, more_labels, epochs=10, validation_split=0.2, shuffle=True)"""

VARIANTS = {
    "reference": Variant("none: the instructor's solution, expected to earn every autograded point."),
    "seed_student_p1": Variant(
        "Problem 1 as the seed student answered it: the LassoCV support (many noise columns), a "
        "LinearRegression refit, and the risk computed as the mean of the residuals, not squared and "
        "without the intercept (0.0377 on the course data).",
        fails=("q1_2_S.support_recovery", "q1_2_risk.risk_format", "q1_2_risk.risk_band"),
        names=("p1.support-lassocv-alone", "p1.risk-unsquared-residual"),
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
        names=("p2.risk-rate-as-bandwidth-rate",),
        edits=(("return -4 / (p + 4)", "return -1 / (p + 4)"),),
    ),
    "p3_column_output": Variant(
        "Problem 3.2 returns the fit as a (len(x), 1) column; in the simulation it broadcasts into a "
        "grid and the squared bias comes out wrong.",
        fails=("q3_2.regress_shape", "q3_2.regress_values"),
        names=("p3.column-output",),
        edits=(("return K_x @ alpha_hat(K, y, lmbda)", "return (K_x @ alpha_hat(K, y, lmbda)).reshape(-1, 1)"),),
    ),
    "p3_missing_identity": Variant(
        "Problem 3.1 solves (K + lambda) alpha = Y, adding lambda to every entry of K instead of to its diagonal.",
        fails=("q3_1.alpha_stationary", "q3_1.alpha_objective", "q3_2.regress_limits", "q3_2.regress_values"),
        names=("p3.lambda-every-entry",),
        edits=(("return np.linalg.solve(K + lmbda * np.eye(len(Y)), Y)", "return np.linalg.solve(K + lmbda, Y)"),),
    ),
    "p4_complete": Variant(
        "none: the reference solution with both improved CNNs (trained on the synthetic segments 0-6) "
        "saved next to the notebook and submitted as a zip, as grader.export() makes it.",
        models=(("brain_food_model_1.keras", "improved_1.keras"), ("brain_food_model_2.keras", "improved_2.keras")),
        printed=(("test_acc_1", "0.9912"), ("test_acc_2", "0.9980")),
    ),
    "p4_more_data": Variant(
        "none: model 1 is the course's baseline architecture trained on segments 0-6 for 10 epochs, the "
        'assignment\'s own first suggestion ("train on more data"); it earns its accuracy like any model.',
        edits=((IMPROVED_1, BASELINE_MORE_DATA),),
        models=(
            ("brain_food_model_1.keras", "baseline_more_data.keras"),
            ("brain_food_model_2.keras", "improved_2.keras"),
        ),
        printed=(("test_acc_1", "0.9989"), ("test_acc_2", "0.9980")),
    ),
    "p4_weak": Variant(
        "Problem 4 hands in the course's baseline, trained on segments 0-2, as model 1 (it earns what its "
        "accuracy earns) and an untrained network as model 2, and reports 0.99 for both.",
        fails=("q4_2.accuracy", "q4_3.accuracy"),
        partial=("q4_2.accuracy",),
        # model 2 labels 98 % of the test images real (measured with autograder/probes/p4_models.py)
        names=("p4.baseline-architecture", "p4.one-class"),
        models=(("brain_food_model_1.keras", "baseline.keras"), ("brain_food_model_2.keras", "untrained.keras")),
        printed=(("test_acc_1", "0.99"), ("test_acc_2", "0.99")),
    ),
}
MODELS = ROOT / "examples" / "models"
ZIP_TIME = (2022, 2, 22, 0, 0, 0)  # fixed, so the zips only change when their content does

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
    for answer, value in variant.printed:
        hits = [c for c in nb.cells if c.cell_type == "code" and f'print("{answer} =", {answer})' in c.source]
        if len(hits) != 1:
            raise SystemExit(f"{name}: the cell printing {answer} found {len(hits)} times; update VARIANTS")
        hits[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{answer} = {value}\n")]
    return nb


def write(name: str, variant: Variant, nb: nbformat.NotebookNode) -> Path:
    """The notebook alone, or (with models) a zip of the notebook and its model files."""
    if not variant.models:
        nbformat.write(nb, OUT / f"{name}.ipynb")
        return OUT / f"{name}.ipynb"
    target = OUT / f"{name}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        members = [(f"{name}.ipynb", nbformat.writes(nb).encode())]
        members += [(submitted, (MODELS / source).read_bytes()) for submitted, source in variant.models]
        for member, data in members:
            archive.writestr(zipfile.ZipInfo(member, ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return target


def main() -> int:
    if not SOLUTION_NOTEBOOK.exists():
        print(f"{SOLUTION_NOTEBOOK} not found; run `assn1 build` first", file=sys.stderr)
        return 1
    base = nbformat.read(SOLUTION_NOTEBOOK, as_version=4)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, variant in VARIANTS.items():
        path = write(name, variant, make(name, variant, base))
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
