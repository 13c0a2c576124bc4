"""The prompt check (`ribao prompts check`): the registry's prompt files, rendered with sample values."""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from jinja2 import nodes

from ribao.errors import ConfigError
from ribao.prompts import PromptLibrary
from ribao.registry import AGENTS, PROMPTS, REGISTRY, SUFFIX, PromptSpec


@dataclass(frozen=True)
class PromptProblem:
    """Why one effective prompt file does not render: `variable` is the unknown name, when there is one."""

    rel: str
    path: Path
    message: str
    line: int | None = None
    variable: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


def prompt_files() -> list[PromptSpec]:
    """Return every prompt file of the agent registry, agents in pipeline order, names sorted."""
    return [p for a in REGISTRY.values() for p in sorted(a.prompts, key=lambda p: p.name)]


def select(agent: str, name: str | None = None) -> list[PromptSpec]:
    """Return the files named by `agent [name]` or `agent/name[.md.j2]`; all of the agent's without a name.

    Raises `ConfigError` listing the known agents or files when nothing matches.
    """
    if name is None and "/" in agent:
        agent, name = agent.split("/", 1)
    files = prompt_files()
    if agent not in REGISTRY:
        raise ConfigError(f"unknown agent {agent!r}; known: {', '.join(AGENTS)}")
    mine = [f for f in files if f.agent == agent]
    if name is None:
        return mine
    name = name.removesuffix(SUFFIX)
    chosen = [f for f in mine if f.name == name]
    if not chosen:
        known = ", ".join(f.rel for f in mine)
        raise ConfigError(f"unknown prompt file {agent}/{name}{SUFFIX}; known: {known}")
    return chosen


def stray_user_files(user_dir: Path | None) -> list[str]:
    """Return `*/*.md.j2` files in `user_dir` that override no packaged file (so nothing renders them)."""
    if not user_dir or not user_dir.is_dir():
        return []
    known = {f.rel for f in prompt_files()}
    found = (p.relative_to(user_dir).as_posix() for p in user_dir.glob(f"*/*{SUFFIX}"))
    return sorted(rel for rel in found if rel not in known)


def sample_filters(rel: str) -> dict[str, Any]:
    """Return the Jinja filters the registry lists for `rel`, from `ribao.digest` (only the page has any)."""
    from ribao import digest

    return {name: getattr(digest, name) for name in PROMPTS[rel].filters}


_VARIABLE = re.compile(r"^'(?P<name>[^']+)' is undefined$|has no attribute '(?P<attr>[^']+)'$")


def _name_line(ast: nodes.Template, name: str) -> int | None:
    for node in ast.find_all(nodes.Name):
        if node.name == name and node.ctx == "load":
            return node.lineno
    return None


def _template_line(exc: BaseException, path: Path) -> int | None:
    """Return the template line of the innermost traceback frame in `path` (Jinja rewrites frames)."""
    line, target = None, path.resolve()
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if Path(frame.f_code.co_filename).resolve() == target:
            line = lineno
    return line


def check_file(library: PromptLibrary, rel: str, variables: dict[str, Any]) -> list[PromptProblem]:
    """Parse and render the effective `rel` with `variables`; return its problems (empty when fine).

    Names used anywhere in the file must be variables ribao passes, as the registry lists them (a
    static check, so branches the sample skips are covered too); attributes are checked by
    rendering `variables` (sample values of those names) with StrictUndefined.
    """
    path, _ = library.path_of(rel)
    passed = PROMPTS[rel].variables
    env = jinja2.Environment()
    env.filters.update(sample_filters(rel))
    try:
        ast = env.parse(path.read_text(encoding="utf-8"))
        # Compiles the file too, so an unknown filter shows up here as a TemplateAssertionError.
        unknown = sorted(jinja2.meta.find_undeclared_variables(ast) - passed)
    except jinja2.TemplateSyntaxError as exc:
        return [PromptProblem(rel, path, f"syntax error: {exc.message}", line=exc.lineno)]
    known = ", ".join(sorted(passed)) or "none"
    if unknown:
        return [
            PromptProblem(
                rel,
                path,
                f"'{name}' is undefined (variables of this file: {known})",
                line=_name_line(ast, name),
                variable=name,
            )
            for name in unknown
        ]
    try:
        library.render_file(rel, filters=sample_filters(rel), **variables)
    except ConfigError as exc:
        cause = exc.__cause__
        if isinstance(cause, jinja2.TemplateSyntaxError):
            return [PromptProblem(rel, path, f"syntax error: {cause.message}", line=cause.lineno)]
        if not isinstance(cause, jinja2.TemplateError):
            raise
        message = cause.message or str(cause)
        match = _VARIABLE.search(message)
        variable = (match.group("name") or match.group("attr")) if match else None
        return [PromptProblem(rel, path, message, line=_template_line(cause, path), variable=variable)]
    return []


def check_prompts(library: PromptLibrary, samples: dict[str, dict[str, Any]]) -> list[PromptProblem]:
    """Render every effective prompt file with its sample data; return every problem found.

    `samples` maps each file to sample values of its variables (`ribao.agents.prompt_samples`). A user
    file that overrides no packaged file is a problem too (nothing would ever render it).
    """
    problems: list[PromptProblem] = []
    for f in prompt_files():
        if f.rel not in samples:
            path, _ = library.path_of(f.rel)
            problems.append(
                PromptProblem(f.rel, path, "no sample data: add it to ribao/agents/prompt_samples.py")
            )
            continue
        problems.extend(check_file(library, f.rel, samples[f.rel]))
    user_dir = library.user_dir
    for rel in stray_user_files(user_dir):
        message = "overrides no packaged prompt file, so ribao never reads it"
        problems.append(PromptProblem(rel, Path(user_dir or ".") / rel, message))
    return problems
