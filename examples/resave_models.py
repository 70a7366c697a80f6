"""Re-save examples/models/ with the students' Keras, weights unchanged: the files students hand in.

Students save their models with the Keras of their environment (grading.yml `environment`, Colab's),
and under otter and Gradescope the models are loaded with that Keras too. A file written by a newer
Keras may carry settings an older one rejects (Keras 3.14 added `input_axes` to the initializers'
configs; Keras 3.13 refuses them), so the examples are written by the students' Keras. Run it with the
students' environment, after `make_models.py`:

    .venv-student/bin/python examples/resave_models.py

Each file is loaded in safe mode; a config setting this Keras does not know is dropped (it only
matters for initializing new weights, never for a trained model's), and the model is saved again.
Its weights' digest must be the same before and after.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "examples" / "models"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _without(value, key: str):
    """The config with every `key` entry of a nested mapping removed."""
    if isinstance(value, dict):
        return {k: _without(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [_without(v, key) for v in value]
    return value


def load_with_this_keras(path: Path):
    """The model in `path`, its settings this Keras rejects dropped; and the names of those settings."""
    import keras

    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config, dropped = json.loads(members["config.json"]), []
    for _ in range(10):
        with tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp) / path.name
            with zipfile.ZipFile(staged, "w") as archive:
                for name, data in {**members, "config.json": json.dumps(config).encode()}.items():
                    archive.writestr(name, data)
            try:
                return keras.models.load_model(staged, safe_mode=True, compile=False), dropped
            except Exception as exc:  # Keras wraps the TypeError in its own messages
                unknown = re.findall(r"unexpected keyword argument '(\w+)'", str(exc))
                if not unknown:
                    raise
                dropped.append(unknown[-1])
                config = _without(config, unknown[-1])
    raise SystemExit(f"{path.name}: too many settings this Keras does not know ({', '.join(dropped)})")


def main() -> int:
    import keras

    from autograder.probes.p4_models import _weights_digest
    from reference import p4_cnn

    for path in sorted(MODELS.glob("*.keras")):
        model, dropped = load_with_this_keras(path)
        before = _weights_digest(model)
        p4_cnn.save_model(model, path)
        after = _weights_digest(keras.models.load_model(path, safe_mode=True, compile=False))
        if after != before:
            raise SystemExit(f"{path.name}: the weights changed on saving ({before} != {after})")
        note = f"; dropped {', '.join(sorted(set(dropped)))}" if dropped else ""
        print(f"wrote examples/models/{path.name} with Keras {keras.__version__} (weights {before[:12]}{note})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
