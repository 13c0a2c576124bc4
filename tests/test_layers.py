"""The layers are one-way: a module never imports (at run time) from a layer above its own.

Layers, lowest first (README "Design notes"):
  leaf      ribao.errors, ribao.schemas, ribao.record, ribao.calls, ribao.files, ribao.ledger, ribao.state,
            ribao.context, ribao.registry, ribao.masking, ribao.arxiv_ids, ribao.http_faults, ribao.startup,
            ribao.copy_count, ribao.sqlite_wal, ribao.html_templates, ribao.background
  services  ribao.settings*, ribao.llm, ribao.sources, ribao.memory, ribao.prompts, ribao.digest, ribao.runs,
            ribao.profiles
  agents    ribao.agents, ribao.evals
  graph     ribao.graph
  app       ribao.app
  commands  ribao.commands, ribao.cli, ribao.__main__

Imports inside `if TYPE_CHECKING:` create no run-time dependency and are not counted; imports inside
functions are. Neither the packages nor the modules may form a cycle (digest <-> prompts, runs <-> graph,
commands.run <-> commands.push), however the loop is hidden.
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "ribao"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "leaf",
        (
            "ribao.errors",
            "ribao.schemas",
            "ribao.record",
            "ribao.calls",
            "ribao.files",
            "ribao.ledger",
            "ribao.state",
            "ribao.context",
            "ribao.registry",
            "ribao.masking",
            "ribao.arxiv_ids",
            "ribao.http_faults",
            "ribao.startup",
            "ribao.copy_count",
            "ribao.sqlite_wal",
            "ribao.html_templates",
            "ribao.background",
        ),
    ),
    (
        "services",
        (
            "ribao.settings",
            "ribao.settings_sources",
            "ribao.settings_check",
            "ribao.settings_models",
            "ribao.settings_providers",
            "ribao.settings_push",
            "ribao.llm",
            "ribao.sources",
            "ribao.memory",
            "ribao.prompts",
            "ribao.digest",
            "ribao.runs",
            "ribao.fulltext",
            "ribao.delivery",
            "ribao.profiles",
        ),
    ),
    ("agents", ("ribao.agents", "ribao.evals")),
    ("graph", ("ribao.graph",)),
    ("app", ("ribao.app",)),
    ("commands", ("ribao.commands", "ribao.cli", "ribao.__main__")),
]


def unit_of(module: str) -> str:
    """Return the unit (a top-level package or module under ribao) that `module` belongs to."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def layer_of(module: str) -> int | None:
    unit = unit_of(module)
    for i, (_, units) in enumerate(LAYERS):
        if unit in units:
            return i
    return None


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for sub in node.body:
                    skip.update(id(n) for n in ast.walk(sub))
    return skip


def runtime_imports(path: Path) -> set[str]:
    """Return the ribao modules `path` imports at run time (any nesting depth, TYPE_CHECKING excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "ribao" or node.module.startswith("ribao."):
                # `from ribao.memory import minilm` depends on the module ribao.memory.minilm.
                subs = {f"{node.module}.{a.name}" for a in node.names}
                found.update(sub for sub in subs if is_module(sub))
                if node.module != "ribao" and not all(is_module(sub) for sub in subs):
                    found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ribao."))
    return found


def is_module(name: str) -> bool:
    """Return True when `name` is a module or package of ribao on disk."""
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_imports() -> dict[str, set[str]]:
    return {module_name(p): runtime_imports(p) for p in sorted(ROOT.rglob("*.py"))}


def test_every_unit_has_a_layer() -> None:
    unknown = sorted({unit_of(m) for m in all_imports() if m != "ribao" and layer_of(m) is None})
    assert not unknown, f"add these to a layer in tests/test_layers.py: {unknown}"


def test_no_module_imports_from_a_higher_layer() -> None:
    upward = []
    for mod, imports in all_imports().items():
        mine = layer_of(mod)
        if mine is None:
            continue
        for imp in sorted(imports):
            theirs = layer_of(imp)
            if theirs is not None and theirs > mine:
                upward.append(f"{mod} ({LAYERS[mine][0]}) imports {imp} ({LAYERS[theirs][0]})")
    assert not upward, "\n".join(upward)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle of the directed graph `edges` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(edges.get(u, ())):
            if state.get(v) == 1:
                return [*stack[stack.index(v) :], v]
            if v not in state and (cycle := visit(v)):
                return cycle
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(edges):
        if u not in state and (cycle := visit(u)):
            return cycle
    return None


def test_units_form_no_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for mod, imports in all_imports().items():
        mine = unit_of(mod)
        edges.setdefault(mine, set()).update(unit_of(i) for i in imports if unit_of(i) != mine)
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_modules_form_no_cycle() -> None:
    """No two modules import each other, directly or round a loop, counting imports inside functions."""
    edges = {mod: {i for i in imports if i != mod} for mod, imports in all_imports().items()}
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle between modules: " + " -> ".join(cycle)


def test_the_cycle_check_counts_lazy_imports(tmp_path: Path) -> None:
    """An import inside a function is a dependency too, and a loop of two modules is reported."""
    lazy = tmp_path / "lazy.py"
    lazy.write_text("def f():\n    from ribao.memory import minilm\n    return minilm\n")
    assert runtime_imports(lazy) == {"ribao.memory.minilm"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The checker itself can fail: an agent importing the graph is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\nfrom ribao.graph.builder import x\n"
        "if TYPE_CHECKING:\n    from ribao.cli import y\n"
    )
    assert runtime_imports(bad) == {"ribao.graph.builder"}
    assert layer_of("ribao.graph.builder") > layer_of("ribao.agents.writer")  # type: ignore[operator]


def readme_layers() -> list[tuple[str, set[str]]]:
    """Return the README's six design-note lines as (layer name, units named before any " — ")."""
    text = (ROOT.parent / "README.md").read_text(encoding="utf-8")
    notes = text[text.index("Design notes — the layers") :]
    found: list[tuple[str, set[str]]] = []
    for n in range(1, 7):
        line = next(ln for ln in notes.splitlines() if ln.startswith(f"{n}. "))
        name, _, rest = line[3:].partition(": ")
        units: set[str] = set()
        for item in re.findall(r"`([^`]+)`", rest.split(" — ")[0]):
            paths = sorted(ROOT.glob(item.rstrip("/"))) or [ROOT / item.rstrip("/")]
            units |= {module_name(p if p.is_dir() else p.with_suffix(".py")) for p in paths}
        found.append((name, units))
    return found


def test_the_readme_design_notes_name_every_layer_and_unit() -> None:
    assert readme_layers() == [(name, set(units)) for name, units in LAYERS]
    on_disk = {unit_of(m) for m in all_imports()} - {"ribao"}
    assert on_disk == {u for _, units in LAYERS for u in units}  # every module and folder has its line


def test_loading_the_settings_loads_no_subsystem(tmp_path: Path) -> None:
    """Importing the settings (the run log and the memory do) loads no delivery, full-text, listing or LLM
    code; loading them checks the categories with the listing reader's rule, and still loads no other."""
    code = (
        "import sys\nimport ribao.settings\nprint(' '.join(sys.modules))\n"
        "ribao.settings.load_settings()\nprint(' '.join(sys.modules))"
    )
    env = {**os.environ, "RIBAO_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    imported, loaded = (line.split() for line in out.stdout.splitlines())
    assert "ribao.settings" in imported

    def heavy(modules: list[str], names: tuple[str, ...]) -> list[str]:
        return [m for m in modules if m.split(".")[0] in names or unit_of(m) in names]

    subsystems = ("ribao.delivery", "ribao.fulltext", "ribao.llm", "apprise", "openai", "langchain_core")
    assert heavy(imported, (*subsystems, "ribao.sources", "lxml", "arxiv", "requests")) == []
    assert heavy(loaded, subsystems) == []


def _exception_classes(tree: ast.Module, known: set[str]) -> list[str]:
    """Return the classes in `tree` whose base is an exception: a builtin one, one in `known`, or a
    third-party one by its name (``httpx.HTTPError``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
            if bases & known or any(b.endswith(("Error", "Exception")) for b in bases):
                found.append(node.name)
    return found


def test_exceptions_are_defined_in_errors_py() -> None:
    """Every exception class lives in ribao/errors.py; a private one (`_Retry`) only while no other
    module names it, i.e. it never leaves the module that raises it."""
    builtin = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    errors = ROOT / "errors.py"
    known = builtin | set(_exception_classes(ast.parse(errors.read_text(encoding="utf-8")), builtin))
    texts = {p: p.read_text(encoding="utf-8") for p in sorted(ROOT.rglob("*.py")) if p != errors}
    misplaced = []
    for path, text in texts.items():
        for name in _exception_classes(ast.parse(text), known):
            elsewhere = [q for q, t in texts.items() if q != path and re.search(rf"\b{name}\b", t)]
            if not name.startswith("_") or elsewhere:
                misplaced.append(f"{module_name(path)}.{name}")
    assert not misplaced, f"define these in ribao/errors.py: {misplaced}"
