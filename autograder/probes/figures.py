"""Probe for plots: the figure descriptions the engine recorded while the notebook ran."""

from __future__ import annotations

FIGURES_NAME = "__assn1_figures__"


def probe_figures(answers: dict, key: dict) -> dict:
    """The recorded figures (axes scales, labels, line counts and bounded line data), as plain data."""
    figures = answers.get(FIGURES_NAME)
    if not isinstance(figures, list):
        return {"figures": [], "error": "no figures were recorded"}
    return {"figures": figures}
