"""Problem 4's known mistakes, read from the grader's measurement of each model file."""

from __future__ import annotations

from autograder.checks.p4_models import is_baseline, overstated
from autograder.misconceptions import Misconception

ACCURACY = ("q4_2.accuracy", "q4_3.accuracy")
ONE_CLASS = 0.95  # a model giving one label to this share of the (balanced) test images predicts one class


def _facts(observed: dict) -> dict:
    facts = observed.get("file") or {}
    return {} if "error" in facts else facts


def _one_class(observed: dict, key: dict) -> bool:
    share = _facts(observed).get("predicted_fake")
    return share is not None and max(share, 1 - share) >= ONE_CLASS


def _baseline(observed: dict, key: dict) -> bool:
    layers = _facts(observed).get("layers")
    return bool(layers) and is_baseline(layers)


MISCONCEPTIONS = (
    Misconception(
        "p4.one-class",
        "a model that predicts one class",
        "A network that labels (nearly) every image the same way has learned nothing about the images; check "
        "that the loss falls during training and that the inputs are scaled as in the baseline.",
        ACCURACY,
        _one_class,
    ),
    Misconception(
        "p4.baseline-architecture",
        "the baseline handed in as the improved model",
        "These are the baseline's layers, and trained the baseline's way they reach the baseline's accuracy; "
        "change the network or how it is trained (more data, epochs, batch size), and measure on the same test set.",
        ACCURACY,
        _baseline,
    ),
    Misconception(
        "p4.reported-above-measured",
        "a reported accuracy above the model's measured one",
        "Report the accuracy of the very model you save, measured on the test segments after training; a "
        "figure from another run, or from the training or validation data, is higher than the test set gives.",
        ACCURACY,
        lambda observed, key: overstated(observed),
    ),
)
