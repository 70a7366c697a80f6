"""Problem 4 model files: read in safe mode in a separate process, never executed; measured on the test set."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from autograder.checks import p4_models as checks
from autograder.checks.spec import CheckConfig
from autograder.data import problem4
from autograder.isolated import IsolatedError, run_isolated
from autograder.suite import ITEMS
from autograder.judging import judge, measure

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from reference import p4_cnn as ref  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def runner(workdir: Path):
    """`run` as the engine hands it to inspect, without the sandbox prefix (that is tested elsewhere)."""

    def run(target: str, inputs: dict[str, str] | None = None, **kwargs):
        return run_isolated(target, kwargs, workdir, [], ENV, timeout_s=300, inputs=inputs)

    return run


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Model files of every kind a student might hand in, made once."""
    folder = tmp_path_factory.mktemp("models")
    marker = folder / "lambda-ran"
    made = {}
    made["baseline"] = ref.save_model(ref.build_baseline(), folder / "baseline.keras")
    made["improved"] = ref.save_model(ref.build_improved_2(), folder / "improved.keras")

    def touch(x):
        marker.write_text("the Lambda layer's code ran")
        return x

    lam = keras.Sequential([keras.Input((128, 128, 1)), layers.Lambda(touch), layers.Flatten(), layers.Dense(2)])
    made["lambda"] = ref.save_model(lam, folder / "lambda.keras")
    marker.unlink(missing_ok=True)  # building the model called it; from here on it must never run

    @keras.saving.register_keras_serializable(package="student")
    class Doubler(layers.Layer):
        def call(self, x):
            return 2 * x

    custom = keras.Sequential([keras.Input((128, 128, 1)), Doubler(), layers.Flatten(), layers.Dense(2)])
    made["custom"] = ref.save_model(custom, folder / "custom.keras")
    wrong = keras.Sequential([keras.Input((64, 64, 1)), layers.Flatten(), layers.Dense(2)])
    made["wrong_input"] = ref.save_model(wrong, folder / "wrong_input.keras")
    three = keras.Sequential([keras.Input((128, 128, 1)), layers.Flatten(), layers.Dense(3)])
    made["three_classes"] = ref.save_model(three, folder / "three_classes.keras")
    made["not_a_model"] = folder / "not_a_model.keras"
    made["not_a_model"].write_text("print('hello')\n")
    return made, marker


@pytest.fixture(scope="module")
def test_set(tmp_path_factory):
    """A small test set: segments 7 and 8 at 128 images per file, decompressed into a cache."""
    import shutil

    from autograder.config import load_config

    from conftest import PROJECT_ROOT

    folder = tmp_path_factory.mktemp("p4data")
    shutil.copyfile(PROJECT_ROOT / "grading.yml", folder / "grading.yml")
    config = load_config(folder / "grading.yml")
    problem4.generate(config, segments=[7, 8], images_per_segment=128, jobs=2)
    return problem4.test_set(config.data.dir, config.data.cache_dir, [7, 8])


def _key(test_set, file="brain_food_model_1.keras"):
    return {"file": file, "batch": {"images": str(test_set.images), "labels": str(test_set.labels)}}


def _inspect(path: Path, test_set, workdir: Path) -> dict:
    import shutil

    kept = workdir / "brain_food_model_1.keras"
    shutil.copyfile(path, kept)
    return measure(ITEMS["q4_2.accuracy"], kept, _key(test_set), runner(workdir))


@pytest.mark.parametrize(
    "kind, message",
    [
        ("lambda", "needs code to load"),
        ("custom", "could not be loaded as a Keras model"),
        ("not_a_model", "not a .keras model file"),
        ("wrong_input", r"takes input of shape \[None, 64, 64, 1\]"),
        ("three_classes", r"gives output of shape \[None, 3\]"),
    ],
)
def test_unsafe_or_unusable_files_are_rejected_with_a_clear_message(models, test_set, tmp_path, kind, message):
    made, marker = models
    found = _inspect(made[kind], test_set, tmp_path)
    assert "error" in found
    assert re.search(message, found["error"]), found["error"]
    assert not marker.exists(), "a Lambda layer's code ran while the file was read"
    assert found["fault"] == "submission", "an unusable file is the submission's doing, not the grader's"
    cfg = CheckConfig("q4_2.accuracy", 4.0, params={"partial_from": 0.89, "full_from": 0.95})
    result = judge("q4_2.accuracy", {"answers": {"reported": 0.99}, "file": found, "printed": {}}, _key(test_set), cfg)
    assert result.status == "failed"
    assert result.points == 0 and "could not be graded" in result.message


def test_a_valid_model_is_measured_through_onnx_and_agrees_with_keras(models, test_set, tmp_path):
    made, _ = models
    found = _inspect(made["improved"], test_set, tmp_path)
    assert found["evaluated_with"] == "onnxruntime" and found["images"] == test_set.count
    model = keras.models.load_model(made["improved"], safe_mode=True, compile=False)
    images = np.load(test_set.images)
    labels = np.load(test_set.labels)
    expected = float(np.mean(np.argmax(model.predict(images, verbose=0), axis=1) == labels))
    assert found["accuracy"] == pytest.approx(expected, abs=1.5 / test_set.count)  # float ties at most
    assert found["params"] == model.count_params()
    assert [layer["class"] for layer in found["layers"]] == [type(layer).__name__ for layer in model.layers]


def test_the_baseline_signature_is_the_reference_baseline(models, test_set, tmp_path):
    made, _ = models
    baseline = _inspect(made["baseline"], test_set, tmp_path)
    assert checks.is_baseline(baseline["layers"]) and baseline["params"] == 62_338
    (tmp_path / "second").mkdir()
    improved = _inspect(made["improved"], test_set, tmp_path / "second")
    assert not checks.is_baseline(improved["layers"])


def test_the_isolated_process_reports_a_crash_without_a_result(tmp_path):
    with pytest.raises(IsolatedError, match="died with status"):
        run_isolated("os:_exit", {"status": 3}, tmp_path, [], ENV, timeout_s=60)
    with pytest.raises(IsolatedError, match="longer than"):
        run_isolated("os:system", {"command": "sleep 30"}, tmp_path, [], ENV, timeout_s=2)
    assert run_isolated("math:hypot", {}, tmp_path, [], ENV, timeout_s=60) == 0.0


def test_an_unusable_test_set_is_the_graders_fault_not_the_students(models, test_set, tmp_path):
    """A damaged test set (the grader's data) makes the model checks "errored": 0 points, the student told
    it is not their doing, the instructor told the cause; the same model measures fine with good data."""
    made, _ = models
    damaged = tmp_path / "images.npy"
    damaged.write_bytes(b"not an array")
    key = {"file": "brain_food_model_1.keras", "batch": {"images": str(damaged), "labels": str(test_set.labels)}}
    kept = tmp_path / "brain_food_model_1.keras"
    kept.write_bytes(made["improved"].read_bytes())
    found = measure(ITEMS["q4_2.accuracy"], kept, key, runner(tmp_path))
    assert found["fault"] == "grader", found
    cfg = CheckConfig("q4_2.accuracy", 4.0, params={"partial_from": 0.83, "full_from": 0.95})
    result = judge("q4_2.accuracy", {"answers": None, "file": found, "printed": {}}, key, cfg)
    assert result.status == "errored" and result.points == 0
    assert "not in your work" in result.message and "instructor will regrade" in result.message
    assert [c.kind for c in result.concerns] == ["grader"] and "could not be measured" in result.concerns[0].text


def test_unprepared_test_data_is_the_graders_fault(models, tmp_path):
    made, _ = models
    kept = tmp_path / "brain_food_model_1.keras"
    kept.write_bytes(made["improved"].read_bytes())
    key = {"file": kept.name, "batch": {"unavailable": "real_7.gz is missing"}}
    found = measure(ITEMS["q4_2.accuracy"], kept, key, runner(tmp_path))
    assert found == {"error": "the grader could not prepare its test data (real_7.gz is missing)", "fault": "grader"}


def test_the_isolated_process_says_whose_fault_a_failure_is(tmp_path):
    with pytest.raises(IsolatedError) as grader:
        run_isolated("json:loads", {"s": "{"}, tmp_path, [], ENV, timeout_s=60)
    assert grader.value.fault == "grader" and "JSONDecodeError" in str(grader.value)
    with pytest.raises(IsolatedError) as file_fault:
        run_isolated(
            "autograder.probes.p4_models:inspect_model",
            {
                "model_file": str(tmp_path / "missing.keras"),
                "onnx_file": str(tmp_path / "m.onnx"),
                "max_unpacked_mb": 1,
            },
            tmp_path,
            [],
            ENV,
            timeout_s=60,
        )
    assert file_fault.value.fault == "submission" and "was not submitted" in str(file_fault.value)
    with pytest.raises(IsolatedError) as limit:
        run_isolated("os:system", {"command": "sleep 30"}, tmp_path, [], ENV, timeout_s=2)
    assert limit.value.fault == "limit"


BASELINE_LAYERS = [
    {"class": "Conv2D", "filters": 32, "kernel_size": [5, 5]},
    {"class": "MaxPooling2D", "pool_size": [4, 4]},
    {"class": "Flatten"},
    {"class": "Dense", "units": 2},
]


def _facts(accuracy: float, digest: str, layers=BASELINE_LAYERS) -> dict:
    return {"accuracy": accuracy, "images": 12288, "params": 62338, "layers": layers, "weights_sha256": digest}


def _judged(check_id: str, files: dict, reported: float | None = None):
    cfg = CheckConfig(check_id, 4.0, params={"partial_from": 0.83, "full_from": 0.95})
    file = "brain_food_model_1.keras" if check_id.startswith("q4_2") else "brain_food_model_2.keras"
    key = {"file": file, "distinct_from": None if file.endswith("1.keras") else "brain_food_model_1.keras"}
    observed = {"answers": {"reported": reported}, "file": files.get(file), "files": files, "printed": {}}
    return judge(check_id, observed, key, cfg)


def test_the_baseline_architecture_trained_better_earns_its_accuracy_points():
    """The assignment: "improve upon this baseline model ... Train on more data": layers alone cost nothing."""
    files = {"brain_food_model_1.keras": _facts(0.9989, "a" * 64)}
    result = _judged("q4_2.accuracy", files)
    assert result.status == "passed" and result.points == 4.0, result.message
    cfg = CheckConfig("q4_2.architecture", 1.0)
    observed = {"answers": None, "file": files["brain_food_model_1.keras"], "files": files, "printed": {}}
    architecture = judge("q4_2.architecture", observed, {"file": "brain_food_model_1.keras"}, cfg)
    assert architecture.passed and "(the baseline architecture)" in architecture.message


def test_model_2_identical_to_model_1_earns_no_accuracy_points():
    same = {"brain_food_model_1.keras": _facts(0.99, "a" * 64), "brain_food_model_2.keras": _facts(0.99, "a" * 64)}
    result = _judged("q4_3.accuracy", same)
    assert result.status == "failed" and result.points == 0
    assert "same network as brain_food_model_1.keras (same layers and weights)" in result.message
    retrained = {**same, "brain_food_model_2.keras": _facts(0.99, "b" * 64)}
    assert _judged("q4_3.accuracy", retrained).points == 4.0, "the same layers trained again are another model"
    assert _judged("q4_2.accuracy", same).points == 4.0, "model 1 keeps its points"


def test_a_network_is_digested_by_its_weights(models, test_set, tmp_path):
    made, _ = models
    first = _inspect(made["improved"], test_set, tmp_path)
    (tmp_path / "again").mkdir()
    again = _inspect(made["improved"], test_set, tmp_path / "again")
    (tmp_path / "base").mkdir()
    baseline = _inspect(made["baseline"], test_set, tmp_path / "base")
    assert checks.same_network(first, again) and not checks.same_network(first, baseline)
    assert len(first["weights_sha256"]) == 64
