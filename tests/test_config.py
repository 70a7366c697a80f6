"""grading.yml: the real file loads; malformed ones fail in one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from autograder.config import find_config, load_config
from autograder.errors import ConfigError

from conftest import PROJECT_ROOT

EXPECTED_PROBLEM_POINTS = {"p1": 15, "p2": 10, "p3": 15, "p4": 20}


def _write_variant(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load((PROJECT_ROOT / "grading.yml").read_text())
    edit(raw)
    path = tmp_path / "grading.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _error_for(tmp_path: Path, edit) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(_write_variant(tmp_path, edit))
    message = str(info.value)
    assert "\n" not in message, "config errors must be one line"
    assert str(tmp_path / "grading.yml") in message, "config errors must name the file"
    return message


def test_project_config_loads_with_the_assignments_points():
    config = load_config(PROJECT_ROOT / "grading.yml")
    assert {name: p.points for name, p in config.problems.items()} == EXPECTED_PROBLEM_POINTS
    assert config.total_points == 60
    for problem in config.problems.values():
        assert any(q.manual for q in problem.questions.values()), "each problem has a manually graded part"
        assert any(not q.manual for q in problem.questions.values()), "each problem has an autograded part"


def test_paths_resolve_against_the_config_folder(config_file):
    config = load_config(config_file)
    assert config.data.dir == config_file.parent / "data"
    assert config.data.answer_key_dir == config_file.parent / "data" / "answer_key"


def test_unknown_key_is_named(tmp_path):
    message = _error_for(tmp_path, lambda raw: raw["limits"].update(cell_timeout=5))
    assert "unknown key `limits.cell_timeout`" in message


def test_unknown_top_level_section_is_named(tmp_path):
    message = _error_for(tmp_path, lambda raw: raw.update(extras={"a": 1}))
    assert "unknown key `extras`" in message


def test_missing_key_is_named(tmp_path):
    message = _error_for(tmp_path, lambda raw: raw["data"]["problem1"]["source"].pop("sha256"))
    assert "missing key `data.problem1.source.sha256`" in message


def test_wrong_type_is_named_with_the_value(tmp_path):
    message = _error_for(tmp_path, lambda raw: raw["limits"].update(memory_mb="lots"))
    assert "`limits.memory_mb` should be an integer; got 'lots' (str)" in message


def test_boolean_is_not_a_number(tmp_path):
    message = _error_for(tmp_path, lambda raw: raw["problems"]["p2"]["questions"]["q2_1"].update(points=True))
    assert "`problems.p2.questions.q2_1.points` should be a number" in message


def test_question_points_must_add_up_to_the_problem(tmp_path):
    message = _error_for(tmp_path, lambda raw: raw["problems"]["p3"]["questions"]["q3_2"].update(points=9))
    assert "`problems.p3` has points 15 but its questions add up to 20" in message


def test_range_pairs_must_be_ordered(tmp_path):
    message = _error_for(tmp_path, lambda raw: raw["data"]["problem1"]["generate"].update(sigma=[0.4, 0.3]))
    assert "`data.problem1.generate.sigma`" in message


def test_negative_limit_is_rejected(tmp_path):
    message = _error_for(tmp_path, lambda raw: raw["limits"].update(cell_timeout_s=-1))
    assert "`limits.cell_timeout_s` should be a positive number; got -1" in message


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "grading.yml"
    path.write_text("assignment:\n  title: [unclosed\n")
    with pytest.raises(ConfigError, match=r"grading.yml line \d+: not valid YAML"):
        load_config(path)


def test_find_config_walks_up(tmp_path, config_file):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_config(nested) == config_file


def test_find_config_says_what_to_do_when_absent(tmp_path):
    empty = tmp_path / "nowhere"
    empty.mkdir()
    if any((p / "grading.yml").exists() for p in empty.parents):
        pytest.skip("a grading.yml exists above the temporary folder")
    with pytest.raises(ConfigError, match="pass --config PATH"):
        find_config(empty)


def test_check_points_must_add_up_to_the_question(tmp_path):
    message = _error_for(
        tmp_path,
        lambda raw: raw["problems"]["p2"]["questions"]["q2_3"]["checks"]["sample_size_scaling"].update(points=1),
    )
    assert "`problems.p2.questions.q2_3` has points 3 but its checks add up to 2" in message


def test_manual_question_cannot_have_checks(tmp_path):
    def edit(raw):
        raw["problems"]["p2"]["questions"]["q2_1_derive"]["checks"] = {
            "bandwidth_values": {"points": 2, "hidden": True}
        }

    assert "`problems.p2.questions.q2_1_derive` is manual, so it should have no `checks`" in _error_for(tmp_path, edit)


def test_optional_tolerances_take_their_defaults():
    config = load_config(PROJECT_ROOT / "grading.yml")
    check = config.problems["p1"].questions["q1_2_S"].checks["support_format"]
    assert (check.rtol, check.atol, check.params) == (1e-6, 0.0, {})


def test_yaml_exponent_without_a_dot_reads_as_a_number(tmp_path):
    path = _write_variant(tmp_path, lambda raw: None)
    path.write_text(path.read_text().replace("rtol: 1.0e-06", "rtol: 1e-6", 1))
    assert "rtol: 1e-6" in path.read_text()
    load_config(path)


def test_problem4_segments_must_lie_in_range(tmp_path):
    message = _error_for(tmp_path, lambda raw: raw["data"]["problem4"].update(test_segments=[7, 8, 10]))
    assert "`data.problem4.test_segments` should list segments in 0-9" in message


def test_problem4_source_checksums_are_checked(tmp_path):
    bad = {"real_7.gz": {"url": "https://example.org/real_7.gz", "sha256": "abc", "size": 10}}
    message = _error_for(tmp_path, lambda raw: raw["data"]["problem4"].update(sources=bad))
    assert "`data.problem4.sources.real_7.gz.sha256` should be 64 lowercase hex digits" in message


def test_a_config_without_problems_is_rejected(tmp_path):
    message = _error_for(tmp_path, lambda raw: raw.update(problems={}))
    assert "`problems` should name at least one problem" in message
