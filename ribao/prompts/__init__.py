"""Prompt files: Jinja2 templates per agent; a user folder overrides any single file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from ribao.errors import ConfigError
from ribao.registry import check_render

PACKAGE_DIR = Path(str(resources.files("ribao.prompts")))


@dataclass
class PromptLibrary:
    """Render `<agent>/<name>.md.j2`, taking the file from `user_dir` when it has one.

    Only the files of the agent registry render, each with exactly the variables and filters
    `ribao.registry` lists for it (else `TypeError`); a name the file uses but is not passed raises
    (StrictUndefined); files are read as UTF-8. `used` maps each
    rendered file (``agent/name.md.j2``) to its source ("default" or "user") and sha256, for the
    run record.
    """

    user_dir: Path | None = None
    used: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        search = [str(self.user_dir)] if self.user_dir and self.user_dir.is_dir() else []
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([*search, str(PACKAGE_DIR)], encoding="utf-8"),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            autoescape=False,
        )

    def path_of(self, rel: str) -> tuple[Path, str]:
        """Return the file that renders `rel` and whether it is the "user" or "default" copy."""
        if self.user_dir and (self.user_dir / rel).is_file():
            return self.user_dir / rel, "user"
        return PACKAGE_DIR / rel, "default"

    def render(self, agent: str, name: str, **variables: Any) -> str:
        """Render one agent prompt `<agent>/<name>.md.j2`, stripped; see `render_file`."""
        return self.render_file(f"{agent}/{name}.md.j2", **variables).strip()

    def render_file(self, rel: str, *, filters: dict[str, Any] | None = None, **variables: Any) -> str:
        """Render the template at `rel`; raises `ConfigError` naming the file and the missing name.

        Raises `TypeError` when `variables` or `filters` are not the ones the registry lists for `rel`.
        """
        check_render(rel, set(variables), set(filters or {}))
        path, origin = self.path_of(rel)
        self._env.filters.update(filters or {})
        try:
            text = self._env.get_template(rel).render(**variables)
        except jinja2.TemplateNotFound as exc:
            raise ConfigError(f"prompt file {rel} not found") from exc
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"prompt {path}: {exc.message}") from exc
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"prompt {path}:{exc.lineno}: {exc.message}") from exc
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self.used[rel] = {"source": origin, "path": str(path), "sha256": digest}
        return text
