"""The one Jinja2 environment of the pages: templates shipped in the package, autoescaping always on."""

from __future__ import annotations

import time
from functools import lru_cache

import jinja2


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("autograder.pages", "templates"),
        autoescape=True,  # every value is text, but pages.markdown's (allowlisted markup built from escaped text)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["points"] = lambda value: f"{value:g}" if float(value).is_integer() else f"{value:.2f}"
    environment.filters["when"] = lambda seconds: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))
    return environment


def render(template: str, **values) -> str:
    return _environment().get_template(template).render(**values)
