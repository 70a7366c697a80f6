"""`assn1 build`: grading.yml's points reach the notebook, students get no solutions or hidden checks,
the committed student_template is what the build makes, and both notebooks run top to bottom."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile

import nbformat
import pytest
import yaml

from autograder.build import BuildError, build, inject_grading
from autograder.config import load_config
from autograder.data import problem1, problem4
from autograder.in_kernel import BUNDLE_NAME

from conftest import PROJECT_ROOT, cell_output, execute_notebook

MASTER = PROJECT_ROOT / "reference" / "assn1_master.ipynb"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One build into a temporary folder, with generated data beside the notebooks."""
    root = tmp_path_factory.mktemp("build")
    raw = yaml.safe_load((PROJECT_ROOT / "grading.yml").read_text())
    raw["build"] = {"master": str(MASTER), "student_dir": "student", "dist_dir": "dist"}
    (root / "grading.yml").write_text(yaml.safe_dump(raw))
    config = load_config(root / "grading.yml")
    problem1.generate(config)
    problem4.generate(config, segments=config.data.problem4.test_segments, images_per_segment=128)
    result = build(config)
    return config, result


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def _question_configs(nb):
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            settings = yaml.safe_load(cell.source.partition("\n")[2])
            out[settings["name"]] = settings
    return out


def test_question_points_and_test_points_come_from_grading_yml():
    config = load_config(PROJECT_ROOT / "grading.yml")
    injected = inject_grading(nbformat.read(MASTER, as_version=4), config)
    questions = {q: question for p in config.problems.values() for q, question in p.questions.items()}
    for name, settings in _question_configs(injected).items():
        assert settings["points"] == questions[name].points and settings["manual"] == questions[name].manual
    test_sources = [c.source for c in injected.cells if c.cell_type == "code" and "# BEGIN TEST CONFIG" in c.source]
    bandwidth = next(s for s in test_sources if '"q2_1.bandwidth_values"' in s)
    assert "points: 0.5\nhidden: true" in bandwidth


def _master_with(edit):
    nb = nbformat.read(MASTER, as_version=4)
    edit(nb)
    return nb


def test_build_rejects_a_question_grading_yml_does_not_know():
    config = load_config(PROJECT_ROOT / "grading.yml")

    def rename(nb):
        cell = next(c for c in nb.cells if c.cell_type == "raw" and "name: q2_1\n" in c.source)
        cell.source = cell.source.replace("name: q2_1\n", "name: q2_9\n")

    with pytest.raises(BuildError, match="question `q2_9` is not in grading.yml"):
        inject_grading(_master_with(rename), config)


def test_test_cells_are_generated_one_per_check_inside_its_question():
    """A check is declared by its item and grading.yml alone: the build writes its otter test cell."""
    from autograder.keys import configured_checks
    from autograder.suite import ITEMS

    config = load_config(PROJECT_ROOT / "grading.yml")
    assert not any("require(" in c.source for c in nbformat.read(MASTER, as_version=4).cells), "no hand-written tests"
    injected = inject_grading(nbformat.read(MASTER, as_version=4), config)
    placed, current = {}, None
    for cell in injected.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            current = yaml.safe_load(cell.source.partition("\n")[2])["name"]
        elif cell.cell_type == "raw" and cell.source.startswith("# END QUESTION"):
            current = None
        elif cell.cell_type == "code" and "require(" in cell.source:
            check_id = cell.source.split('require("')[1].split('"')[0]
            placed.setdefault(check_id, []).append(current)
    expected = {i for i in configured_checks(config) if not ITEMS[i].engine_only}
    assert set(placed) == expected
    assert all(where == [i.split(".")[0]] for i, where in placed.items()), placed


def test_build_refuses_hand_written_test_cells():
    config = load_config(PROJECT_ROOT / "grading.yml")

    def add_tests(nb):
        at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "raw" and "name: q3_3\n" in c.source)
        nb.cells.insert(at + 2, nbformat.v4.new_raw_cell("# BEGIN TESTS"))

    with pytest.raises(BuildError, match="question `q3_3` has hand-written test cells"):
        inject_grading(_master_with(add_tests), config)


def test_student_notebook_has_no_solutions(built):
    config, result = built
    text = "\n".join(c.source for c in _cells(result.student_notebook))
    for marker in ("BEGIN SOLUTION", "# SOLUTION", "select_by_bic(X, y)", "np.linalg.solve(K + lmbda", "-4 / (p + 4)"):
        assert marker not in text
    assert "def optimal_bandwidth(c1, c2, n, p):" in text and "lmbda" in text


def test_students_get_public_checks_only(built):
    config, result = built
    student = config.build.student_dir
    tests_text = "\n".join(p.read_text() for p in (student / "tests").glob("*.py"))
    bundle = json.loads((student / "autograder" / BUNDLE_NAME).read_text())
    hidden = {i for i, c in bundle["configs"].items() if c["hidden"]}
    assert not hidden
    for check_id in ("q1_2_S.support_recovery", "q2_1.bandwidth_values", "q3_2.regress_values"):
        assert check_id not in tests_text and check_id not in bundle["keys"]
    assert not (student / "autograder" / "probes" / "simulation.py").exists(), "grader-only probes hold solutions"
    full = json.loads((result.autograder_dir / "autograder" / BUNDLE_NAME).read_text())
    assert "q1_2_S.support_recovery" in full["keys"] and result.hidden_checks == 9


def test_student_notebook_runs_top_to_bottom_with_answers_missing(built, tmp_path):
    config, result = built
    work = tmp_path / "student"
    shutil.copytree(config.build.student_dir, work)
    shutil.copytree(config.data.dir, work / "data")
    nb = execute_notebook(work / "assn1.ipynb", timeout=300)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{errors[0].ename}: {errors[0].evalue}" if errors else ""
    shown = "".join(cell_output(c) for c in nb.cells if 'grader.check("q2_1")' in c.source)
    assert "could not be evaluated: returned NoneType, not a number" in shown, shown[:300]


def test_reference_notebook_passes_every_public_and_hidden_check(built, tmp_path):
    config, result = built
    work = tmp_path / "reference"
    shutil.copytree(result.autograder_dir, work)
    shutil.copytree(config.data.dir, work / "data")
    for n in (1, 2):  # the trained reference CNNs, as the student's own run would have saved them
        shutil.copyfile(
            PROJECT_ROOT / "examples" / "models" / f"improved_{n}.keras", work / f"brain_food_model_{n}.keras"
        )
    nb = execute_notebook(work / "assn1.ipynb", timeout=900)
    checks = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("grader.check(")]
    assert len(checks) == 12
    for cell in checks:
        shown = cell_output(cell)
        assert "All test cases passed!" in shown, f"{cell.source}: {shown[:300]}"


def _examples_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_submissions", PROJECT_ROOT / "examples" / "make_submissions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_example_submissions_are_current_and_name_their_flaw(built):
    _, result = built
    examples = _examples_module()
    base = nbformat.read(result.autograder_dir / "assn1.ipynb", as_version=4)
    folder = PROJECT_ROOT / "examples" / "submissions"
    assert {p.stem for p in [*folder.glob("*.ipynb"), *folder.glob("*.zip")]} == set(examples.VARIANTS)
    for name, variant in examples.VARIANTS.items():
        if variant.models:
            with zipfile.ZipFile(folder / f"{name}.zip") as archive:
                committed = nbformat.reads(archive.read(f"{name}.ipynb").decode(), as_version=4)
                for submitted, source in variant.models:
                    assert archive.read(submitted) == (examples.MODELS / source).read_bytes()
        else:
            committed = nbformat.read(folder / f"{name}.ipynb", as_version=4)
        assert committed.cells[0].source.startswith(f"# Example submission `{name}`.\n# Flaw: ")
        fresh = examples.make(name, variant, base)
        assert [(c.source, c.get("outputs")) for c in fresh.cells] == [
            (c.source, c.get("outputs")) for c in committed.cells
        ], f"examples/submissions/{name}.ipynb is stale: run `assn1 build` and examples/make_submissions.py"
        text = "\n".join(c.source for c in committed.cells)
        assert "# SOLUTION" not in text and "BEGIN SOLUTION" not in text


def test_public_tests_say_how_much_of_their_question_they_check(built):
    """A student whose public tests all pass reads that hidden checks still judge the rest."""
    config, _ = built
    tests = (config.build.student_dir / "tests" / "q1_2_S.py").read_text()
    assert (
        "These public tests check 1 of this question's 4 points; the rest (3) is checked when your submission" in tests
    )
    figures = (config.build.student_dir / "tests" / "q2_3.py").read_text()
    assert "the rest (1) is checked when your submission is graded (hidden tests and a check of the figures" in figures
    assert "These public tests" not in (config.build.student_dir / "tests" / "q3_2_kernels.py").read_text()
