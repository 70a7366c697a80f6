"""The one Jinja2 environment of the pages: templates shipped in the package, autoescaping always on."""

from __future__ import annotations

from functools import lru_cache

import jinja2


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("autograder.pages", "templates"),
        autoescape=True,  # every value is text unless a template says otherwise; none does
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["points"] = lambda value: f"{value:g}" if float(value).is_integer() else f"{value:.2f}"
    return environment


def render(template: str, **values) -> str:
    return _environment().get_template(template).render(**values)
