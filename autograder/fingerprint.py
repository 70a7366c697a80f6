"""What a grade depends on, as digests: whether a stored grade can be kept, rescored, or must be re-run.

Two fingerprints. The observation fingerprint covers what changes what a submission's run observes —
the grading code, the probes' inputs (keys without their secret fields), the data files, the limits,
the seed, the isolation level, the students' library versions: when it differs, the notebook runs
again. The score fingerprint covers what only changes how observations are judged — points,
visibility, tolerances, params, the keys' secret (expected) values, the questions — and is applied to
the stored observations without a kernel.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograder.config import Config
from autograder.judging import probe_inputs
from autograder.suite import ITEMS

PACKAGE = Path(__file__).resolve().parent
# The parts of the observation fingerprint, and what a change of each means to a person.
OBSERVE_PARTS = {
    "code": "the grading code changed",
    "inputs": "the probes' inputs (keys) changed",
    "data": "the data files changed",
    "limits": "grading.yml's limits changed",
    "seed": "the assignment seed changed",
    "isolation": "the isolation level changed",
    "environment": "the student environment (grading.yml `environment`) changed",
}


@dataclass(frozen=True)
class Fingerprint:
    observe: dict[str, str]  # part -> digest (see OBSERVE_PARTS)
    score: str

    def observe_changes(self, stored: dict[str, str]) -> list[str]:
        """Why a run graded under `stored` must run again now (empty: it need not)."""
        return [OBSERVE_PARTS.get(part, part) for part in OBSERVE_PARTS if stored.get(part) != self.observe.get(part)]


def digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def code_digest() -> str:
    """The grading package's own source, file by file (a changed check or probe is a changed grader)."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        h.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def data_files(config: Config) -> list[Path]:
    """The data files a run can observe: everything in the data folder but the cache and the answer keys."""
    skip = {config.data.cache_dir.resolve(), config.data.answer_key_dir.resolve()}
    if not config.data.dir.is_dir():
        return []
    return sorted(p for p in config.data.dir.iterdir() if p.is_file() and p.resolve().parent not in skip)


def derived_digest(config: Config, ids: list[str], file_digest: Callable[[Path], str]) -> str:
    """What the keys (or reference figures) of `ids` are made from: the grading code, the key builders'
    view of grading.yml (seed, data settings) and the files of the data and answer-key folders."""
    from autograder.keys import key_context

    context = key_context(config, "")
    folder = config.data.answer_key_dir
    answer_keys = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    return digest(
        {
            "code": code_digest(),
            "ids": ids,
            "seed": config.assignment.seed,
            "context": {f.name: getattr(context, f.name) for f in dataclasses.fields(context) if f.name != "rng"},
            "files": {str(p): file_digest(p) for p in [*data_files(config), *answer_keys]},
        }
    )


def fingerprint(
    config: Config, bundle: dict, isolation: str, file_digest: Callable[[Path], str], timeout_s: float | None = None
) -> Fingerprint:
    """The fingerprints of grading with `bundle` (unprepared keys and check settings) on this machine;
    `timeout_s` is a notebook time limit given on the command line in place of grading.yml's."""
    keys = bundle["keys"]
    observe = {
        "code": code_digest(),
        "inputs": digest({i: probe_inputs(i, key) for i, key in keys.items()}),
        "data": digest({p.name: file_digest(p) for p in data_files(config)}),
        "limits": digest({**dataclasses.asdict(config.limits), "notebook_timeout_s_given": timeout_s}),
        "seed": digest(config.assignment.seed),
        "isolation": isolation,
        # the declared versions (`assn1 grade` runs only on an environment that has them): a changed pin regrades
        "environment": digest({k: v for k, v in dataclasses.asdict(config.environment).items() if k != "dir"}),
    }
    secrets = {i: {k: key[k] for k in ITEMS[i].secret if k in key} for i, key in keys.items()}
    questions = {
        q: [question.title, question.points, question.manual]
        for problem in config.problems.values()
        for q, question in problem.questions.items()
    }
    score = digest({"configs": bundle["configs"], "secrets": secrets, "questions": questions})
    return Fingerprint(observe, score)
