"""Problem 4 items: each improved CNN, judged from its submitted .keras file and the reported accuracy.

The kernel only reports `test_acc_N`; the model itself is read by the grader: loaded in safe mode
in a confined process, exported to ONNX and measured on the test segments with ONNX Runtime
(Keras itself when export fails). The decompressed test set is made once per batch (`prepare`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from autograder.checks import p4_mistakes
from autograder.checks import p4_models as checks
from autograder.probes.calls import to_number
from autograder.suite.item import Item, KeyContext, MeasuredFile, Param, Runner

MODELS = {"q4_2": ("brain_food_model_1.keras", "test_acc_1"), "q4_3": ("brain_food_model_2.keras", "test_acc_2")}
MAX_UNPACKED_MB = 200.0  # far above any sensible CNN for 128x128 images; stops zip bombs


# Where the test segments are looked for, first found first: the autograder zip's own copy of the
# project (setup.sh makes the data there; ASSN1_AUTOGRADER_DIR stands in for /autograder in a
# rehearsal or `otter run`), the grader's data folder from grading.yml, then a `data` folder beside the notebook.
def _bundle_data_dir() -> Path:
    return Path(os.environ.get("ASSN1_AUTOGRADER_DIR", "/autograder")) / "source" / "files" / "assn1" / "data"


TARGET = "autograder.probes.p4_models"


def _key(file: str, reported: str, distinct_from: str | None) -> Callable[[KeyContext], dict]:
    def make_key(ctx: KeyContext) -> dict:
        batch = {
            "data_dir": str(ctx.data_dir),
            "cache_dir": str(ctx.cache_dir),
            "test_segments": list(ctx.test_segments),
        }
        return {"file": file, "reported": reported, "batch": batch, "distinct_from": distinct_from}

    return make_key


def prepare(batch: dict) -> dict:
    """Decompress the test segments once (or reuse the verified cache) and add its files and digest to the batch.

    Where the segments are: see _bundle_data_dir; a folder's cache lies inside it unless grading.yml says.
    """
    from autograder.data.problem4 import segment_name, test_set

    bundled = _bundle_data_dir()
    places = [
        (bundled, bundled / "cache"),
        (Path(batch["data_dir"]), Path(batch["cache_dir"])),
        (Path("data"), Path("data/cache")),
    ]
    names = [segment_name(kind, s) for s in batch["test_segments"] for kind in ("real", "fake")]
    data_dir, cache_dir = next((p for p in places if all((p[0] / n).is_file() for n in names)), places[1])
    made = test_set(data_dir, cache_dir, batch["test_segments"])
    images = {"images": str(made.images), "labels": str(made.labels), "count": made.count, "sha256": made.sha256}
    return {**batch, **images}


def inspect(path: Path, key: dict, run: Runner) -> dict:
    """Facts of the submitted model and its accuracy on the test set, each step in a confined process."""
    onnx = path.with_suffix(".onnx")
    facts = run(f"{TARGET}:inspect_model", model_file=str(path), onnx_file=str(onnx), max_unpacked_mb=MAX_UNPACKED_MB)
    data = {"images_file": key["batch"]["images"], "labels_file": key["batch"]["labels"]}  # handed over open
    if facts["onnx"]:
        threads = max(1, min(4, os.cpu_count() or 1))
        measured = run(f"{TARGET}:evaluate_onnx", inputs=data, onnx_file=str(onnx), threads=threads)
        engine = "onnxruntime"
    else:
        measured = run(f"{TARGET}:evaluate_keras", inputs=data, model_file=str(path))
        engine = "keras"
    return {**facts, **measured, "evaluated_with": engine}


def _probe(reported: str) -> Callable[[dict, dict], dict]:
    def probe(answers: dict, key: dict) -> dict:
        return {"reported": to_number(answers.get(reported))}

    return probe


ACCURACY_PARAMS = {
    "partial_from": Param(None, 0.0, 1.0, doc="the accuracy where points start: the baseline's calibrated mean"),
    "full_from": Param(None, 0.0, 1.0, above="partial_from", doc="the accuracy that earns every point"),
}

ITEMS = [
    Item(
        question,
        name,
        (reported,),
        _key(file, reported, None if question == "q4_2" else MODELS["q4_2"][0]),  # model 2 must not be model 1
        _probe(reported),
        check,
        file=MeasuredFile(file, inspect, prepare),
        saved_output=(reported,),
        secret=("batch",),
        params=params,
    )
    for question, (file, reported) in MODELS.items()
    for name, check, params in (
        ("accuracy", checks.test_accuracy, ACCURACY_PARAMS),
        ("architecture", checks.architecture, {}),
    )
]


# 4.0's comment has no numbered heading of its own: in a notebook without otter's markers it follows the
# prompt asking whether real and fake images can be told apart (ours, and last term's "Please comment below").
WRITTEN = {"q4_0_explain": (r"spot (any )?differences", r"tell (them|real from fake|the two) apart", r"comment below")}

MISCONCEPTIONS = p4_mistakes.MISCONCEPTIONS  # the known mistakes its failed checks are matched against
