"""A student's markdown and LaTeX rendered for the manual pages: math becomes MathML, and nothing the
student wrote becomes markup that could run, link or load (the browser test checks the DOM too)."""

from __future__ import annotations

import re

from autograder.pages.markdown import MAX_MATH, render_markdown, render_math

MARK = "window.__xss=1"


def _tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<([a-zA-Z][\w-]*)", html)}


def test_markdown_and_its_math_render_as_html_and_mathml():
    html = render_markdown(
        "**Derivation.** Setting the derivative to zero,\n\n"
        r"$$h^\star = \left(\frac{c_2 p}{4 c_1 n}\right)^{\frac{1}{p+4}}$$"
        "\n\nso $R(h^*) = O(n^{-4/(p+4)})$ and \\[\\hat\\alpha = (K + \\lambda I)^{-1} Y\\]\n\n"
        "\\begin{align}\na &= b \\\\\n&= c\n\\end{align}\n\n| n | rate |\n|---|---|\n| 10 | 0.1 |"
    )
    assert "<strong>Derivation.</strong>" in html
    assert html.count('<math display="block">') == 3 and html.count('<math display="inline">') == 1
    assert "<mfrac>" in html and "<mtable" in html and "<table>" in html
    assert "\\frac" not in html, "every formula was converted"


def test_raw_html_links_and_images_stay_text():
    html = render_markdown(
        f"<script>{MARK}</script> <img src=x onerror={MARK}> [click](javascript:{MARK}) "
        f"[site](http://example.com/a) ![photo](http://example.com/p.png) <a href='javascript:{MARK}'>a</a>"
    )
    assert _tags(html) <= {"p", "span"}, html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=" in html
    assert '<span class="link">site</span> <span class="url">&lt;http://example.com/a&gt;</span>' in html
    assert '<span class="image-ref">[image: photo]</span>' in html
    assert "href" not in html.replace("&lt;a href=", "") and "src=" not in html.replace("&lt;img src=", "")


def test_the_converters_mathml_is_rebuilt_from_an_allowlist():
    html = render_markdown(
        rf"$\text{{<script>{MARK}</script>}}$ $\href{{javascript:{MARK}}}{{x}}$ $\style{{position:fixed}}{{y}}$"
    )
    assert _tags(html) <= {"p", "span", "math", "mrow", "mtext", "mi"}, html
    assert "href" not in html and "style" not in html
    assert f"&lt;script&gt;{MARK}&lt;/script&gt;" in html, "what the student wrote is shown, as text"


def test_a_formula_the_converter_cannot_read_is_shown_as_its_source():
    assert render_math(r"\left( <b> \frac{1}{") == r'<code class="tex">\left( &lt;b&gt; \frac{1}{</code>'
    long = "x+" * MAX_MATH
    assert render_math(long, display=True).startswith('<pre class="tex">x+x+')
    assert render_math("{" * 3000).startswith('<code class="tex">')
