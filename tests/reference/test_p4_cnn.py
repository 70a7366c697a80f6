"""Tests for the Problem 4 instructor solution (CNNs on calcium images); tiny data only."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from reference import p4_cnn as p  # noqa: E402

BASELINE_LAYERS = ["Conv2D", "MaxPooling2D", "Flatten", "Dense"]
PARAM_CAP = 150_000


def layer_classes(model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def multiply_adds(model) -> int:
    """Multiply-adds per image of the model's Conv2D and Dense layers, from their shapes."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * c_out * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return total


def write_gz(path: Path, images: np.ndarray) -> None:
    """The course's storage format: gzip of raw little-endian float32."""
    with gzip.open(path, "wb") as f:
        f.write(np.asarray(images, dtype="<f4").tobytes())


def random_images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 128, 128, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def models() -> dict:
    return {name: build() for name, build in p.MODEL_BUILDERS.items()}


def test_model_builders_are_the_three_models() -> None:
    assert set(p.MODEL_BUILDERS) == {"baseline", "improved_1", "improved_2"}
    assert p.MODEL_BUILDERS["baseline"] is p.build_baseline
    assert p.MODEL_BUILDERS["improved_1"] is p.build_improved_1
    assert p.MODEL_BUILDERS["improved_2"] is p.build_improved_2


def test_baseline_is_the_course_model(models) -> None:
    model = models["baseline"]
    assert model.count_params() == 62_338
    assert layer_classes(model) == BASELINE_LAYERS
    conv, pool, _, dense = model.layers
    assert conv.filters == 32 and tuple(conv.kernel_size) == (5, 5)
    assert conv.get_config()["activation"] == "relu" and conv.padding == "valid"
    assert tuple(pool.pool_size) == (4, 4)
    assert dense.units == 2 and dense.get_config()["activation"] == "linear"
    assert tuple(model.inputs[0].shape) == (None, 128, 128, 1)
    assert [tuple(w.shape) for w in model.weights] == [(5, 5, 1, 32), (32,), (30752, 2), (2,)]


@pytest.mark.parametrize("name", ["baseline", "improved_1", "improved_2"])
def test_models_compiled_with_course_settings(models, name: str) -> None:
    model = models[name]
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert isinstance(model.loss, keras.losses.SparseCategoricalCrossentropy)
    assert model.loss.get_config()["from_logits"] is True
    x = random_images(3, 0)
    y = np.array([[0.0], [1.0], [1.0]])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}


@pytest.mark.parametrize("name", ["improved_1", "improved_2"])
def test_improved_models_differ_from_baseline_and_stay_small(models, name: str) -> None:
    model = models[name]
    assert layer_classes(model) != BASELINE_LAYERS
    other = "improved_1" if name == "improved_2" else "improved_2"
    assert layer_classes(model) != layer_classes(models[other])
    assert tuple(model.outputs[0].shape) == (None, 2)
    assert tuple(model.inputs[0].shape) == (None, 128, 128, 1)
    assert model.count_params() < PARAM_CAP
    assert multiply_adds(model) <= 1.25 * multiply_adds(models["baseline"])


@pytest.mark.parametrize("name", ["baseline", "improved_1", "improved_2"])
def test_models_use_only_builtin_keras_layers(models, name: str) -> None:
    for layer in models[name].layers:
        assert type(layer).__module__.startswith("keras."), type(layer)
        assert not isinstance(layer, keras.layers.Lambda)


def test_read_gz_round_trips_course_format(tmp_path: Path) -> None:
    images = np.random.default_rng(1).standard_normal((3, 128, 128)).astype(np.float32)
    write_gz(tmp_path / "real_0.gz", images)
    out = p.read_gz(tmp_path / "real_0.gz")
    assert out.dtype == np.float32 and out.shape == (3, 128, 128)
    np.testing.assert_array_equal(out, images)
    four_d = p.read_gz(str(tmp_path / "real_0.gz"), shape=[-1, 128, 128, 1])
    assert four_d.shape == (3, 128, 128, 1)


def test_read_gz_reads_little_endian_bytes(tmp_path: Path) -> None:
    values = [0.5 * k - 100.0 for k in range(2 * 128 * 128)]
    with gzip.open(tmp_path / "x.gz", "wb") as f:
        f.write(struct.pack(f"<{len(values)}f", *values))
    out = p.read_gz(tmp_path / "x.gz")
    assert out.shape == (2, 128, 128)
    assert out.ravel().tolist() == values


def test_load_data_orders_segments_and_labels_real_0_fake_1(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    parts = {}
    for i, n in [(0, 2), (3, 3)]:
        for kind in ("real", "fake"):
            parts[kind, i] = rng.standard_normal((n, 128, 128)).astype(np.float32)
            write_gz(tmp_path / f"{kind}_{i}.gz", parts[kind, i])
    images, labels = p.load_data([0, 3], data_dir=tmp_path)
    assert images.dtype == np.float32 and images.shape == (10, 128, 128, 1)
    assert labels.shape == (10, 1)
    expected = np.concatenate([parts["real", 0], parts["fake", 0], parts["real", 3], parts["fake", 3]])
    np.testing.assert_array_equal(images[..., 0], expected)
    np.testing.assert_array_equal(labels[:, 0], [0, 0, 1, 1, 0, 0, 0, 1, 1, 1])


def test_split_indices_partition_the_rows() -> None:
    train_idx, val_idx = p.split_indices(50, 0.2, seed=3)
    assert len(val_idx) == 10 and len(train_idx) == 40
    assert sorted(np.concatenate([train_idx, val_idx]).tolist()) == list(range(50))
    assert not np.array_equal(val_idx, np.arange(40, 50))


@pytest.mark.parametrize("name", ["baseline", "improved_1", "improved_2"])
def test_train_runs_one_epoch_on_tiny_data(name: str) -> None:
    images = random_images(64, 4)
    labels = (np.arange(64) % 2).astype(float)[:, None]
    result = p.train(name, images, labels, epochs=1, batch_size=16, seed=0)
    assert isinstance(result.model, keras.Model)
    assert result.model.name == name
    assert 0.0 <= result.val_accuracy <= 1.0
    assert result.val_accuracy == result.history["val_accuracy"][-1]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(result.history)
    assert all(len(v) == 1 for v in result.history.values())


def test_keep_best_ends_with_the_best_validation_epochs_weights() -> None:
    images = random_images(64, 6)
    labels = (np.arange(64) % 2)[:, None]
    result = p.train("baseline", images, labels, epochs=4, batch_size=8, seed=1, keep_best=True)
    _, val_idx = p.split_indices(len(images), 0.2, seed=1)
    assert result.val_accuracy == max(result.history["val_accuracy"])
    assert result.history["val_accuracy"][-1] < result.val_accuracy  # this run's last epoch is not its best
    assert p.evaluate(result.model, images[val_idx], labels[val_idx]) == pytest.approx(result.val_accuracy)


def test_train_without_validation_reports_none() -> None:
    images = random_images(16, 5)
    labels = (np.arange(16) % 2)[:, None]
    result = p.train("baseline", images, labels, epochs=1, batch_size=8, validation_split=0.0)
    assert result.val_accuracy is None
    assert "val_accuracy" not in result.history


@pytest.mark.parametrize("name", ["baseline", "improved_1", "improved_2"])
def test_save_model_round_trips_under_safe_mode(models, name: str, tmp_path: Path) -> None:
    model = models[name]
    path = p.save_model(model, tmp_path / f"{name}.keras")
    assert path.exists()
    loaded = keras.models.load_model(path, safe_mode=True, compile=False)
    x = random_images(6, 6)
    np.testing.assert_allclose(
        np.asarray(loaded.predict_on_batch(x)), np.asarray(model.predict_on_batch(x)), rtol=1e-5, atol=1e-6
    )


def test_save_model_rejects_other_suffixes(models, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        p.save_model(models["baseline"], tmp_path / "model.h5")


@pytest.mark.parametrize("label_shape", ["column", "flat"])
def test_evaluate_matches_hand_computed_accuracy(models, label_shape: str) -> None:
    model = models["improved_2"]
    x = random_images(11, 7)
    logits = np.asarray(model.predict(x, verbose=0))
    predicted = np.argmax(logits, axis=1)
    labels = predicted.copy()
    labels[[0, 4, 9]] = 1 - labels[[0, 4, 9]]
    expected = np.mean(predicted == labels)
    assert expected == pytest.approx(8 / 11)
    y = labels[:, None].astype(float) if label_shape == "column" else labels
    assert p.evaluate(model, x, y, batch_size=4) == pytest.approx(expected)


def test_main_trains_saves_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in (0, 7):
        write_gz(tmp_path / f"real_{i}.gz", random_images(8, 10 + i)[..., 0])
        write_gz(tmp_path / f"fake_{i}.gz", random_images(8, 20 + i)[..., 0])
    out = tmp_path / "models" / "m.keras"
    argv = [
        "--model",
        "baseline",
        "--segments",
        "0",
        "--data-dir",
        str(tmp_path),
        "--epochs",
        "1",
        "--out",
        str(out),
        "--test-segments",
        "7",
        "--verbose",
        "0",
    ]
    assert p.main(argv) == 0
    assert out.exists()
    printed = capsys.readouterr().out
    assert "validation accuracy:" in printed and "test accuracy:" in printed
    keras.models.load_model(out, safe_mode=True, compile=False)


def test_split_indices_last_is_keras_validation_split() -> None:
    """The course's `validation_split=0.2` on segments 0-2 trains on 9,830 rows and validates on the last 2,458."""
    train_idx, val_idx = p.split_indices(12_288, 0.2, seed=0, holdout="last")
    assert (len(train_idx), len(val_idx)) == (9_830, 2_458)
    assert train_idx[-1] == 9_829 and val_idx[0] == 9_830 and val_idx[-1] == 12_287
    with pytest.raises(ValueError, match="holdout"):
        p.split_indices(10, 0.2, seed=0, holdout="first")
