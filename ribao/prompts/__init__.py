"""Prompt files: Jinja2 templates per agent; a user folder overrides any single file."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2.loaders import split_template_path

from ribao.errors import ConfigError
from ribao.registry import PROMPTS, check_render

PACKAGE_DIR = Path(str(resources.files("ribao.prompts")))


@dataclass(frozen=True)
class PromptFile:
    """One prompt file as a library read it: where from ("default" or "user"), its text and sha256."""

    path: Path
    origin: str
    text: str
    sha256: str

    @classmethod
    def read(cls, path: Path, origin: str) -> PromptFile:
        """Read `path` once, as UTF-8; the hash is of the bytes the text was decoded from."""
        data = path.read_bytes()
        return cls(path, origin, data.decode("utf-8"), hashlib.sha256(data).hexdigest())


class _OnceLoader(jinja2.BaseLoader):
    """Give Jinja each file as the library read it, never re-reading or re-checking it."""

    def __init__(self, library: PromptLibrary) -> None:
        self._library = library

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        """Return the text, the file name (for tracebacks) and an up-to-date check that is always true."""
        found = self._library.file(template)
        return found.text, str(found.path), lambda: True


@dataclass
class PromptLibrary:
    """Render `<agent>/<name>.md.j2`, taking the file from `user_dir` when it has one.

    Only the files of the agent registry render, each with exactly the variables and filters
    `ribao.registry` lists for it (else `TypeError`); a name the file uses but is not passed raises
    (StrictUndefined); files are read as UTF-8. Each file is read and hashed once per library, when
    the library is made: a run renders one version of each file, the one it records, and an edit is
    picked up by the next library (the next run). `used` maps each rendered file
    (``agent/name.md.j2``) to its source ("default" or "user"), path and sha256, for the run record.
    """

    user_dir: Path | None = None
    used: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._files: dict[str, PromptFile] = {}
        self._env = jinja2.Environment(
            loader=_OnceLoader(self),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            autoescape=False,
        )
        # Read now, before the run: rendering then does no file I/O on the event loop. A file that
        # cannot be read or decoded is read again when it renders, which raises as it always did.
        for rel in PROMPTS:
            with contextlib.suppress(OSError, UnicodeError, jinja2.TemplateNotFound):
                self.file(rel)

    def path_of(self, rel: str) -> tuple[Path, str]:
        """Return the file that renders `rel` and whether it is the "user" or "default" copy."""
        if rel in self._files:
            return self._files[rel].path, self._files[rel].origin
        if self.user_dir and (self.user_dir / rel).is_file():
            return self.user_dir / rel, "user"
        return PACKAGE_DIR / rel, "default"

    def file(self, rel: str) -> PromptFile:
        """Return `rel` as this library read it (reading it now the first time); raises `TemplateNotFound`."""
        if rel not in self._files:
            split_template_path(rel)  # refuses "..": an include never reads outside the two folders
            path, origin = self.path_of(rel)
            if not path.is_file():
                raise jinja2.TemplateNotFound(rel)
            self._files[rel] = PromptFile.read(path, origin)
        return self._files[rel]

    def render(self, agent: str, name: str, **variables: Any) -> str:
        """Render one agent prompt `<agent>/<name>.md.j2`, stripped; see `render_file`."""
        return self.render_file(f"{agent}/{name}.md.j2", **variables).strip()

    def render_file(self, rel: str, *, filters: dict[str, Any] | None = None, **variables: Any) -> str:
        """Render the template at `rel`; raises `ConfigError` naming the file and the missing name.

        Raises `TypeError` when `variables` or `filters` are not the ones the registry lists for `rel`.
        """
        check_render(rel, set(variables), set(filters or {}))
        self._env.filters.update(filters or {})
        try:
            text = self._env.get_template(rel).render(**variables)
        except jinja2.TemplateNotFound as exc:
            raise ConfigError(f"prompt file {rel} not found") from exc
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"prompt {self.path_of(rel)[0]}: {exc.message}") from exc
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"prompt {self.path_of(rel)[0]}:{exc.lineno}: {exc.message}") from exc
        found = self._files[rel]
        self.used[rel] = {"source": found.origin, "path": str(found.path), "sha256": found.sha256}
        return text
