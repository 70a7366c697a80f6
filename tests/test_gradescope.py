"""The zip's grading entry and its otter plugin, without a notebook: what the engine is handed from an
/autograder tree, and how its result reaches otter (results.pkl, `otter run`'s events). The full runs,
every example through the zip, are in tests/engine/test_otter_bundle.py."""

from __future__ import annotations

import csv
import io
import os
import pickle
import stat
import zipfile

import nbformat
import pytest

from autograder.gradescope import _keep_from_student_code, collect, otter_results
from autograder.judging import score_questions
from autograder.keys import configured_checks
from autograder.otter_plugin import EngineGrades
from autograder.reports import write_gradebook
from autograder.results import SubmissionResult, failed, passed


def test_collect_packs_the_students_files_named_after_the_notebook(tmp_path):
    folder = tmp_path / "submission"
    (folder / "extra").mkdir(parents=True)
    (folder / "hw.ipynb").write_text("{}")
    (folder / "brain_food_model_1.keras").write_bytes(b"model")
    (folder / "extra" / "notes.txt").write_text("notes")
    (folder / "tests").mkdir()
    (folder / "tests" / "q1.py").write_text("otter's")
    (folder / "__init__.py").write_text("")
    (folder / "link.keras").symlink_to(folder / "brain_food_model_1.keras")
    submission = collect(folder, tmp_path / "packed", exclude=("tests", "__init__.py"))
    assert submission.name == "hw" and submission.path.name == "hw.zip"
    with zipfile.ZipFile(submission.path) as archive:
        assert sorted(archive.namelist()) == ["brain_food_model_1.keras", "extra/notes.txt", "hw.ipynb"]


def test_collect_takes_a_lone_zip_as_the_submission(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "assn1_2024.zip").write_bytes(b"PK")
    submission = collect(folder, tmp_path / "packed")
    assert (submission.name, submission.path) == ("assn1_2024", folder / "assn1_2024.zip")


def test_collect_names_a_folder_without_a_notebook_so_the_engine_can_say_so(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "readme.txt").write_text("no notebook")
    assert collect(folder, tmp_path / "packed").name == "submission"


@pytest.fixture
def partial(config):
    """A result with partial credit that is not a round number, a hidden check and a figure check."""
    checks = []
    for check_id, cfg in configured_checks(config).items():
        if check_id == "q1_2_S.support_recovery":
            checks.append(failed(cfg, "`S_hat` misses 1 strong signal.", points=cfg.points / 7))
        elif check_id == "q1_1.path_plot":
            checks.append(failed(cfg, "no figure was found for 1.1."))
        else:
            checks.append(passed(cfg, f"{check_id} holds."))
    return SubmissionResult("hw", "hw.zip", "rlimits+user", 12.0, score_questions(config, checks))


def test_otter_results_carry_each_questions_score_exactly(partial):
    graded = otter_results(partial)
    autograded = [q for q in partial.questions if not q.manual]
    assert list(graded.results) == [q.name for q in autograded]
    for q in autograded:
        test_file = graded.get_result(q.name)
        assert (test_file.score, test_file.possible) == (q.points, q.max_points), q.name
        assert [tc.name for tc in test_file.test_cases] == [c.check_id for c in q.checks]
        assert [tc.hidden for tc in test_file.test_cases] == [c.hidden for c in q.checks]
    support = graded.get_result("q1_2_S").test_case_results[1]
    assert not support.passed and support.message == f"[failed] {3 / 7:g}/3 `S_hat` misses 1 strong signal."
    assert graded.total == partial.total
    assert "Graded by hand: 1.2 Explanation and justification (3 points)" in graded.output


def test_otter_grades_csv_from_results_pkl_matches_assn1s_gradebook(partial, tmp_path):
    """`otter grade` builds final_grades.csv from each container's results.pkl: the per-question cells
    and the total are the numbers of assn1's final_grades.csv."""
    from otter.grade.utils import merge_scores_to_df

    loaded = pickle.loads(pickle.dumps(otter_results(partial)))  # as otter grade reads it back
    loaded.file = "hw.zip"
    frame = merge_scores_to_df([loaded])
    write_gradebook([partial], tmp_path / "final_grades.csv")
    ours = {r["file"]: r for r in csv.DictReader(open(tmp_path / "final_grades.csv"))}
    theirs = {r["file"]: r for r in csv.DictReader(io.StringIO(frame.to_csv(index=False)))}
    for row in ("points-per-question", "hw.zip"):
        for column in [c for c in ours[row] if c.startswith("q")] + ["total_points_earned"]:
            assert float(theirs[row][column]) == float(ours[row][column]), (row, column)


def test_a_result_with_nothing_judged_still_has_every_question(config):
    result = SubmissionResult(
        "hw", "hw.zip", "bubblewrap", 1.0, score_questions(config, []), not_graded="not a notebook"
    )
    graded = otter_results(result)
    assert graded.possible == result.possible and graded.total == 0
    assert graded.get_result("q2_1").test_case_results[0].message == "Not graded: not a notebook"


def _plugin(tree):
    (tree / "submission").mkdir(parents=True)
    return EngineGrades(str(tree / "submission" / "hw.ipynb"), {}, {})


def test_plugin_gives_otter_an_empty_notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os; os.remove('x')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    empty = _plugin(tmp_path).before_execution(nb)
    assert empty.cells == [] and empty.metadata["kernelspec"]["name"] == "python3"


def test_plugin_puts_the_engines_results_in_place_of_otters(partial, tmp_path):
    from otter.test_files import GradingResults

    plugin = _plugin(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "results.pkl").write_bytes(pickle.dumps(otter_results(partial)))
    otters = GradingResults([])
    plugin.after_grading(otters)
    assert {n: t.score for n, t in otters.results.items()} == {
        q.name: q.points for q in partial.questions if not q.manual
    }
    assert otters.output.startswith("Grading status: Completed")


def test_the_zips_files_are_root_s_alone_while_student_code_runs(tmp_path):
    (tmp_path / "source").mkdir(mode=0o755)
    (tmp_path / "submission_metadata.json").write_text("{}")
    os.chmod(tmp_path / "submission_metadata.json", 0o644)
    _keep_from_student_code(tmp_path)
    assert stat.S_IMODE((tmp_path / "source").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "submission_metadata.json").stat().st_mode) == 0o600
