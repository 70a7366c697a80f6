"""The formulas an answer gives for a declared quantity, found in its text: string handling only.

Student LaTeX is messy. This module finds the math of an answer (`$...$`, `$$...$$`, `\\[...\\]`,
`\\begin{aligned}...`, inline code, a code cell's comments, a displayed sympy result), splits it into
chains of relations ("h^* = ... = ..."; a block that opens with "=" continues the previous one), and
for a declared quantity (`autograder.suite.item.Formula`) returns the right-hand sides written for it,
in document order, cleaned into the LaTeX both parsers read: no spacing commands, fonts, `\\left`,
equation numbers, `\\dfrac`; `O(...)` unwrapped and remembered as a rate; `h^*` and its spellings
renamed when they stand for a known quantity; `\\sqrt[k]{...}`, `solve(A, b)`, `inv(A)`, `**` and `@`
in code turned into LaTeX. Nothing is evaluated here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autograder.suite.item import Formula

GIVEN = r"\xi"  # what a decorated name standing for a known quantity (h^* in a risk bound) is renamed to
MAX_LATEX = 2_000  # longer right-hand sides are not read (shown as unreadable)

# relations between the pieces of a chain; rate-like ones say "of the order of"
_RELATIONS = [
    (r"\\coloneqq", "="),
    (r":=", "="),
    (r"\\triangleq", "="),
    (r"\\equiv", "="),
    (r"\\doteq", "="),
    (r"\\approx", "~"),
    (r"\\asymp", "~"),
    (r"\\propto", "~"),
    (r"\\simeq", "~"),
    (r"\\sim", "~"),
    (r"\\lesssim", "~"),
    (r"\\leqslant", "<="),
    (r"\\leq", "<="),
    (r"\\le", "<="),
    (r"\\geq", ">="),
    (r"\\ge", ">="),
    (r"<=", "<="),
    (r"=", "="),
    (r"<", "<="),
    (r">", ">="),
]
_RELATION = re.compile("|".join(f"(?:{r})(?![a-zA-Z])" if r[-1].isalpha() else f"(?:{r})" for r, _ in _RELATIONS))
_SEPARATORS = re.compile(
    r"\\(?:newline|Rightarrow|Longrightarrow|implies|therefore|iff|Leftrightarrow|quad|qquad|because|text\s*\{\s*"
    r"(?:and|so|thus|hence|then|where|with|for|i\.e\.|since|which|if|or|giving|gives)\b[^{}]*\})(?![a-zA-Z])"
    r"|(?<=[^\\]),\s*(?:so|and|thus|hence)\b"
)
_UNICODE = {
    "λ": r"\lambda ",
    "α": r"\alpha ",
    "·": r"\cdot ",
    "×": r"\times ",
    "⁻¹": "^{-1}",
    "ᵀ": "^{T}",
    "≤": r"\le ",
    "≥": r"\ge ",
    "≈": r"\approx ",
    "∝": r"\propto ",
    "−": "-",
    "∼": r"\sim ",
    "≍": r"\asymp ",
    "∗": "*",
    "⋆": "*",
    "ℓ": "l",
    "√": r"\sqrt",
    "²": "^{2}",
    "⁴": "^{4}",
    "ĥ": r"\hat{h}",
    "α̂": r"\hat{\alpha}",
}
_DROP = re.compile(
    r"\\(?:displaystyle|textstyle|scriptstyle|nonumber|notag|limits|nolimits|big|Big|bigg|Bigg)[lrm]?(?![a-zA-Z])"
    r"|\\(?:tag|label)\*?\s*\{[^{}]*\}|\\[,;:! ]|~|&"
)
_FONTS = r"mathbb|mathbf|boldsymbol|bm|mathrm|mathit|mathsf|mathcal|mathscr|mathfrak|textbf|textit|text|operatorname|vec|pmb|symbf|symbfit|mathbfit"
_ACCENTS = r"hat|widehat|tilde|widetilde|bar|overline|check|breve"
_STAR = r"(?:\*|\\star|\\ast|\\circ|opt|\\text\{\s*opt\s*\}|\\mathrm\{\s*opt\s*\}|\\operatorname\{\s*opt\s*\}|optimal|\\text\{\s*optimal\s*\}|\\dagger|\\prime|')"
_MATH = re.compile(
    r"\$\$(?P<a>.+?)\$\$|\\\[(?P<b>.+?)\\\]|(?<![\\$])\$(?P<c>[^$]+?)\$|(?P<d>\\begin\{(?P<env>equation\*?|align\*?|aligned|gather\*?|eqnarray\*?|multline\*?|split)\}.+?\\end\{(?P=env)\})|`(?P<e>[^`\n]+)`|\\\((?P<f>.+?)\\\)",
    re.DOTALL,
)


@dataclass(frozen=True)
class Candidate:
    """One right-hand side an answer gives for a quantity. `latex`: cleaned for the parser; `written`:
    the statement as the student wrote it (to show); `rate`: given as an order (O(...), ≍, ∝, ~);
    `given`: uses a known quantity renamed to GIVEN; `implicit`: solved from "h^{p+4} = ..." ("power")
    or "(K + λI) α = Y" ("product")."""

    latex: str
    written: str
    rate: bool = False
    given: bool = False
    implicit: str = ""


@dataclass(frozen=True)
class _Segment:
    math: str
    prose: str  # the text between the previous math and this one, in the same paragraph
    code: bool = False


def candidates(parts: list[tuple[str, str]], formula: Formula, rival_words: tuple[str, ...] = ()) -> list[Candidate]:
    """The right-hand sides written for `formula`'s quantity in an answer's (kind, text) parts, in order:
    the last piece of each chain that names it (or, for a bare formula, whose preceding prose names it
    by one of `formula.words`, not by a later one of `rival_words`). Direct ones first, then those
    solved from an implicit equation, each group in document order."""
    direct, implicit = [], []
    chain: list[tuple[str, str]] = []
    for segment in _segments(parts):
        written = " ".join(segment.math.split())
        for statement in _statements(_clean(segment.math, code=segment.code)):
            pieces = _chain(statement)
            if not pieces:
                continue
            if pieces[0][1] == "" and chain:  # "&= ..." or "$$= ...$$" continues the chain before it
                pieces = chain + pieces[1:]
            if len(pieces) > 1:
                chain = pieces
            found = _for_quantity(pieces, formula, written)
            if (
                found is None
                and len(pieces) == 1
                and formula.words
                and _named_by_prose(segment.prose, formula, rival_words)
            ):
                found = _bare(pieces[0][1], formula, written)
            if found is not None:
                (implicit if found.implicit else direct).append(found)
    return direct + implicit


def _segments(parts: list[tuple[str, str]]) -> list[_Segment]:
    out = []
    for kind, text in parts:
        if kind == "code":
            for line in text.splitlines():
                comment = line.split("#", 1)[1] if "#" in line else ""
                if "=" in comment or "~" in comment:
                    out.append(_Segment(comment.strip(), "", code=True))
            continue
        for paragraph in re.split(r"\n\s*\n", text):
            last = 0
            for match in _MATH.finditer(paragraph):
                body = next(g for g in match.group("a", "b", "c", "d", "e", "f") if g is not None)
                out.append(_Segment(body, paragraph[last : match.start()], code=match.group("e") is not None))
                last = match.end()
    return out


def _clean(math: str, code: bool = False) -> str:
    """The LaTeX both parsers read: see the module's docstring."""
    text = math
    for char, latex in _UNICODE.items():
        text = text.replace(char, latex)
    text = text.replace("\\\\", " \\newline ")  # a line break of aligned math ends a statement
    text = re.sub(r"\\(?:begin|end)\{[a-z*]+\}(?:\{[^{}]*\})?", " ", text)
    if code or not re.search(r"\\[a-zA-Z]", text):
        text = _code_to_latex(text)
    text = _DROP.sub(" ", text)
    text = re.sub(r"\\[dtc]frac(?![a-zA-Z])", r"\\frac", text)
    text = re.sub(r"\\frac\s*([a-zA-Z0-9])\s*([a-zA-Z0-9])", r"\\frac{\1}{\2}", text)  # \frac1n
    text = re.sub(r"\\frac\s*([a-zA-Z0-9])\s*\{", r"\\frac{\1}{", text)  # \frac1{p+4}
    text = re.sub(r"\\left\s*\.|\\right\s*\.", " ", text)
    text = re.sub(r"\\(?:left|right)(?![a-zA-Z])\s*", "", text)
    text = re.sub(r"\\[lr]vert|\\\|", "|", text)
    text = text.replace(r"\{", "(").replace(r"\}", ")").replace(r"\lbrack", "(").replace(r"\rbrack", ")")
    text = re.sub(r"\\(?:top|intercal|mathsf\{T\}|mathrm\{T\})(?![a-zA-Z])", "T", text)
    text = re.sub(r"\^\s*\{\s*T\s*\}|\^\s*T(?![a-zA-Z])|(?<=[A-Za-z}])'", "^{T}", text)
    text = re.sub(
        r"\\(?:mathbb|mathbf|boldsymbol|bm|mathrm|mathit|mathsf|pmb)\s*\{\s*(1|I)\s*\}(?:_\{?n\}?)?", "I", text
    )
    text = re.sub(r"\bI_(?:\{\s*[nN]\s*\}|[nN]\b|\{\s*n\s*\\times\s*n\s*\})", "I", text)
    text = re.sub(r"\\(?:text|operatorname|mathrm)\s*\{\s*(solve|inv)\s*\}", r"\1", text)
    text = _unwrap_fonts(text)
    text = _square_brackets(text)
    text = _functions(text)
    text = _caret_parens(text)
    text = re.sub(r"\\log(?![a-zA-Z])", r"\\ln", text)  # a student's log is the natural one
    text = re.sub(r"\s+", " ", text).strip().rstrip(".,;:").strip()
    return text


def _code_to_latex(text: str) -> str:
    """Python-ish math (a comment, inline code, a formula typed without backslashes) as LaTeX."""
    text = re.sub(r"\b(?:np|numpy|scipy|sp|la|linalg)\.(?:linalg\.)?", "", text)
    text = re.sub(r"\b(?:eye|identity)\s*\([^()]*\)", "I", text)
    text = re.sub(r"(?<!\\)\b(?:lmbda|lambda_?|lamda|lam|lmb|lmda)\b", r"\\lambda ", text)
    text = re.sub(r"(?<!\\)\balpha(?:_?hat|_?star|_?opt)?\b", r"\\alpha ", text)
    text = re.sub(r"\bh_?(?:star|opt|hat|0)\b", "h^{*}", text)
    text = re.sub(r"\.T\b", "^{T}", text)
    text = re.sub(r"(?<=[A-Za-z])\*(?=\s*(?:[=,)~]|$))", "^{*}", text)  # h* = ...: a name, not a product
    text = text.replace("@", " ").replace("**", "^")
    text = re.sub(r"(?<![\\\w])([a-zA-Z])(\d+)\b", r"\1_{\2}", text)
    text = re.sub(r"\bsqrt\b", r"\\sqrt", text)
    text = re.sub(r"\b(exp|log|ln)\b", r"\\\1", text)
    return re.sub(r"(?<![\^_{])\*(?!\s*\})", r" \\cdot ", text)


def _unwrap_fonts(text: str) -> str:
    """\\mathbb{K} -> K, \\boldsymbol\\alpha -> \\alpha; \\text{risk} -> risk (a name); accents are kept."""
    pattern = re.compile(rf"\\(?:{_FONTS})\s*(?:\{{([^{{}}]*)\}}|(\\[a-zA-Z]+|[A-Za-z0-9]))")
    previous = None
    while previous != text:
        previous = text
        text = pattern.sub(lambda m: f" {(m.group(1) if m.group(1) is not None else m.group(2)).strip()} ", text)
    return text


def _square_brackets(text: str) -> str:
    """[ ... ] as parentheses, except the index of \\sqrt[k]{...}."""
    out, depth_sqrt, i = [], [], 0
    while i < len(text):
        if text.startswith(r"\sqrt[", i):
            out.append(r"\sqrt[")
            depth_sqrt.append(True)
            i += 6
            continue
        char = text[i]
        if char == "[":
            depth_sqrt.append(False)
            out.append("(")
        elif char == "]":
            out.append("]" if depth_sqrt and depth_sqrt.pop() else ")")
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _matching(text: str, start: int, open_: str = "(", close: str = ")") -> int:
    """Index of the bracket closing the one at `start`, or -1."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == open_:
            depth += 1
        elif text[i] == close:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _args(inner: str) -> list[str]:
    parts, depth, last = [], 0, 0
    for i, char in enumerate(inner):
        depth += char in "({[" and 1 or char in ")}]" and -1 or 0
        if char == "," and depth == 0:
            parts.append(inner[last:i])
            last = i + 1
    return parts + [inner[last:]]


def _functions(text: str) -> str:
    """O(x), \\Theta(x) -> x marked as a rate ("\\rate{...}" is read back by `_rate`); solve(A, b) ->
    (A)^{-1}(b); inv(A) / pinv(A) -> (A)^{-1}."""
    pattern = re.compile(r"(?:\\mathcal\s*\{\s*O\s*\}|\\mathcal\s*O|\\Theta|\\Omega|\bO|\bsolve|\bp?inv)\s*(?=\()")
    while match := pattern.search(text):
        close = _matching(text, match.end())
        if close < 0:
            break
        inner, name = text[match.end() + 1 : close], match.group(0).strip()
        if "solve" in name:
            args = _args(inner)
            new = f"({args[0]})^{{-1}}({args[1]})" if len(args) == 2 else inner
        elif "inv" in name:
            new = f"({inner})^{{-1}}"
        else:
            new = f"\\rate({inner})"
        text = text[: match.start()] + new + text[close + 1 :]
    return text


def _caret_parens(text: str) -> str:
    """x^(a/b) -> x^{(a/b)}; x^-1 -> x^{-1}: exponents in parentheses or with a bare sign, as in code."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "^":
            j = i + 1
            while j < len(text) and text[j] == " ":
                j += 1
            if j < len(text) and text[j] == "(":
                close = _matching(text, j)
                if close > 0:
                    out.append("^{" + text[j : close + 1] + "}")
                    i = close + 1
                    continue
            match = re.match(r"-\s*(\d+(?:\.\d+)?|[a-zA-Z])", text[j:])
            if match:
                out.append("^{-" + match.group(1) + "}")
                i = j + match.end()
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _statements(text: str) -> list[str]:
    return [s.strip() for s in _split_top(text, _SEPARATORS) if s.strip()]


def _split_top(text: str, pattern: re.Pattern) -> list[str]:
    """`text` split at the matches of `pattern` outside braces and parentheses."""
    parts, last, depth, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif depth <= 0 and (match := pattern.match(text, i)) and match.end() > i:
            parts.append(text[last:i])
            last = i = match.end()
            continue
        i += 1
    return parts + [text[last:]]


def _chain(statement: str) -> list[tuple[str, str]]:
    """[("", lhs), (relation, expr), ...] of one statement; a statement opening with a relation has an
    empty first piece."""
    pieces, last, depth, i, relation = [], 0, 0, 0, ""
    while i < len(statement):
        char = statement[i]
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif depth <= 0 and (match := _RELATION.match(statement, i)):
            pieces.append((relation, statement[last:i].strip()))
            relation = next(k for r, k in _RELATIONS if re.fullmatch(r, match.group(0)))
            last = i = match.end()
            continue
        i += 1
    pieces.append((relation, statement[last:].strip()))
    return pieces if len(pieces) > 1 or pieces[0][1] else []


def name_of(lhs: str) -> tuple[str, bool, str, str]:
    """(base, decorated, argument, power) of a left-hand side: "h^*" -> ("h", True, "", ""),
    "R(h^*)" -> ("R", False, "h^*", ""), "\\hat{\\alpha}" -> ("alpha", True, "", ""),
    "h^{p+4}" -> ("h", False, "", "p+4"), "risk" -> ("risk", False, "", "")."""
    text = lhs.strip().replace(" ", "")
    decorated, argument, power = False, "", ""
    accent = re.compile(rf"\\(?:{_ACCENTS})(?:\{{(.*)\}}|(\\?[a-zA-Z]+))")
    while match := accent.fullmatch(text) or accent.match(text):
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        text = inner + text[match.end() :]
        decorated = True
    if match := re.fullmatch(r"(.+?)\((.*)\)", text):
        text, argument = match.group(1), match.group(2)
    while True:
        match = re.fullmatch(
            rf"(.+?)(?:\^\{{?{_STAR}\}}?|\^\{{\\?[a-zA-Z]*\s*\*\}}|_\{{[^{{}}]*\}}|_\\?[a-zA-Z0-9*]+|_\{{?{_STAR}\}}?)",
            text,
        )
        if not match:
            break
        text, decorated = match.group(1), True
    if match := re.fullmatch(r"(.+?)\^\{?([^{}]+)\}?", text):
        text, power = match.group(1), match.group(2)
    return text.lstrip("\\"), decorated, argument, power


def _for_quantity(pieces: list[tuple[str, str]], formula: Formula, statement: str) -> Candidate | None:
    """The candidate a chain gives for the quantity, if its first piece names it."""
    names = {n.lstrip("\\") for n in formula.names}
    base, decorated, argument, power = name_of(pieces[0][1]) if pieces[0][1] else ("", False, "", "")
    if base in names and not power:
        if argument:  # R(h^*): a value at the optimum; R(h): the function of h, unless the value follows
            _, arg_decorated, _, _ = name_of(argument)
            decorated = arg_decorated or decorated
        found = [f for r, e in reversed(pieces[1:]) if (f := _rhs(e, formula, r, statement, decorated))]
        exact = [f for f in found if not f.rate]  # "R(h^*) <= c_1(...) = O(n^{-4/(p+4)})": the exact form
        return (exact or found or [None])[0] if formula.kind != "rate" else (found or [None])[0]
    if base in names and power:
        if formula.kind == "matrix":
            return None
        for relation, expr in reversed(pieces[1:]):
            found = _rhs(expr, formula, relation, statement, decorated)
            if found is not None:
                inverse = f"({found.latex})^{{\\frac{{1}}{{{power}}}}}"
                return Candidate(inverse, statement, found.rate, found.given, "power")
        return None
    if formula.kind == "matrix" and len(pieces) == 2 and pieces[0][1]:  # (K + λI) α = Y
        lhs = pieces[0][1]
        match = re.fullmatch(r"(.+?)\s*\\(?:hat\s*\{?\s*)?\\?alpha\}?(?:\^\{?\*\}?)?", lhs)
        if match and "alpha" in names and match.group(1).strip():
            rhs = pieces[1][1]
            if "alpha" not in rhs and rhs:
                return Candidate(f"({match.group(1)})^{{-1}}({rhs})", statement, implicit="product")
    return None


def _rhs(expr: str, formula: Formula, relation: str, statement: str, decorated: bool) -> Candidate | None:
    """A right-hand side as a candidate, or None when it is no value for the quantity: empty, an
    argmin, one that still holds the quantity itself, or the general function of a given quantity."""
    if not expr or re.search(r"\\(?:arg|min|max|inf|sup|partial|nabla|int|sum)(?![a-zA-Z])|\bargmin\b|\\frac\{d", expr):
        return None
    own = {n.lstrip("\\") for n in formula.names}
    latex, given = expr, False
    for name in formula.given:
        renamed = _rename_given(latex, name)
        if renamed != latex:
            latex, given = renamed, True
        if _mentions(latex, name):  # the plain name: R(h) = c_1 h^4 + ... is the function of h
            if not decorated:
                return None
            latex, given = _replace_plain(latex, name), True
    if any(_mentions(latex, n) for n in own if n not in formula.given):
        return None
    rate = "\\rate(" in latex or relation == "~"
    return Candidate(_products(latex.replace("\\rate(", "("))[: MAX_LATEX + 1], statement, rate, given)


def _products(latex: str) -> str:
    """c_1 (1 + 4/p) is a product, not the function c_1 applied: a \\cdot before such parentheses."""
    latex = re.sub(r"(?<![\\a-zA-Z])([a-zA-Z])\s*\(", r"\1 \\cdot (", latex)
    return re.sub(r"(_\{[^{}]*\}|_[a-zA-Z0-9]|\^\{[^{}]*\}|\^[a-zA-Z0-9])\s*\(", r"\1 \\cdot (", latex)


def _bare(expr: str, formula: Formula, statement: str) -> Candidate | None:
    """A formula without a left-hand side that prose names ("the risk decays like $n^{-4/(p+4)}$")."""
    if formula.kind != "rate" or not _mentions(expr, formula.rate_in):
        return None
    found = _rhs(expr, formula, "~", statement, True)
    return Candidate(found.latex, statement, True, found.given) if found else None


def _named_by_prose(prose: str, formula: Formula, rival_words: tuple[str, ...]) -> bool:
    """True when the last of the quantity's words and its rivals' in `prose` is one of the quantity's."""
    hits = [
        (m.start(), w in formula.words)
        for w in (*formula.words, *rival_words)
        for m in re.finditer(rf"\b{re.escape(w)}", prose, re.IGNORECASE)
    ]
    return bool(hits) and max(hits)[1]


def _mentions(latex: str, name: str) -> bool:
    """Whether `latex` uses the name (a letter, or a command word like alpha: \\alpha)."""
    if len(name) > 1:
        return re.search(rf"(?<![a-zA-Z])\\?{re.escape(name)}(?![a-zA-Z])", latex) is not None
    return re.search(rf"(?<![a-zA-Z\\]){re.escape(name)}(?![a-zA-Z])", latex) is not None


def _rename_given(latex: str, name: str) -> str:
    """Decorated spellings of `name` (h^*, (h^*)^4, h^{*4}, \\hat{h}, h_{opt}, h_0) renamed to GIVEN."""
    n, g = re.escape(name), "{" + GIVEN + "}"
    star = rf"(?:\^\s*\{{?\s*{_STAR}\s*\}}?|_\s*\{{[^{{}}]*\}}|_\s*\\?[a-zA-Z0-9*]+)"
    accented = rf"\\(?:{_ACCENTS})\s*(?:\{{\s*{n}\s*\}}|\s+{n}(?![a-zA-Z])|{n}(?![a-zA-Z]))"
    latex = re.sub(rf"\(\s*(?:{accented}|(?<![a-zA-Z\\]){n}\s*{star})\s*\)", lambda m: g, latex)
    latex = re.sub(
        rf"(?<![a-zA-Z\\]){n}\s*\^\s*\{{\s*{_STAR}\s*([^{{}}]+)\}}", lambda m: g + "^{" + m.group(1) + "}", latex
    )
    latex = re.sub(accented, lambda m: g, latex)
    return re.sub(rf"(?<![a-zA-Z\\]){n}\s*{star}", lambda m: g, latex)


def _replace_plain(latex: str, name: str) -> str:
    return re.sub(rf"(?<![a-zA-Z\\]){re.escape(name)}(?![a-zA-Z])", lambda m: "{" + GIVEN + "}", latex)
