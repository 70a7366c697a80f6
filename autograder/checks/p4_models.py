"""Problem 4 checks: a submitted CNN's recomputed test accuracy, and what the network is.

`observed` is plain data: {"answers": what the kernel probe read (the student's reported
test_acc_N) or None, "file": the grader's measurement of the model file, or {"error": why not},
"files": every submitted file's measurement by name, "printed": the saved outputs' figures}.

The assignment asks to improve on the baseline "in various ways: train on more data (but always
test on the same test set) ... use a different mini-batch size": a model with the baseline's layers
trained better is an improvement, so points follow the recomputed accuracy whatever the layers.
"""

from __future__ import annotations

from autograder.checks.spec import CheckConfig
from autograder.results import CheckResult, Concern, failed, passed

# The course's baseline, layer by layer (named in the report; it earns what its accuracy earns).
BASELINE_SIGNATURE = (
    ("Conv2D", 32, (5, 5)),
    ("MaxPooling2D", (4, 4)),
    ("Flatten",),
    ("Dense", 2),
)
OVERSTATED = 0.02  # a reported accuracy this far above the recomputed one is flagged for the instructor


def signature(layers: list[dict]) -> tuple:
    """The shape-defining settings of each layer, in order (activations and dropout rates aside)."""
    out = []
    for layer in layers:
        settings = [layer[k] for k in ("filters", "units") if k in layer]
        settings += [tuple(layer[k]) for k in ("kernel_size", "pool_size") if k in layer]
        out.append((layer["class"], *settings))
    return tuple(out)


def describe(layers: list[dict]) -> str:
    """A compact layer list, e.g. Conv2D(16, 3x3) > MaxPooling2D(4x4) > Flatten > Dense(2)."""
    parts = []
    for layer in layers:
        args = [str(layer[k]) for k in ("filters", "units") if k in layer]
        args += ["x".join(str(v) for v in layer[k]) for k in ("kernel_size", "pool_size") if k in layer]
        if "rate" in layer:
            args.append(f"{layer['rate']:g}")
        parts.append(layer["class"] + (f"({', '.join(args)})" if args else ""))
    return " > ".join(parts)


def is_baseline(layers: list[dict]) -> bool:
    return signature(layers) == BASELINE_SIGNATURE


def reported_accuracy(observed: dict) -> float | None:
    """The student's own test accuracy: the kernel's value, else the one their saved outputs print."""
    value = (observed.get("answers") or {}).get("reported")
    if value is None:
        printed = list((observed.get("printed") or {}).values())
        try:
            value = float(printed[0]) if printed else None
        except ValueError:
            value = None
    return float(value) if isinstance(value, (int, float)) and value == value else None


def overstated(observed: dict) -> bool:
    """The student's own figure is more than OVERSTATED above the grader's (not scored; a flag)."""
    reported, facts = reported_accuracy(observed), observed.get("file") or {}
    return reported is not None and "accuracy" in facts and reported > facts["accuracy"] + OVERSTATED


def test_accuracy(observed: dict, key: dict, cfg: CheckConfig) -> CheckResult:
    """Points rise linearly from 0 at params.partial_from (the calibrated baseline) to all at params.full_from."""
    facts = observed.get("file") or {}
    name = key["file"]
    if "error" in facts:
        return failed(cfg, f"{name} could not be graded: {facts['error']}.")
    low, high = cfg.params["partial_from"], cfg.params["full_from"]
    acc = facts["accuracy"]
    reported = reported_accuracy(observed)
    said = "you did not report it" if reported is None else f"you reported {reported:.4f}"
    flags = ()
    if overstated(observed):
        said += f", more than {OVERSTATED} above the recomputed figure (flagged for the instructor)"
        flags = (Concern("flag", f"reported accuracy {reported:.4f} for {name}, recomputed {acc:.4f}", cfg.id),)
    where = f"recomputed test accuracy of {name} on {facts['images']:,} test images: {acc:.4f}; {said}"
    twin = key.get("distinct_from")
    if twin and same_network(facts, (observed.get("files") or {}).get(twin)):
        message = (
            f"{where}; it is the same network as {twin} (same layers and weights), and the two models must differ."
        )
        return failed(cfg, message, concerns=flags)
    share = min(1.0, max(0.0, (acc - low) / (high - low)))
    scale = f"full credit from {high:.2f}, partial credit above the baseline's {low:.2f}"
    if share >= 1.0:
        return passed(cfg, f"{where} ({scale}).", concerns=flags)
    return failed(cfg, f"{where} ({scale}).", points=round(cfg.points * share, 2), concerns=flags)


def architecture(observed: dict, key: dict, cfg: CheckConfig) -> CheckResult:
    """The file loads safely (no code run) as a 128x128x1 -> 2 network; reports its layers."""
    facts = observed.get("file") or {}
    name = key["file"]
    if "error" in facts:
        return failed(cfg, f"{name} could not be loaded: {facts['error']}.")
    what = f"{name}: {facts['params']:,} parameters, {describe(facts['layers'])}"
    return passed(cfg, f"{what}{' (the baseline architecture)' if is_baseline(facts['layers']) else ''}.")


def same_network(facts: dict, other: dict | None) -> bool:
    """Whether two measured files hold one network: the same layers and the same weights."""
    if not other or "error" in other or "error" in facts:
        return False
    return signature(facts["layers"]) == signature(other["layers"]) and facts.get("weights_sha256") == other.get(
        "weights_sha256"
    )
