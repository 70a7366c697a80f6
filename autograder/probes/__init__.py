"""Probes: small functions run inside the student's kernel that call the student's names on inputs
the grader chose and return plain data (lists, floats, strings) — never the student's objects.

Only numpy (and sympy, when a student answers with an expression) may be imported here: this code
runs in the student's environment, not the grader's.
"""
