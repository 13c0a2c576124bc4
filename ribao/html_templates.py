"""The one Jinja environment of the HTML pages (digest, site, run, run diff, eval report): escaped, strict."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def html_environment(
    package: str, *, finalize: Callable[[Any], Any] | None = None, **filters: Callable[..., Any]
) -> Environment:
    """Return a Jinja environment over `package`'s ``templates/`` folder with `filters` added by name.

    Every printed value is escaped (template files and strings alike), an undefined name is an error
    (`StrictUndefined`), and block tags leave no blank lines; `finalize` sees each value before escaping.
    """
    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=finalize,
    )
    env.filters.update(filters)
    return env
