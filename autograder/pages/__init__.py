"""Pages people read: a feedback page per submission and a class report, rendered offline.

Jinja2 with autoescaping: everything a submission wrote (outputs, file names, messages quoting its
values) is text, never markup; images it displayed are decoded and re-encoded as size-limited PNGs
before they are embedded. Each page is one self-contained file that needs no network and no script.
"""
