"""Problem 4: read a submitted `.keras` model as data and measure it on the test set.

These functions run inside `autograder.isolated`'s confined interpreter, never in the grader's
process nor in the student's kernel. `inspect_model` loads the file with Keras safe mode (no
Lambda layer, custom object or unknown class is ever executed), records the facts the question
asks the student to discuss, and exports the network to ONNX. `evaluate_onnx` then measures it
with ONNX Runtime alone, a small and fast process; `evaluate_keras` is the slower fallback for a
network ONNX export cannot handle.
"""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

from autograder.isolated import FileFault, open_input

IMAGE_SHAPE = (128, 128, 1)
CLASSES = 2
# A .keras file is a zip of config.json, metadata.json and model.weights.h5; nothing else loads.
KERAS_MEMBERS = {"config.json", "metadata.json", "model.weights.h5"}
BATCH = 64  # large enough for full speed, small enough that activations stay well under 200 MB


def inspect_model(model_file: str, onnx_file: str, max_unpacked_mb: float) -> dict:
    """Facts of the model in `model_file` and whether `onnx_file` was written; raises with a clear message."""
    path = Path(model_file)
    _check_archive(path, max_unpacked_mb)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds; the message is what matters
        text = " ".join(str(exc).split())
        if "Lambda" in text or "safe_mode" in text or "unsafe" in text.lower():
            raise FileFault(f"{path.name} needs code to load (a Lambda layer or custom code); it was not run") from None
        raise FileFault(f"{path.name} could not be loaded as a Keras model: {text[:200]}") from None
    input_shape = _shape(getattr(model, "input_shape", None))
    output_shape = _shape(getattr(model, "output_shape", None))
    if input_shape != [None, *IMAGE_SHAPE]:
        raise FileFault(f"{path.name} takes input of shape {input_shape}; the images are [None, 128, 128, 1]")
    if output_shape != [None, CLASSES]:
        raise FileFault(f"{path.name} gives output of shape {output_shape}; expected [None, 2] (real, fake)")
    facts = {
        "params": int(model.count_params()),
        "layers": [_layer_facts(layer) for layer in model.layers],
        "weights_sha256": _weights_digest(model),
        "input_shape": input_shape,
        "output_shape": output_shape,
        "onnx": False,
    }
    try:
        import numpy as np

        model(np.zeros((1, *IMAGE_SHAPE), dtype=np.float32))  # export needs a model that has been called
        model.export(onnx_file, format="onnx", verbose=False)
        facts["onnx"] = Path(onnx_file).is_file()
    except Exception as exc:  # noqa: BLE001 - fall back to Keras for evaluation
        facts["onnx_error"] = " ".join(str(exc).split())[:200]
    return facts


def evaluate_onnx(onnx_file: str, images_file: str, labels_file: str, threads: int, batch: int = BATCH) -> dict:
    """Accuracy of the argmax of the exported network on the memory-mapped test set, batch by batch."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx_file, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return _accuracy(lambda x: session.run(None, {name: x})[0], images_file, labels_file, batch, np)


def evaluate_keras(model_file: str, images_file: str, labels_file: str, batch: int = BATCH) -> dict:
    """The same measurement through Keras itself (safe mode), for networks ONNX export cannot take."""
    import numpy as np

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    model = keras.models.load_model(model_file, safe_mode=True, compile=False)
    return _accuracy(lambda x: np.asarray(model.predict_on_batch(x)), images_file, labels_file, batch, np)


def _batches(images_file: str, batch: int, np):
    """The test images in float32 batches, read from the .npy file into one reused buffer: memory stays
    at one batch, however large the test set (a memory map would keep every page it touched)."""
    with open_input(images_file) as fh:
        major, _ = np.lib.format.read_magic(fh)
        read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(fh)
        if dtype != np.float32 or tuple(shape[1:]) != IMAGE_SHAPE:
            raise RuntimeError("the test set is not a float32 (N, 128, 128, 1) array")
        buffer = np.empty((batch, *IMAGE_SHAPE), dtype=np.float32)
        for start in range(0, shape[0], batch):
            count = min(batch, shape[0] - start)
            view = buffer[:count]
            fh.readinto(memoryview(view).cast("B"))
            yield start, view


def _accuracy(predict, images_file: str, labels_file: str, batch: int, np) -> dict:
    with open_input(labels_file) as fh:
        labels = np.load(fh)
    first = next(_batches(images_file, batch, np))[1]
    predict(first)  # warm-up: graph optimisation
    started = time.perf_counter()
    correct = fake = 0
    for start, images in _batches(images_file, batch, np):
        logits = np.asarray(predict(images))
        if logits.ndim != 2 or logits.shape[1] != CLASSES or not np.all(np.isfinite(logits)):
            raise FileFault(f"the model gave output of shape {list(logits.shape)} or non-finite values")
        predicted = np.argmax(logits, axis=1)
        correct += int(np.sum(predicted == labels[start : start + len(images)]))
        fake += int(np.sum(predicted == 1))
    seconds = time.perf_counter() - started
    return {
        "accuracy": correct / len(labels),
        "predicted_fake": fake / len(labels),  # the share labelled fake: near 0 or 1, the model predicts one class
        "images": int(len(labels)),
        "seconds": round(seconds, 3),
    }


def _weights_digest(model) -> str:
    """sha256 of every weight array in order: the same digest means the same trained network."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for weights in model.get_weights():
        array = np.ascontiguousarray(weights)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _check_archive(path: Path, max_unpacked_mb: float) -> None:
    if not path.is_file():
        raise FileFault(f"{path.name} was not submitted")
    if not zipfile.is_zipfile(path):
        raise FileFault(f"{path.name} is not a .keras model file (not a zip archive); save it with model.save")
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    names = {info.filename for info in infos}
    if not {"config.json", "model.weights.h5"} <= names or not names <= KERAS_MEMBERS | {"assets/"}:
        raise FileFault(f"{path.name} is not a Keras 3 model file (it holds {sorted(names)[:5]})")
    unpacked = sum(info.file_size for info in infos) / 2**20
    if unpacked > max_unpacked_mb:
        raise FileFault(f"{path.name} unpacks to {unpacked:.0f} MB, more than the {max_unpacked_mb:g} MB allowed")


def _shape(shape) -> list | None:
    if shape is None or (isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple))):
        return None  # no input yet, or several inputs: neither can take the images
    return [None if d is None else int(d) for d in shape]


def _layer_facts(layer) -> dict:
    """A layer as plain data: its class, its shape-defining settings, its parameter count."""
    config = layer.get_config()
    settings = {
        k: config[k] for k in ("filters", "kernel_size", "pool_size", "units", "rate", "activation") if k in config
    }
    settings = {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
    return {"class": type(layer).__name__, "params": int(layer.count_params()), **settings}
