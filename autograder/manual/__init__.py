"""Hand-graded questions: the students' written answers, suggested verdicts for their formulas, and the
scores graders enter.

- `extract`: each hand-graded question's answer in a notebook (text, LaTeX, images), and how it was found;
- `latex`: the formulas an answer gives for a declared quantity, as LaTeX strings (text handling only);
- `formulas`: those strings read by a LaTeX parser and compared with the reference, in a separate,
  time-limited process; a suggestion for the grader, never a score;
- `review`: both over a gradebook's submissions, cached in the gradebook, and `manual_suggestions.csv`;
- `scores`: the grader's CSV of scores, its template and its validated import.

What a question's formula is (the quantity, its names, the reference expression, its symbols) is
declared with the problem's content in `autograder/suite/` (`FORMULAS`), not here.
"""
