"""Checks: pure functions `check_<quantity>_<property>(observed, key, *, cfg) -> CheckResult`.

`observed` is plain data a probe read back from the student's kernel, `key` what the grader
expects (or the inputs it chose), `cfg` the check's points and tolerances from grading.yml.
No printing, no files, no global state; messages never reveal hidden values.
"""
