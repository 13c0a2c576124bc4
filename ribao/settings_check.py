"""Find settings that name nothing: unknown config.toml keys (errors), unknown RIBAO_* variables
(warnings), and values naming a provider, channel, agent, category or folder that does not exist."""

from __future__ import annotations

import difflib
import os
import re
import sys
import tomllib
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ribao.errors import BadFlag, ConfigError, ListingError, OutputError
from ribao.files import folder_problem
from ribao.registry import AGENTS, AGENTS_TEXT
from ribao.settings_push import select

if TYPE_CHECKING:
    from ribao.settings import Settings


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """Yield the pydantic models an annotation can hold directly (``X``, ``X | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _models_in(arg)


def _value_model(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """Return ("dict"|"list", model) when ``annotation`` is ``dict[str, Model]`` or ``list[Model]``."""
    for arg in (annotation, *typing.get_args(annotation)):
        origin = typing.get_origin(arg)
        if origin in (dict, Mapping):
            models = list(_models_in(typing.get_args(arg)[-1]))
            if models:
                return "dict", models[0]
        if origin is list:
            models = list(_models_in(typing.get_args(arg)[0]))
            if models:
                return "list", models[0]
    return None


def _names(model: type[BaseModel]) -> dict[str, str]:
    """Return every accepted key of ``model`` (field names and aliases) mapped to its field name."""
    names = {}
    for name, info in model.model_fields.items():
        names[name] = name
        if info.alias:
            names[info.alias] = name
    return names


def unknown_keys(
    data: Mapping[str, Any], model: type[BaseModel], path: str = ""
) -> Iterator[tuple[str, str | None]]:
    """Yield ``(dotted key, nearest valid key or None)`` for each key of ``data`` that ``model`` lacks.

    Walks nested models, ``dict[str, Model]`` tables (``[providers.NAME]``) and ``list[Model]``
    arrays of tables; the valid keys come from the models themselves, so new sections count.
    """
    names = _names(model)
    for key, value in data.items():
        dotted = f"{path}{key}"
        if key not in names:
            close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
            yield dotted, (f"{path}{close[0]}" if close else None)
            continue
        annotation = model.model_fields[names[key]].annotation
        nested = list(_models_in(annotation))
        if nested and isinstance(value, Mapping):
            yield from unknown_keys(value, nested[0], f"{dotted}.")
            continue
        container = _value_model(annotation)
        if container is None:
            continue
        kind, inner = container
        if kind == "dict" and isinstance(value, Mapping):
            for name, table in value.items():
                if isinstance(table, Mapping):
                    yield from unknown_keys(table, inner, f"{dotted}.{name}.")
        elif kind == "list" and isinstance(value, list):
            for number, table in enumerate(value, start=1):
                if isinstance(table, Mapping):
                    yield from unknown_keys(table, inner, f"{dotted}[{number}].")


def _first_unknown(parts: list[str], model: type[BaseModel]) -> tuple[int, str | None] | None:
    """Return (index, nearest valid name) of the first part of an env key path that names no field, or None.

    A ``dict[str, Model]`` field takes any name as its next part (``PROVIDERS__MINE__BASE_URL``).
    """
    i = 0
    while i < len(parts):
        names = _names(model)
        if parts[i] not in names:
            close = difflib.get_close_matches(parts[i], list(names), n=1, cutoff=0.6)
            return i, (close[0] if close else None)
        annotation = model.model_fields[names[parts[i]]].annotation
        nested = list(_models_in(annotation))
        container = _value_model(annotation)
        if nested:
            model, i = nested[0], i + 1
        elif container and container[0] == "dict":
            model, i = container[1], i + 2
        else:  # a plain value: nothing can sit below it
            return (i + 1, None) if i + 1 < len(parts) else None
    return None


def unknown_env(
    environ: Mapping[str, str], model: type[BaseModel], prefix: str = "RIBAO_", delimiter: str = "__"
) -> Iterator[tuple[str, str | None]]:
    """Yield ``(variable, nearest valid variable or None)`` for each `prefix` variable naming no setting.

    Names are matched case-insensitively, as pydantic-settings reads them; nested keys use `delimiter`.
    """
    for name in sorted(environ):
        if not name.upper().startswith(prefix):
            continue
        parts = name[len(prefix) :].lower().split(delimiter)
        found = _first_unknown(parts, model)
        if found is None:
            continue
        index, near = found
        fixed = None if near is None else [*parts[:index], near, *parts[index + 1 :]]
        yield name, (None if fixed is None else prefix + delimiter.join(fixed).upper())


def check_config_file(path: Path, model: type[BaseModel]) -> None:
    """Raise `ConfigError` naming the key, the file and the nearest valid key for an unknown key in ``path``.

    A missing file is fine; an unreadable one is left to the settings loader's own error.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return
    problems = list(unknown_keys(data, model))
    if not problems:
        return
    parts = [f"{key!r}" + (f" (did you mean {near!r}?)" if near else "") for key, near in problems]
    raise ConfigError(f"{path}: unknown setting {', '.join(parts)}")


_warned: set[str] = set()  # variables already warned about: a command may load settings twice


def warn_unknown_env(model: type[BaseModel]) -> None:
    """Print one ``ribao: warning:`` line on stderr per RIBAO_* variable that names no field of `model`."""
    for name, near in unknown_env(os.environ, model):
        if name not in _warned:
            _warned.add(name)
            hint = f"; did you mean {near}?" if near else ""
            print(f"ribao: warning: {name} matches no setting{hint}", file=sys.stderr)


def _reference_checks(settings: Settings, given: Mapping[str, Any]) -> dict[str, Callable[[], object]]:
    """Return, per top-level setting, a check that its names refer to something that exists."""

    def agents() -> None:
        for name in settings.agents:
            if name not in AGENTS:
                near = difflib.get_close_matches(name, AGENTS, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise ConfigError(f"unknown agent {name!r} in agents{hint}; known: {AGENTS_TEXT}")

    def categories() -> None:
        # Imported here: any ribao.sources module loads the whole listing reader (arxiv, lxml, requests),
        # which `import ribao.settings` (the run log, the memory) should not.
        from ribao.sources.records import check_categories

        try:
            check_categories(settings.categories)
        except ListingError as exc:
            raise ConfigError(str(exc)) from None

    def push() -> None:
        names = [c.name for c in settings.push]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:  # --to/--push and the run log name a channel: one name, one channel
            raise ConfigError(
                f"more than one [[push]] table is named {', '.join(twice)}; give each its own name"
            )

    return {
        "push": push,
        "llm": lambda: settings.llm == "local" or settings.provider(settings.llm),
        "delivery": lambda: select(settings.push, settings.delivery.only or None),
        "agents": agents,
        "categories": categories,
        "prompts_dir": lambda: check_prompts_dir(settings.prompts_dir, flag="prompts_dir" in given),
    }


def check_prompts_dir(path: Path | None, *, flag: bool) -> None:
    """Raise `BadFlag` (given as `--prompts-dir`) or `ConfigError` when `path` is set but is no folder.

    A missing folder would otherwise read as "no overrides": every prompt the packaged one.
    """
    if path is not None and not path.is_dir():
        name = "--prompts-dir" if flag else "prompts_dir"
        what = "is a file, not a folder" if path.exists() else "no such folder"
        raise (BadFlag if flag else ConfigError)(
            f"{name} {path}: {what} (create it, or copy a prompt there with `ribao prompts edit`)"
        )


def env_not_json(exc: Exception) -> ConfigError | None:
    """Return the error naming the RIBAO_* variable that pydantic-settings could not decode as JSON
    (a list or table setting given as ``cs.CL,cs.AI``), or None when `exc` is about something else."""
    found = re.search(r'field "(\w+)" from source "EnvSettingsSource"', str(exc))
    if not found:
        return None
    prefix = "RIBAO_" + found.group(1).upper()
    names = [n for n in sorted(os.environ) if n.upper() == prefix or n.upper().startswith(prefix + "__")]
    shown = ", ".join(f"{n}={os.environ[n]!r}" for n in names) or prefix
    return ConfigError(
        f"{shown}: not JSON; a list or table setting in the environment is written as JSON,"
        f' e.g. RIBAO_CATEGORIES=\'["cs.CL", "cs.AI"]\' or RIBAO_FULLTEXT=\'{{"enabled": false}}\''
    )


def check_out_dir(folder: Path) -> None:
    """Raise `OutputError` when the digest cannot be written in `folder`, before a run pays for a call."""
    problem = folder_problem(folder)
    if problem:
        raise OutputError(f"cannot write the digest in {folder}: {problem}; nothing written")


def check_references(settings: Settings, given: Mapping[str, Any]) -> None:
    """Raise when a setting names what does not exist (a provider, push channel, agent, category or
    prompt folder): `BadFlag` (exit status 2) when the setting is among the flags `given`, else `ConfigError`.
    """
    for key, check in _reference_checks(settings, given).items():
        try:
            check()
        except ConfigError as exc:  # a name given on the command line is bad usage, one in a file is not
            raise (BadFlag if key in given else ConfigError)(str(exc)) from None
