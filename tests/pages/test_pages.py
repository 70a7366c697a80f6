"""The feedback pages and the class report, opened in a real headless browser (Debian's chromium).

The pages of the example batch (`graded_examples`) and of a small hostile batch: a notebook whose
markdown, outputs, error text, answers and file name carry script tags, event handlers and
`javascript:` links. Every page must load without console errors or network requests, its internal
links must resolve, its images decode, no injected markup may exist in its DOM, and the points it
shows must equal the CSV. A screenshot of each page is kept in the test's tmp folder.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest
import yaml
from markupsafe import escape

from autograder.data import problem1
from autograder.gradebook import open_gradebook
from autograder.manual.review import SUGGESTIONS_CSV, read_answers
from autograder.manual.scores import manual_questions

from conftest import PROJECT_ROOT, project_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
)
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
HOSTILE_NAME = "x<img src=y onerror=window.__xss=1>"
MARK = "window.__xss=1"


def _png(side: int = 80) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (40, 120, 200)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


HOSTILE_CELLS = [
    nbformat.v4.new_markdown_cell(
        f"# 2.1\n<script>{MARK}</script> [click](javascript:{MARK}) ![x](javascript:{MARK}) "
        f"<img src=x onerror={MARK}> $\\text{{<script>{MARK}</script>}}$ $\\href{{javascript:{MARK}}}{{y}}$ "
        f"$$h^* = \\left(\\frac{{c_2 p}}{{4 c_1 n}}\\right)^{{1/(p+4)}}$$\n\n![my <b>plot</b>](attachment:plot.png)",
        attachments={"plot.png": {"image/png": _png()}},
    ),
    nbformat.v4.new_code_cell(
        "from IPython.display import HTML, display\n"
        f"display(HTML('<img src=z onerror=\"{MARK}\"><script>{MARK}</script>'))\n"
        f"S_hat = '<script>{MARK}</script>'\n"
        f"def optimal_bandwidth(c1, c2, n, p):\n    raise ValueError('<img src=q onerror=\"{MARK}\">')\n"
        "lambda_hat_1 = '<b>bold</b>'"
    ),
    nbformat.v4.new_code_cell(f"raise RuntimeError('<script>{MARK}</script>')"),
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    (root / "grading.yml").write_text(yaml.safe_dump(project_config()))
    from autograder.config import load_config

    problem1.generate(load_config(root / "grading.yml"))
    folder = root / "submissions"
    folder.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=HOSTILE_CELLS), folder / f"{HOSTILE_NAME}.ipynb")
    out = root / "out"
    # in a process of its own: the browser's event loop may already run in this one
    command = [sys.executable, "-m", "autograder.cli", "--config", str(root / "grading.yml"), "grade", str(folder)]
    subprocess.run([*command, "-o", str(out)], env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, timeout=600)
    return out


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


def _open(browser, path: Path, shot: Path) -> dict:
    """Load a page; return what the browser saw: console errors, requests, links, images, DOM facts."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors, requests, dialogs = [], [], []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    seen = page.evaluate(
        """() => ({
            xss: window.__xss === 1,
            scripts: document.querySelectorAll('script').length,
            handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
            jsLinks: [...document.querySelectorAll('a[href]')].filter(a => a.getAttribute('href').trim().toLowerCase().startsWith('javascript:')).length,
            links: [...document.querySelectorAll('a[href]')].map(a => a.href),
            ids: [...document.querySelectorAll('[id]')].map(e => e.id),
            images: [...document.images].map(i => [i.naturalWidth, i.naturalHeight, i.complete]),
            histograms: [...document.querySelectorAll('svg[aria-label^="histogram"]')].map(s => ({
                width: s.getBoundingClientRect().width,
                counts: [...s.querySelectorAll('rect')].map(r => Number(r.dataset.count)),
            })),
            questions: [...document.querySelectorAll('section[data-question]')].map(s => [s.dataset.question, s.dataset.points, s.dataset.manual, s.dataset.graded]),
            answers: [...document.querySelectorAll('section[data-submission]')].map(s => ({
                name: s.dataset.submission, method: s.dataset.method, state: s.dataset.state, score: s.dataset.score,
                text: s.innerText,
                verdicts: [...s.querySelectorAll('tr[data-verdict]')].map(r => [r.dataset.formula, r.dataset.verdict]),
                math: [...s.querySelectorAll('math')].map(m => m.getBoundingClientRect().width),
            })),
        })"""
    )
    page.screenshot(path=str(shot), full_page=True)
    context.close()
    return {**seen, "errors": errors, "requests": requests, "dialogs": dialogs}


def _assert_sound(seen: dict, page: Path, ids_of) -> None:
    assert seen["errors"] == [], seen["errors"]
    assert all(url.startswith(("file:", "data:")) for url in seen["requests"]), seen["requests"]
    assert not seen["xss"] and not seen["dialogs"], "injected code ran"
    assert seen["scripts"] == 0 and seen["handlers"] == 0 and seen["jsLinks"] == 0, "injected markup reached the DOM"
    for width, height, complete in seen["images"]:
        assert complete and width > 50 and height > 50, "every image decodes to a real picture"
    for link in seen["links"]:
        parsed = urlparse(link)
        target = Path(unquote(parsed.path))
        assert parsed.scheme == "file" and target.is_file(), f"{link} does not resolve"
        if parsed.fragment:
            assert unquote(parsed.fragment) in ids_of(target), f"{link}: no such anchor"


@pytest.fixture(scope="module")
def id_cache(browser, tmp_path_factory):
    cache = {}
    shots = tmp_path_factory.mktemp("anchors")

    def ids_of(path: Path) -> list[str]:
        if path not in cache:
            cache[path] = _open(browser, path, shots / f"{len(cache)}.png")["ids"]
        return cache[path]

    return ids_of


def test_the_example_pages_are_sound_and_show_the_csvs_points(graded_examples, browser, id_cache, tmp_path):
    _, out = graded_examples
    rows = {r["file"]: r for r in csv.DictReader(open(out / "final_grades.csv"))}
    for name in ("reference", "p4_weak", "seed_student_p1"):
        page = out / name / "feedback.html"
        assert page.stat().st_size <= 2_000_000, f"{name}'s page is {page.stat().st_size:,} bytes"
        seen = _open(browser, page, tmp_path / f"{name}.png")
        _assert_sound(seen, page, id_cache)
        row = rows[f"{name}.zip"] if f"{name}.zip" in rows else rows[f"{name}.ipynb"]
        shown = {q: float(points) for q, points, manual, _ in seen["questions"] if manual == "false"}
        assert shown == {q: float(row[q]) for q in shown} and len(shown) == 13
        assert len(seen["images"]) >= 3, "the notebook's figures and the reference's are on the page"
    seen = _open(browser, out / "report.html", tmp_path / "report.png")
    _assert_sound(seen, out / "report.html", id_cache)
    submissions = [row for file, row in rows.items() if file != "points-per-question"]
    graded = sum(not row["grading_status"].startswith("Not graded") for row in submissions)
    assert len(seen["histograms"]) == 5, "four problems and the total"
    for histogram in seen["histograms"]:
        assert histogram["width"] > 300 and sum(histogram["counts"]) == graded, "each graded submission in one bar"


def test_hostile_content_never_runs_or_becomes_markup(hostile, browser, id_cache, tmp_path):
    (folder,) = [p for p in hostile.iterdir() if p.is_dir() and p.name != "manual"]
    assert folder.name == HOSTILE_NAME
    statuses = list(csv.DictReader(open(hostile / "final_grades.csv")))[1]["grading_status"]
    assert "the grader failed" not in statuses, statuses
    for page in (folder / "feedback.html", hostile / "report.html"):
        text = page.read_text()
        assert "<script>" not in text and MARK in text, "the hostile text is shown, as text"
    feedback = (folder / "feedback.html").read_text()
    assert "RuntimeError: &lt;script&gt;window.__xss=1&lt;/script&gt;" in feedback, "the error text, escaped"
    assert "got &#39;&lt;script&gt;window.__xss=1&lt;/script&gt;&#39;" in feedback, "the answer quoted, escaped"
    for page in (folder / "feedback.html", hostile / "report.html", hostile / "manual" / "index.html"):
        seen = _open(browser, page, tmp_path / f"{page.stem}.png")
        _assert_sound(seen, page, id_cache)
    page = hostile / "manual" / "q2_1_derive.html"
    seen = _open(browser, page, tmp_path / "manual.png")
    _assert_sound(seen, page, id_cache)
    (answer,) = seen["answers"]
    assert answer["name"] == HOSTILE_NAME and answer["method"] == "heading"
    assert f"<script>{MARK}</script>" in answer["text"] and f"<img src=x onerror={MARK}>" in answer["text"]
    assert ["q2_1_derive.h_star", "matches"] in answer["verdicts"] and len(answer["math"]) >= 3
    assert [80, 80, True] in seen["images"], "the attached image, re-encoded"


def test_an_imported_score_and_comment_reach_the_feedback_and_manual_pages(hostile, browser, id_cache, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(hostile, out)
    comment = f"Good; but <img src=q onerror={MARK}> [see](javascript:{MARK})"
    scores = tmp_path / "scores.csv"
    with open(scores, "w", newline="") as fh:
        csv.writer(fh).writerows(
            [
                ["submission", "question", "points_possible", "suggestion", "score", "comment"],
                [HOSTILE_NAME, "q2_1_derive", "2", "", "1.5", comment],
            ]
        )
    command = [sys.executable, "-m", "autograder.cli", "--config", str(hostile.parent / "grading.yml")]
    done = subprocess.run(
        [*command, "gradebook", "import-manual", str(out), str(scores), "--grader", "ta-<b>"],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    feedback = out / HOSTILE_NAME / "feedback.html"
    seen = _open(browser, feedback, tmp_path / "feedback.png")
    _assert_sound(seen, feedback, id_cache)
    graded = {q: score for q, _, manual, score in seen["questions"] if manual == "true"}
    assert graded["q2_1_derive"] == "1.5" and graded["q3_1_derive"] == "", "the scored question only"
    assert str(escape(comment)) in feedback.read_text(), "the comment, as text"
    page = out / "manual" / "q2_1_derive.html"
    seen = _open(browser, page, tmp_path / "manual.png")
    _assert_sound(seen, page, id_cache)
    (answer,) = seen["answers"]
    assert answer["score"] == "1.5" and comment in answer["text"] and "ta-<b>" in answer["text"]


def _words(text: str) -> list[str]:
    """The plain words of an answer's source (not LaTeX commands): what its rendering must show."""
    return re.findall(r"(?<![\\\w])[A-Za-z]{5,}", text)


def test_the_manual_pages_show_every_answer_and_its_suggested_verdicts(graded_examples, browser, id_cache, tmp_path):
    config, out = graded_examples
    gradebook = open_gradebook(out)
    try:
        stored = gradebook.load()
    finally:
        gradebook.close()
    answers = {name: read_answers(config, out, s) for name, s in stored.items()}
    suggested = list(csv.DictReader(open(out / SUGGESTIONS_CSV)))
    questions = manual_questions(config)
    seen = _open(browser, out / "manual" / "index.html", tmp_path / "index.png")
    _assert_sound(seen, out / "manual" / "index.html", id_cache)
    assert {Path(urlparse(link).path).name for link in seen["links"]} >= {f"{q}.html" for q in questions}
    verdicts = 0
    for q in questions:
        page = out / "manual" / f"{q}.html"
        seen = _open(browser, page, tmp_path / f"{q}.png")
        _assert_sound(seen, page, id_cache)
        shown = {a["name"]: a for a in seen["answers"]}
        assert set(shown) == set(stored), "a section per submission"
        for name in stored:
            answer, section = answers[name][q], shown[name]
            state = "not found" if answer.method == "none" else "blank" if answer.blank else "answered"
            assert (section["method"], section["state"]) == (answer.method, state), (name, q)
            words = _words(answer.text)
            missing = [w for w in words if w not in section["text"]]
            assert len(missing) <= 0.05 * len(words), f"{name} {q}: the answer's words {missing[:8]} are not shown"
            expected = [
                [f"{q}.{r['formula']}", r["verdict"]]
                for r in suggested
                if (r["submission"], r["question"]) == (name, q) and (r["verdict"] != "absent" or state == "answered")
            ]
            assert section["verdicts"] == expected, (name, q)
            verdicts += len(expected)
            assert all(width > 0 for width in section["math"]), "the browser lays the MathML out"
    assert verdicts >= 3 * len(stored), "the formula questions show their verdicts"
