"""The code the grader sends into a student's kernel: the setup cell, the loader and one probe cell per check.

Once the notebook has run, the loader imports the shipped checking code afresh (whatever the notebook
put in sys.modules is dropped first), once per kernel. A probe cell then calls the item's probe on the
notebook's globals and the key's *inputs* (fields marked secret never enter the kernel,
`judging.probe_inputs`), and prints the plain-data result between markers as JSON, or the probe's own
exception (the grader's fault) as `probe_error`.
"""

from __future__ import annotations

import json

from autograder.execution import FIGURES_MIME, RESULT_END, RESULT_START
from autograder.judging import probe_inputs
from autograder.suite import ITEMS

# Runs first in every kernel: fixed seeds, and a description of every figure a cell draws, sent to the
# grader as the cell ends (a display message of its own type carrying this kernel's token, which the
# engine takes out of the notebook). Nothing is kept in the notebook's namespace or in a module.
SETUP_TEMPLATE = """
def __assn1_setup(seed, token, mime, max_points=50, max_lines=30, max_figures=50):
    import random
    random.seed(seed)
    try:
        import numpy
        numpy.random.seed(seed)
    except Exception:
        pass
    try:
        import matplotlib.pyplot as plt
        from matplotlib import _pylab_helpers
        from matplotlib.collections import LineCollection
        from IPython.display import publish_display_data
    except Exception:
        return

    def line_data(line):
        x, y = line.get_xdata(orig=False), line.get_ydata(orig=False)
        try:
            x, y = [float(v) for v in x], [float(v) for v in y]
        except (TypeError, ValueError):
            return None
        step = max(1, len(x) // max_points)
        return [x[::step], y[::step]]

    def describe(fig):
        axes = []
        for ax in fig.get_axes():
            lines = [line_data(l) for l in ax.get_lines()]
            segments = sum(len(c.get_segments()) for c in ax.collections if isinstance(c, LineCollection))
            axes.append({{
                "xscale": ax.get_xscale(), "yscale": ax.get_yscale(),
                "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(), "title": ax.get_title(),
                "n_lines": len(lines), "line_collection_segments": segments,
                "n_collections": len(ax.collections), "lines": lines[:max_lines],
            }})
        return {{"axes": axes}}

    drawn = {{}}  # this cell's figures by id, described when last seen

    def record(fig):
        if len(drawn) < max_figures or id(fig) in drawn:
            try:
                drawn[id(fig)] = describe(fig)
            except Exception:
                pass

    Gcf = _pylab_helpers.Gcf
    original = {{name: getattr(Gcf, name) for name in ("destroy", "destroy_fig", "destroy_all")}}

    def destroy(num_or_manager):
        manager = num_or_manager if hasattr(num_or_manager, "canvas") else Gcf.figs.get(num_or_manager)
        if manager is not None:
            record(manager.canvas.figure)
        return original["destroy"](num_or_manager)

    def destroy_fig(fig):
        record(fig)
        return original["destroy_fig"](fig)

    def destroy_all():
        for manager in list(Gcf.figs.values()):
            record(manager.canvas.figure)
        return original["destroy_all"]()

    Gcf.destroy, Gcf.destroy_fig, Gcf.destroy_all = staticmethod(destroy), staticmethod(destroy_fig), staticmethod(destroy_all)

    def after_cell(*args):
        for manager in list(Gcf.figs.values()):
            record(manager.canvas.figure)
        if drawn:
            publish_display_data({{mime: {{"token": token, "figures": list(drawn.values())}}}})
            drawn.clear()

    def before_cell(*args):  # what the previous cell's figure flush closed was sent already
        drawn.clear()

    events = get_ipython().events
    events.callbacks["post_execute"].insert(0, after_cell)  # before the inline backend shows and closes
    events.register("pre_run_cell", before_cell)


__assn1_setup({seed}, {token!r}, {mime!r})
del __assn1_setup
"""

LOADER_TEMPLATE = """
def __assn1_load():
    import sys
    for name in [m for m in sys.modules if m == "autograder" or m.startswith("autograder.")]:
        del sys.modules[name]
    sys.path.insert(0, {shipped!r})
    try:
        import autograder.suite
    finally:
        sys.path.remove({shipped!r})


__assn1_load()
del __assn1_load
"""

PROBE_TEMPLATE = """
def __assn1_probe():
    import json, sys
    try:
        ITEMS = sys.modules["autograder.suite"].ITEMS  # loaded once the notebook had run (LOADER_TEMPLATE)
        scope = globals()
        answers = {{name: scope[name] for name in {answers!r} if name in scope}}
        text = json.dumps({{"value": ITEMS[{check_id!r}].probe(answers, json.loads({key!r}))}})
    except Exception as exc:
        text = json.dumps({{"probe_error": f"{{type(exc).__name__}}: {{str(exc)[:200]}}"}})
    sys.stdout.write({start!r} + text + {end!r})
    sys.stdout.flush()


__assn1_probe()
del __assn1_probe
"""


def setup_code(seed: int, token: str) -> str:
    """The setup cell of a kernel whose figure messages carry `token`."""
    return SETUP_TEMPLATE.format(seed=seed, token=token, mime=FIGURES_MIME)


def loader_code(shipped: str) -> str:
    """The cell that loads the checking code from `shipped` once the notebook has run."""
    return LOADER_TEMPLATE.format(shipped=shipped)


def probe_code(check_id: str, key: dict) -> str:
    return PROBE_TEMPLATE.format(
        answers=list(ITEMS[check_id].answers),
        check_id=check_id,
        key=json.dumps(probe_inputs(check_id, key)),
        start=RESULT_START,
        end=RESULT_END,
    )
