"""A student's markdown and LaTeX as safe HTML, server-side and offline: markdown-it with raw HTML off,
math converted to MathML (latex2mathml), which the browser draws itself (no script, no fonts to fetch).

Everything here is hostile text. Raw HTML in the markdown stays text; links become text with their
address shown (never an `<a>`); markdown images become a placeholder (the images themselves are shown
re-encoded, beside the answer); the converter's MathML is rebuilt through an allowlist of MathML
elements and plain-valued attributes (it passes `\\text{<script>}` and `\\href{javascript:…}` through).
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape, unescape
from html.parser import HTMLParser

from markupsafe import Markup

MAX_TEXT = 50_000  # characters of one markdown part rendered; the rest is cut, and the cut said
MAX_MATH = 4_000  # characters of one formula converted; a longer one is shown as its LaTeX source

_ELEMENTS = frozenset(
    "math mrow mi mn mo ms mtext mspace msub msup msubsup munder mover munderover mfrac msqrt mroot mstyle "
    "mpadded mphantom menclose mtable mtr mtd mmultiscripts mprescripts none merror".split()
)
_ATTRIBUTES = frozenset(
    "display mathvariant stretchy fence form separator accent accentunder movablelimits largeop symmetric "
    "minsize maxsize lspace rspace linethickness columnalign rowalign rowspacing columnspacing columnlines "
    "rowlines frame displaystyle scriptlevel width height depth linebreak notation columnspan rowspan".split()
)
_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9 .%+-]{0,64}$")
# environments the converter lays out badly or numbers: read as `split` (rows aligned at "&", no numbers)
_ALIGNED = re.compile(r"\\(begin|end)\{(?:aligned|align\*?|eqnarray\*?|gather\*?|gathered)\}")
_EQUATION = re.compile(r"\\(?:begin|end)\{equation\*?\}")
_BRACKETS = re.compile(r"\\\[(.+?)\\\]|\\\((.+?)\\\)", re.DOTALL)


def render_markdown(text: str) -> Markup:
    """A markdown cell's text as HTML: CommonMark and tables, `$…$`, `$$…$$`, `\\[…\\]`, `\\(…\\)` and
    bare `\\begin{align}` blocks as MathML; nothing of the source becomes markup unless built here."""
    html = _parser().render(_BRACKETS.sub(_dollars, text[:MAX_TEXT]))
    if len(text) > MAX_TEXT:
        html += f'<p class="muted">(cut here: the cell holds {len(text):,} characters)</p>'
    return Markup(html)


def render_math(latex: str, display: bool = False) -> Markup:
    """One formula as MathML, or its LaTeX source as code when the converter can't read it."""
    if len(latex) <= MAX_MATH:
        from latex2mathml.converter import convert

        source = _EQUATION.sub("", _ALIGNED.sub(r"\\\1{split}", latex.strip()))
        try:
            mathml = convert(source, display="block" if display else "inline")
        except Exception:  # noqa: BLE001 - RecursionError, the converter's own errors: shown as source
            mathml = None
        if mathml:
            return Markup(_allowlisted(mathml))
    tag = "pre" if display else "code"
    return Markup(f'<{tag} class="tex">{escape(latex)}</{tag}>')


def _dollars(match: re.Match) -> str:
    return f"$${match.group(1)}$$" if match.group(1) is not None else f"${match.group(2)}$"


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.amsmath import amsmath_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("js-default", {"html": False, "linkify": False})  # raw HTML is text, not markup
    md.use(dollarmath_plugin, double_inline=True, renderer=lambda latex, o: render_math(latex, o["display_mode"]))
    md.use(amsmath_plugin, renderer=lambda latex: render_math(latex, True))
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    md.add_render_rule("image", _image)
    return md


def _link_open(self, tokens, idx, options, env) -> str:
    env.setdefault("links", []).append(tokens[idx].attrGet("href") or "")
    return '<span class="link">'


def _link_close(self, tokens, idx, options, env) -> str:
    href = env["links"].pop() if env.get("links") else ""
    return f'</span> <span class="url">&lt;{escape(str(href))}&gt;</span>'


def _image(self, tokens, idx, options, env) -> str:
    alt = self.renderInlineAsText(tokens[idx].children or [], options, env)
    return f'<span class="image-ref">[image{": " + escape(alt) if alt else ""}]</span>'


class _MathML(HTMLParser):
    """Rebuilds MathML keeping only allowlisted elements and attributes with plain values; all text escaped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _ELEMENTS:
            kept = "".join(
                f' {name}="{escape(value)}"'
                for name, value in attrs
                if name in _ATTRIBUTES and value is not None and _PLAIN_VALUE.match(value)
            )
            self.out.append(f"<{tag}{kept}>")
        else:  # what the student wrote (`\text{<b>}`), shown as text
            self.out.append(escape(unescape(self.get_starttag_text() or "")))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in _ELEMENTS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        self.out.append(f"</{tag}>" if tag in _ELEMENTS else escape(f"</{tag}>"))

    def handle_data(self, data):
        self.out.append(escape(data))


def _allowlisted(mathml: str) -> str:
    parser = _MathML()
    parser.feed(mathml)
    parser.close()
    return "".join(parser.out)
