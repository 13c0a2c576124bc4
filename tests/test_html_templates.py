"""Every HTML page is templated by one environment (`ribao.html_templates`): escaped and strict."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from ribao.html_templates import html_environment

ROOT = Path(__file__).resolve().parent.parent / "ribao"


def test_the_environment_escapes_and_is_strict() -> None:
    env = html_environment("ribao.runs", shout=lambda s: s.upper())
    assert env.from_string("<p>{{ t | shout }}</p>").render(t="<b>x</b>") == "<p>&lt;B&gt;X&lt;/B&gt;</p>"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("<p>{{ title }}</p>").render()


def test_no_other_module_builds_an_html_environment() -> None:
    """Autoescaping is set up in one place; a page module asks `html_environment` for its environment."""
    others = [
        str(p.relative_to(ROOT.parent))
        for p in sorted(ROOT.rglob("*.py"))
        if p.name != "html_templates.py" and "select_autoescape" in p.read_text(encoding="utf-8")
    ]
    assert others == []
