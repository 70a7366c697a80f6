"""Each hand-graded answer found in the notebooks students hand in: ours with otter's markers, copies that
lost them, last term's template; text kept as text, images kept as data, missing ones named."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from autograder.config import load_config
from autograder.manual.extract import (
    NOT_SUBMITTED,
    PLACEHOLDER,
    Written,
    extract_answers,
    known_labels,
    template_texts,
    written_questions,
)
from autograder.spans import cell_labels, marker_regions

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "submissions" / "reference.ipynb"
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture(scope="module")
def config():
    return load_config(ROOT / "grading.yml")


@pytest.fixture(scope="module")
def template(config):
    return template_texts(config.build.master)


def md(text: str, **extra) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text, **extra}


def code(text: str, outputs=()) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": text, "outputs": list(outputs), "execution_count": None}


def nb(*cells) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def answers_of(notebook, config, template=frozenset(), files=None):
    return extract_answers(notebook, written_questions(config), known_labels(config), template, files)


def test_every_hand_graded_question_of_the_reference_is_found_between_its_markers(config, template):
    answers = answers_of(json.loads(REFERENCE.read_text()), config, template)
    assert set(answers) == {q for p in config.problems.values() for q, x in p.questions.items() if x.manual}
    assert {a.method for a in answers.values()} == {"markers"}
    assert "h^* = \\left(\\dfrac{p c_2}{4 c_1 n}\\right)^{1/(p+4)}" in answers["q2_1_derive"].text
    assert "(\\mathbb{K} + \\lambda I)^{-1} Y" in answers["q3_1_derive"].text
    assert "Side by side the two sets look alike" in answers["q4_0_explain"].text, "4.0's block names no number"
    for answer in answers.values():
        assert PLACEHOLDER not in answer.text and "BEGIN QUESTION" not in answer.text and "_Points:_" not in answer.text


def test_a_block_left_with_the_placeholder_is_blank(config, template):
    notebook = nb(
        md("### 2.1 Selecting the optimal bandwidth"),
        md("<!-- BEGIN QUESTION -->\n\n**2.1 Derivation.**\n\n_Points:_ 2.0"),
        md(PLACEHOLDER),
        md("<!-- END QUESTION -->\n\n"),
    )
    answer = answers_of(notebook, config, template)["q2_1_derive"]
    assert answer.method == "markers" and answer.blank


def test_without_markers_the_answer_is_found_after_its_heading(config, template):
    notebook = json.loads(REFERENCE.read_text())
    for cell in notebook["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = text.replace("<!-- BEGIN QUESTION -->", "").replace("<!-- END QUESTION -->", "")
    answers = answers_of(notebook, config, template)
    assert answers["q2_1_derive"].method == "heading"
    assert "h^* = \\left(\\dfrac{p c_2}{4 c_1 n}\\right)^{1/(p+4)}" in answers["q2_1_derive"].text
    assert "Selecting the optimal bandwidth" not in answers["q2_1_derive"].text, "the template's prompt is left out"
    assert "(\\mathbb{K} + \\lambda I)^{-1} Y" in answers["q3_1_derive"].text


def test_last_terms_template_answers_under_its_own_headings(config, template):
    """The seed student's layout: the prompts first, then an "Answer" section repeating the numbers;
    4.0 answered below "Please comment below"; one heading for 4.2 and 4.3."""
    notebook = nb(
        md("## Problem 2: Risky business (10 points)"),
        md("### 2.1 Selecting the optimal bandwidth\n\nUsing these expressions and a little calculus, determine ..."),
        md("### 2.2 Bandwith selection without tears\n\nNow, going back to the expressions ..."),
        md("## Answer"),
        md("### 2.1"),
        md("and thus the optimal bandwidth h is\n\n$$h = \\left(\\frac{c_2 p}{4c_1 n} \\right)^{\\frac{1}{4+p}}$$"),
        md("### 2.2"),
        md("$$h \\approx n^{-\\frac{1}{4+p}}$$"),
        md("### 2.3"),
        code("risk = np.linspace(0.1, 0.5, 5)"),
        md("## Problem 4: Brain food (20 points)"),
        md(
            "Can you spot any differences between the two. Do you think that you could learn to tell them apart? Please comment below."
        ),
        md("The fakes have blurrier edges."),
        md("### 4.1 Building a baseline model"),
        md("### 4.2 and 4.3: Improving upon the baseline"),
        md("Experiment 1: more data and more epochs."),
    )
    answers = answers_of(notebook, config, template)
    assert answers["q2_1_derive"].method == "heading" and "\\frac{c_2 p}{4c_1 n}" in answers["q2_1_derive"].text
    # last term's prompt is not ours to recognise: it stays in the answer, before the student's text
    assert answers["q2_2_explain"].text.endswith("\n\n$$h \\approx n^{-\\frac{1}{4+p}}$$")
    assert "risk = np.linspace" not in answers["q2_2_explain"].text, "2.3 ends 2.2"
    assert (
        answers["q4_0_explain"].method == "prompt" and answers["q4_0_explain"].text == "The fakes have blurrier edges."
    )
    assert "Experiment 1" in answers["q4_2_explain"].text and "Experiment 1" in answers["q4_3_explain"].text
    assert answers["q1_2_explain"].method == "none"


def test_a_heading_naming_two_questions_names_both():
    assert cell_labels("### 4.2 and 4.3: Improving upon the baseline", "markdown") == ["4.2", "4.3"]
    assert cell_labels("### 2.1 Selecting the optimal bandwidth", "markdown") == ["2.1"]


def test_marker_regions_pair_each_begin_with_its_end():
    cells = [
        md("<!-- BEGIN QUESTION -->\n**1.2**"),
        md("a"),
        md("<!-- END QUESTION -->\n## Problem 2"),
        md("<!-- BEGIN QUESTION -->x<!-- END QUESTION -->"),
    ]
    assert marker_regions(cells) == [(0, 2), (3, 3)]


def test_unnumbered_blocks_are_assigned_in_order():
    written = [Written("q3_3_explain", "3.3"), Written("q4_0_explain", "4.0"), Written("q4_2_explain", "4.2")]
    notebook = nb(
        md("<!-- BEGIN QUESTION -->\n\n**3.3 Explain.**"),
        md("lambda from the curves"),
        md("<!-- END QUESTION -->"),
        md("<!-- BEGIN QUESTION -->\n\n**Your comments.**"),
        md("they look alike"),
        md("<!-- END QUESTION -->"),
        md("<!-- BEGIN QUESTION -->\n\n**4.2 Describe model 1.**"),
        md("two convolutions"),
        md("<!-- END QUESTION -->"),
    )
    answers = extract_answers(notebook, written)
    assert [answers[q].text for q in ("q3_3_explain", "q4_0_explain", "q4_2_explain")] == [
        "lambda from the curves",
        "they look alike",
        "two convolutions",
    ]


def test_images_are_kept_as_data_and_missing_ones_are_named():
    written = [Written("q3_1_derive", "3.1")]
    svg = "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    notebook = nb(
        md("### 3.1 Solve"),
        md("![page 1](attachment:p1.png) ![page 2](attachment:gone.png)", attachments={"p1.png": {"image/png": PIXEL}}),
        md("![scan](scan.jpg) ![photo](photos/IMG_2041.jpg) ![web](https://example.org/x.png)"),
        md(f'<img src="data:image/png;base64,{PIXEL}"> and <img src="derivation.png" width=300>'),
        code(
            "show()",
            outputs=[
                {"output_type": "display_data", "metadata": {}, "data": {"image/png": PIXEL, "text/plain": "<Figure>"}},
                {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": svg}},
            ],
        ),
    )
    files = {"scan.jpg": base64.b64decode(PIXEL)}
    answer = extract_answers(notebook, written, files=files)["q3_1_derive"]
    images = [(p.kind, p.where) for p in answer.images]
    assert images[0] == ("image", "attachment")
    assert images[1][0] == "missing image" and images[1][1].startswith(NOT_SUBMITTED) and "gone.png" in images[1][1]
    assert images[2] == ("image", "file scan.jpg"), "an image submitted beside the notebook is read from the submission"
    assert images[3][0] == "missing image" and "photos/IMG_2041.jpg is not in the submission" in images[3][1]
    assert images[4][0] == "missing image" and "links are not followed" in images[4][1]
    assert images[5] == ("image", "inline data")
    assert images[6][0] == "missing image" and "derivation.png" in images[6][1]
    assert images[7] == ("image", "output") and images[8][0] == "image"
    assert base64.b64decode(answer.images[8].data).decode() == svg, "SVG is data (base64), never markup in the page"
    assert answer.images[0].data == PIXEL and answer.images[0].mime == "image/png"


def test_an_answer_only_linking_a_missing_image_is_not_blank():
    answer = extract_answers(nb(md("### 2.1"), md("![my work](IMG_0001.jpg)")), [Written("q2_1_derive", "2.1")])[
        "q2_1_derive"
    ]
    assert not answer.blank and answer.images[0].kind == "missing image"


def test_nothing_found_is_method_none():
    answer = extract_answers(nb(md("# My notebook"), code("x = 1")), [Written("q2_1_derive", "2.1")])["q2_1_derive"]
    assert answer.method == "none" and answer.blank and answer.parts == ()
