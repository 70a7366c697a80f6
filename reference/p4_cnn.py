"""Problem 4: CNNs that tell real calcium images (label 0) from GAN fakes (label 1).

Keras 3 only through backend-agnostic APIs, so the same code trains under TensorFlow or torch.
Models use built-in layers only, so their `.keras` files load with `safe_mode=True`.
"""

from __future__ import annotations

import argparse
import gzip
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

IMAGE_SHAPE = (128, 128, 1)
NUM_CLASSES = 2

__all__ = [
    "MODEL_BUILDERS",
    "TrainResult",
    "build_baseline",
    "build_improved_1",
    "build_improved_2",
    "evaluate",
    "load_data",
    "main",
    "read_gz",
    "save_model",
    "split_indices",
    "train",
]


@dataclass(frozen=True)
class TrainResult:
    """A trained model, its per-epoch metrics, and the final validation accuracy (None without one)."""

    model: keras.Model
    history: dict[str, list[float]]
    val_accuracy: float | None


def read_gz(path: str | Path, shape: Sequence[int] = (-1, 128, 128)) -> np.ndarray:
    """Images stored as gzip-compressed raw little-endian float32, reshaped to `shape`."""
    with gzip.open(path, "rb") as f:
        content = f.read()
    return np.frombuffer(content, dtype="<f4").astype(np.float32).reshape(shape)


def load_data(pieces: Sequence[int], data_dir: str | Path = "data") -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 128, 128, 1) and label column (N, 1) for the given segments, as the course loads them.

    Each segment contributes `real_{i}.gz` (label 0) followed by `fake_{i}.gz` (label 1).
    """
    data_dir = Path(data_dir)
    images: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for i in pieces:
        for kind, label in (("real", 0.0), ("fake", 1.0)):
            imgs = read_gz(data_dir / f"{kind}_{i:d}.gz", shape=(-1, *IMAGE_SHAPE))
            images.append(imgs)
            labels.append(np.full((imgs.shape[0], 1), label))
    if not images:
        return np.zeros((0, *IMAGE_SHAPE), dtype=np.float32), np.zeros((0, 1))
    return np.concatenate(images, axis=0), np.concatenate(labels, axis=0)


def _compile(model: keras.Model) -> keras.Model:
    """The course's training setup: Adam on the cross-entropy of two logits."""
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def build_baseline() -> keras.Model:
    """The course's baseline: conv 32@5x5 -> max-pool 4x4 -> flatten -> 2 logits (62,338 parameters)."""
    model = keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Conv2D(32, (5, 5), activation="relu"),
            layers.MaxPooling2D((4, 4)),
            layers.Flatten(),
            layers.Dense(NUM_CLASSES),
        ],
        name="baseline",
    )
    return _compile(model)


def build_improved_1() -> keras.Model:
    """Two conv layers, each pooled by 4, then dropout and a small dense head.

    The second convolution sees 4x4-pooled features, so the net combines texture over a wider
    window than the baseline for less computation; the dense head reads an 8x8x32 map, about a
    fifteenth of the baseline's 30,752 inputs.
    """
    model = keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Conv2D(16, (5, 5), padding="same", activation="relu"),
            layers.MaxPooling2D((4, 4)),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
            layers.MaxPooling2D((4, 4)),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(32, activation="relu"),
            layers.Dense(NUM_CLASSES),
        ],
        name="improved_1",
    )
    return _compile(model)


def build_improved_2() -> keras.Model:
    """Three conv layers of growing width (16, 32, 64), pooled after each, then dropout into the 2 logits.

    The third convolution sees a 16x16 map, so it combines cues across most of the brain (both
    hemispheres' blobs, the midline, the mask edge) before the linear read-out; the read-out has
    4,096 inputs, about an eighth of the baseline's.
    """
    model = keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            layers.Conv2D(16, (3, 3), padding="same", activation="relu"),
            layers.MaxPooling2D((4, 4)),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(NUM_CLASSES),
        ],
        name="improved_2",
    )
    return _compile(model)


MODEL_BUILDERS: dict[str, Callable[[], keras.Model]] = {
    "baseline": build_baseline,
    "improved_1": build_improved_1,
    "improved_2": build_improved_2,
}


def split_indices(n: int, validation_split: float, seed: int, holdout: str = "random") -> tuple[np.ndarray, np.ndarray]:
    """Sorted train and validation index sets.

    `holdout="last"` keeps the last rows for validation, as Keras' own `validation_split` (the
    course's call) does; after `load_data` those are nearly all fakes of the last segment.
    `"random"` draws the hold-out at random, which gives a validation accuracy worth reading.
    """
    if holdout == "last":
        split_at = int(np.floor(n * (1.0 - validation_split)))  # Keras' own rounding
        return np.arange(split_at), np.arange(split_at, n)
    if holdout != "random":
        raise ValueError(f"holdout must be 'random' or 'last', got {holdout!r}")
    n_val = int(round(n * validation_split))
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def train(
    name: str,
    images: np.ndarray,
    labels: np.ndarray,
    epochs: int,
    batch_size: int = 32,
    validation_split: float = 0.2,
    seed: int = 0,
    verbose: int | str = 0,
    holdout: str = "random",
    keep_best: bool = False,
) -> TrainResult:
    """Build the named model and fit it, holding out `validation_split` of the data (see split_indices).

    `keep_best` ends with the weights of the epoch of highest validation accuracy (the earliest on
    ties) rather than the last: an Adam step can knock a nearly perfect net off late in a short run.
    """
    keras.utils.set_random_seed(seed)
    model = MODEL_BUILDERS[name]()
    train_idx, val_idx = split_indices(len(images), validation_split, seed, holdout)
    validation_data = (images[val_idx], labels[val_idx]) if len(val_idx) else None
    fit = model.fit(
        images[train_idx],
        labels[train_idx],
        epochs=epochs,
        batch_size=batch_size,
        validation_data=validation_data,
        shuffle=True,
        verbose=verbose,
        callbacks=[keep_best_epoch(epochs)] if keep_best and validation_data else [],
    )
    history = {key: [float(v) for v in values] for key, values in fit.history.items()}
    val_accuracy = None
    if "val_accuracy" in history:
        val_accuracy = max(history["val_accuracy"]) if keep_best else history["val_accuracy"][-1]
    return TrainResult(model=model, history=history, val_accuracy=val_accuracy)


def keep_best_epoch(epochs: int) -> keras.callbacks.Callback:
    """Keras' own callback that restores, after `epochs` epochs, the weights of the best validation accuracy."""
    return keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=epochs, restore_best_weights=True)


def save_model(model: keras.Model, path: str | Path) -> Path:
    """Write the model in Keras' native `.keras` format and return the path."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model path must end in .keras, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> float:
    """Accuracy of the argmax of the model's logits, predicted one batch at a time to bound memory."""
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    if len(labels) == 0:
        raise ValueError("no images to evaluate")
    correct = 0
    for start in range(0, len(labels), batch_size):
        logits = np.asarray(model.predict_on_batch(images[start : start + batch_size]))
        correct += int(np.sum(np.argmax(logits, axis=1) == labels[start : start + batch_size]))
    return correct / len(labels)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options of the training entry point."""
    parser = argparse.ArgumentParser(description="Train a Problem 4 CNN and save it as a .keras file.")
    parser.add_argument("--model", choices=sorted(MODEL_BUILDERS), required=True)
    parser.add_argument("--segments", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--validation-split", type=float, default=0.2)
    parser.add_argument("--out", required=True, help="output path ending in .keras")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-segments", type=int, nargs="*", default=[7, 8, 9])
    parser.add_argument("--verbose", default="auto", help="Keras fit verbosity: auto, 0, 1 or 2")
    parser.add_argument("--keep-best", action="store_true", help="end with the best validation epoch's weights")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Load the training segments, train, save the model, and report validation and test accuracy."""
    args = _parse_args(argv)
    verbose: Any = args.verbose if args.verbose == "auto" else int(args.verbose)
    images, labels = load_data(args.segments, args.data_dir)
    result = train(
        args.model,
        images,
        labels,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=args.validation_split,
        seed=args.seed,
        verbose=verbose,
        keep_best=args.keep_best,
    )
    del images, labels
    path = save_model(result.model, args.out)
    print(f"saved {args.model} ({result.model.count_params():,} parameters) to {path}")
    if result.val_accuracy is not None:
        print(f"validation accuracy: {result.val_accuracy:.4f}")
    if args.test_segments:
        test_images, test_labels = load_data(args.test_segments, args.data_dir)
        test_acc = evaluate(result.model, test_images, test_labels)
        print(f"test accuracy: {test_acc:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
