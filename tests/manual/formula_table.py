"""The table of written answers the suggested verdicts are measured on: correct variants in the spellings
students use (tests/manual/test_formulas.py requires >= 90 % of them to read as `matches`), typical wrong
ones (none may read as `matches`), and answers with nothing to read. Each row is an answer's text as the
student wrote it (markdown unless `kind` says "code"), the formula it is judged for, and the verdict a
careful grader would suggest. `tests/benchmarks/measure_latex_parsers.py` runs it with every parser."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    formula: str  # id in autograder.suite.FORMULAS
    text: str
    expected: str  # matches, differs, unreadable, image only, absent
    why: str
    kind: str = "markdown"
    image: str = ""  # "embedded" or "missing": the answer also holds such an image


H, R, HR, RR, A = (
    "q2_1_derive.h_star",
    "q2_1_derive.risk_bound",
    "q2_2_explain.bandwidth_rate",
    "q2_2_explain.risk_rate",
    "q3_1_derive.alpha_hat",
)

CASES = [
    # ---- 2.1 h*: correct spellings
    Case(H, r"so $h^* = \left(\frac{p c_2}{4 c_1 n}\right)^{\frac{1}{p+4}}$.", "matches", "reference form, h^*"),
    Case(H, r"$$h^\star = \left(\frac{c_2 p}{4 c_1 n}\right)^{\frac{1}{p+4}}$$", "matches", "h^\\star, $$"),
    Case(
        H, r"\[ h_0 = \left( \frac{p\, c_2}{4\, c_1\, n} \right)^{1/(p+4)} \]", "matches", "h_0, \\[ \\], thin spaces"
    ),
    Case(H, r"The optimum is $\hat h = \sqrt[p+4]{\frac{p c_2}{4 c_1 n}}$.", "matches", "\\hat h, \\sqrt[p+4]"),
    Case(
        H,
        r"$h_{opt} = \left(\frac{c_2 \cdot p}{4 \cdot c_1 \cdot n}\right)^{\frac{1}{4+p}}$",
        "matches",
        "h_{opt}, \\cdot, 4+p",
    ),
    Case(H, r"$h_{\text{opt}} = (p c_2)^{1/(p+4)} (4 c_1 n)^{-1/(p+4)}$", "matches", "split powers"),
    Case(
        H,
        "$$\\begin{aligned} 4c_1h^3 - \\frac{pc_2}{n}h^{-p-1} &= 0 \\\\ h^{p+4} &= \\frac{pc_2}{4c_1n} \\\\ "
        "h^* &= \\left(\\frac{pc_2}{4c_1n}\\right)^{\\frac{1}{p+4}} \\end{aligned}$$",
        "matches",
        "aligned steps, the last for h^*",
    ),
    Case(
        H,
        "and thus the optimal bandwidth h is\n\n$$h = \\left(\\frac{c_2 p}{4c_1 n} \\right)^{\\frac{1}{4+p}}$$",
        "matches",
        "the seed student's 2.1",
    ),
    Case(
        H,
        "# the optimal bandwidth\n# h* = (p*c2/(4*c1*n))**(1/(p+4))\nh = None",
        "matches",
        "code comment",
        kind="code",
    ),
    Case(H, r"$h^{*} = \left(\frac{p c_{2}}{4 c_{1} n}\right)^{\frac{1}{p + 4}}$", "matches", "sympy's own LaTeX"),
    Case(H, r"$h^* = \exp\left(\frac{\log(p c_2) - \log(4 c_1 n)}{p+4}\right)$", "matches", "through exp and log"),
    Case(H, r"$h^* = \frac{(p c_2)^{1/(p+4)}}{(4 c_1 n)^{1/(p+4)}}$", "matches", "a fraction of powers"),
    Case(H, r"$h^* = \left(\frac{c_2 \times p}{4 \times c_1 \times n}\right)^{\frac{1}{p+4}}$", "matches", "\\times"),
    Case(H, r"$h^{*} = \Big(\dfrac{p c_2}{4 c_1 n}\Big)^{\tfrac{1}{p+4}}.$", "matches", "\\Big, \\dfrac, \\tfrac"),
    Case(H, r"$h^{\ast}=\left[\frac{pc_2}{4c_1n}\right]^{1/(p+4)}$", "matches", "h^{\\ast}, square brackets"),
    Case(H, r"Setting the derivative to zero, $h^{p+4} = \frac{p c_2}{4 c_1 n}$.", "matches", "only h^{p+4} = ..."),
    Case(H, r"$h^* = (pc_2/(4c_1n))^{1/(p+4)}$ minimises the bound", "matches", "inline slashes"),
    Case(H, r"$h^* = \left(\frac{p c_2}{4 c_1}\right)^{\frac{1}{p+4}} n^{-\frac{1}{p+4}}$", "matches", "n split off"),
    Case(H, r"$h^* = \left(\frac{pc_2}{4c_1n}\right)^\frac{1}{p+4}$", "matches", "exponent \\frac without braces"),
    Case(H, r"$h^* = {\left(\frac{p c_2}{4 c_1 n}\right)}^{1/(p+4)}$", "matches", "braced base"),
    Case(H, r"$h^* = e^{\frac{1}{p+4}\ln\frac{p c_2}{4 c_1 n}}$", "matches", "e^{... \\ln ...}"),
    Case(H, r"$h^* = \left(\frac{p}{4}\cdot\frac{c_2}{c_1}\cdot\frac1n\right)^{\frac1{p+4}}$", "matches", "\\frac1n"),
    Case(H, r"$h^*=\sqrt[p+4]{\tfrac{p c_2}{4 c_1 n}}$", "matches", "\\sqrt[p+4] with \\tfrac"),
    # ---- 2.1 h*: wrong
    Case(H, r"$h^* = \left(\frac{c_2}{4 c_1 n}\right)^{\frac{1}{p+4}}$", "differs", "missing p"),
    Case(H, r"$h^* = \left(\frac{p c_1}{4 c_2 n}\right)^{\frac{1}{p+4}}$", "differs", "c1 and c2 swapped"),
    Case(H, r"$h^* = \left(\frac{p c_2}{4 c_1 n}\right)^{\frac{1}{p+2}}$", "differs", "1/(p+2)"),
    Case(H, r"$h^* = \left(\frac{p c_2}{c_1 n}\right)^{\frac{1}{p+4}}$", "differs", "missing 4"),
    Case(H, r"$h^* = \left(\frac{p c_2 n}{4 c_1}\right)^{\frac{1}{p+4}}$", "differs", "n in the numerator"),
    Case(H, r"$h^* = \left(\frac{p c_2}{4 c_1 n}\right)^{-\frac{1}{p+4}}$", "differs", "exponent's sign"),
    Case(H, r"$h^* \propto n^{-1/(p+4)}$", "differs", "only the rate, for the formula"),
    # ---- 2.1 R(h*): correct
    Case(
        R,
        r"$R(h^*) \le c_1 \left(1 + \dfrac{4}{p}\right) \left(\dfrac{p c_2}{4 c_1 n}\right)^{4/(p+4)} = O\!\left(n^{-4/(p+4)}\right)$.",
        "matches",
        "the reference solution's bound",
    ),
    Case(
        R,
        r"$$R(h) \leq c_1 \left(\frac{c_2 p}{4c_1 n} \right)^{\frac{4}{4+p}} + c_2 \frac{1}{n \left(\frac{c_2 p}{4c_1 n} \right)^{\frac{p}{4+p}}}$$",
        "matches",
        "the seed student's bound, h* substituted",
    ),
    Case(R, r"$R(h^*) = c_1 (h^*)^4 + \frac{c_2}{n (h^*)^p}$", "matches", "in terms of h*"),
    Case(
        R, r"$R(h_{opt}) = \frac{p+4}{p} c_1 \left(\frac{p c_2}{4 c_1 n}\right)^{\frac{4}{p+4}}$", "matches", "(p+4)/p"
    ),
    Case(R, r"The risk is then $R(h^*) = O\left(n^{-\frac{4}{p+4}}\right)$.", "matches", "a rate as the bound"),
    Case(R, r"$R(h^*) = c_1 h^{*4} + \frac{c_2}{n h^{*p}}$", "matches", "h^{*4}"),
    Case(
        R,
        r"$R(h^*) = \left(1+\frac{4}{p}\right)c_1^{\frac{p}{p+4}}\left(\frac{p c_2}{4n}\right)^{\frac{4}{p+4}}$",
        "matches",
        "c1 factored out",
    ),
    # ---- 2.1 R(h*): wrong
    Case(R, r"$R(h^*) = c_1 \left(\frac{p c_2}{4 c_1 n}\right)^{\frac{4}{p+4}}$", "differs", "variance term dropped"),
    Case(R, r"$R(h^*) = O(n^{-1/(p+4)})$", "differs", "the bandwidth's rate for the risk"),
    Case(R, r"$R(h^*) \le C n^{-4/(p+2)}$", "differs", "-4/(p+2)"),
    # ---- 2.2 rates: correct
    Case(HR, r"so $h \asymp n^{-1/(p+4)}$", "matches", "\\asymp"),
    Case(
        HR,
        r"Using such argument, we have the optimal bandwidth h is $$h \approx n^{-\frac{1}{4+p}}$$",
        "matches",
        "seed 2.2",
    ),
    Case(HR, r"$h^* \propto \left(\frac{1}{n}\right)^{\frac{1}{p+4}}$", "matches", "(1/n)^(1/(p+4))"),
    Case(HR, r"$h = O\left(n^{-1/(p+4)}\right)$", "matches", "O()"),
    Case(HR, r"the optimal bandwidth scales as $n^{-1/(p+4)}$ and the risk as $n^{-4/(p+4)}$", "matches", "prose"),
    Case(HR, r"Balancing gives $h^{p+4} \asymp \frac{1}{n}$.", "matches", "only h^{p+4}"),
    Case(RR, r"$R(h) = O(n^{-4/(p+4)})$", "matches", "O()"),
    Case(RR, r"$R \asymp h^4 \asymp n^{-\frac{4}{p+4}}$", "matches", "a chain through h^4"),
    Case(RR, r"the optimal bandwidth scales as $n^{-1/(p+4)}$ and the risk as $n^{-4/(p+4)}$", "matches", "prose"),
    Case(RR, r"$\text{risk} \sim n^{-4/(4+p)}$", "matches", "\\text{risk}, \\sim"),
    Case(RR, r"$R(h^*) \asymp (h^*)^4$ where $h^* \asymp n^{-1/(p+4)}$", "matches", "through h*"),
    Case(HR, r"$h \asymp n^{-\frac1{p+4}}$", "matches", "\\frac1{p+4}"),
    Case(RR, r"$R = O\bigl(n^{-4/(4+p)}\bigr)$", "matches", "\\bigl"),
    # ---- 2.2 rates: wrong
    Case(RR, r"$R(h) = O(n^{-1/(p+4)})$", "differs", "the bandwidth rate given as the risk rate"),
    Case(HR, r"$h \asymp n^{-1/(p+2)}$", "differs", "1/(p+2)"),
    Case(RR, r"$R \asymp n^{-4/(p+2)}$", "differs", "-4/(p+2)"),
    Case(HR, r"$h \asymp n^{1/(p+4)}$", "differs", "the exponent's sign"),
    # ---- 3.1 alpha: correct
    Case(A, r"$\hat\alpha = (\mathbb{K} + \lambda I)^{-1} Y$", "matches", "reference form"),
    Case(
        A,
        r"$\hat{\alpha} = \left(\mathbf{K} + \lambda \mathbb{I}\right)^{-1} \mathbf{Y}$",
        "matches",
        "\\mathbf, \\mathbb{I}",
    ),
    Case(A, r"$\alpha^* = (K + \lambda I_n)^{-1} y$", "matches", "I_n, y"),
    Case(
        A,
        "$$\\alpha = (\\mathbb{K}^T \\mathbb{K} + \\lambda \\mathbb{K})^{-1} \\mathbb{K}^T Y \\quad (10)$$\n\n"
        "$$= (\\mathbb{K} + \\lambda I)^{-1} Y \\quad (11)$$",
        "matches",
        "the seed student's 3.1: a chain over two blocks",
    ),
    Case(
        A,
        r"$\hat\alpha = (\mathbb{K}^T\mathbb{K} + \lambda\mathbb{K})^{-1}\mathbb{K}^T Y$",
        "matches",
        "K^T K form (K invertible)",
    ),
    Case(A, r"$\hat\alpha = (\mathbb{K}^2 + \lambda\mathbb{K})^{-1}\mathbb{K}Y$", "matches", "K^2 form (K invertible)"),
    Case(A, r"$\hat\alpha = \text{solve}(\mathbb{K} + \lambda I, Y)$", "matches", "solve notation"),
    Case(
        A,
        "# alpha_hat = np.linalg.solve(K + lmbda * np.eye(n), Y)\nalpha = None",
        "matches",
        "code comment, solve",
        kind="code",
    ),
    Case(A, "# alpha = inv(K + lambda*I) @ Y", "matches", "code comment, inv and @", kind="code"),
    Case(
        A,
        "$$\\begin{aligned} \\nabla g &= -2\\mathbb{K}Y + 2\\mathbb{K}^2\\alpha + 2\\lambda \\mathbb{K}\\alpha = 0\\\\ "
        "\\Rightarrow \\hat\\alpha &= (\\mathbb{K}+\\lambda I)^{-1}Y \\end{aligned}$$",
        "matches",
        "aligned with a gradient line",
    ),
    Case(A, r"$\hat{\boldsymbol\alpha} = (\mathbf{K} + \lambda \mathbf{I})^{-1}\mathbf{y}$", "matches", "\\boldsymbol"),
    Case(A, r"Hence $(\mathbb{K} + \lambda I)\hat\alpha = Y$.", "matches", "solved from (K + lambda I) alpha = Y"),
    Case(A, r"\[\hat\alpha = \left(\lambda I + \mathbb{K}\right)^{-1} Y\]", "matches", "lambda I first"),
    Case(A, r"$\hat\alpha = (K + \lambda I)^{-1} \cdot Y$", "matches", "\\cdot before Y"),
    Case(
        A,
        r"$\hat\alpha = \left[\mathbb{K} + \lambda \mathbb{I}_n\right]^{-1}\mathbb{Y}$",
        "matches",
        "[ ], \\mathbb{I}_n",
    ),
    Case(A, r"$\hat{\alpha}=(\mathbb K+\lambda\mathbb I)^{-1}Y$", "matches", "\\mathbb K without braces"),
    # ---- 3.1 alpha: wrong
    Case(A, r"$\hat\alpha = (\mathbb{K} + \lambda)^{-1} Y$", "differs", "lambda added to all entries"),
    Case(A, r"$\hat\alpha = (\mathbb{K} + \lambda I) Y$", "differs", "missing inverse"),
    Case(A, r"$\hat\alpha = \mathbb{K}^{-1} Y$", "differs", "missing lambda"),
    Case(
        A, r"$\hat\alpha = (\mathbb{K}^T\mathbb{K} + \lambda I)^{-1}\mathbb{K}^T Y$", "differs", "ridge-regression form"
    ),
    Case(A, r"$\hat\alpha = (\mathbb{K} + \lambda I)^{-1}$", "differs", "Y missing"),
    # ---- nothing to read, or nothing readable
    Case(H, r"$h^* = \left(\frac{p c_2}{4 c_1 n\right)^{\frac{1}{p+4}}$", "unreadable", "unbalanced braces"),
    Case(A, r"$\hat\alpha = \left((\mathbb{K} + \lambda I\right)^{-1} Y$", "unreadable", "unbalanced parentheses"),
    Case(H, "I set the derivative of the bound to zero and solved for h.", "absent", "no formula"),
    Case(A, "![my derivation](attachment:derivation.jpg)", "image only", "a photo of handwriting", image="embedded"),
    Case(R, "See my notes: ![page 1](IMG_2041.jpg)", "image only", "a link to a missing image", image="missing"),
]

_LABELS = {"q2_1_derive": "2.1", "q2_2_explain": "2.2", "q3_1_derive": "3.1"}
_PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def notebook_for(case: Case) -> dict:
    """A notebook with the question's heading and the case's answer cell (no otter markers)."""
    question = case.formula.split(".")[0]
    cell = {"cell_type": case.kind, "metadata": {}, "source": case.text}
    if case.kind == "code":
        cell.update(outputs=[], execution_count=None)
    if case.image == "embedded":
        cell["attachments"] = {"derivation.jpg": {"image/png": _PIXEL}}
    heading = {"cell_type": "markdown", "metadata": {}, "source": f"### {_LABELS[question]} Answer"}
    return {"cells": [heading, cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def run_table(parser: str, cases=CASES) -> list:
    """(case, suggestion) for every case, through extraction and the judge with `parser`."""
    from autograder.manual.extract import Written, extract_answers
    from autograder.manual.formulas import Judge, suggest
    from autograder.suite import FORMULAS

    out = []
    with Judge(parser) as judge:
        for case in cases:
            question = case.formula.split(".")[0]
            written = [Written(question, _LABELS[question])]
            answer = extract_answers(notebook_for(case), written, known=list(_LABELS.values()))[question]
            formula = FORMULAS[case.formula]
            rivals = tuple(f for f in FORMULAS.values() if f.question == question)
            out.append((case, suggest(answer, formula, judge, rivals)))
    return out
