"""The engine's modules form no import cycle (file lengths: ``tests/test_layout.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "segmentation"


def module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def engine_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ENGINE.rglob("*.py"))}


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Engine modules that ``name`` imports anywhere in its file, function bodies included:
    an import deferred into a function still closes a cycle, it only hides it from start-up."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # ``from . import sweep`` imports the module sweep, not a name of the package.
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return {m for m in found if m in modules and m != name}


def test_no_engine_module_takes_part_in_an_import_cycle():
    modules = engine_modules()
    # The package root is the public façade that re-exports the submodules' names; a module
    # reading ``__version__`` from it is not a cycle between two stages of the engine.
    graph = {
        name: imported_modules(name, path, modules) - {"segmentation"}
        for name, path in modules.items()
        if name != "segmentation"
    }
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        for target in sorted(graph.get(name, ())):
            if target in trail:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in finished:
                visit(target, [*trail, target])
        finished.add(name)

    finished: set[str] = set()
    for name in sorted(graph):
        if name not in finished:
            visit(name, [name])
    assert cycles == []
