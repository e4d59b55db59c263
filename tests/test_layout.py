"""The repository keeps the layout ARCHITECTURE.md describes: apps in layers, files that fit in a
sitting, and an engine a type checker can follow.

Imports are read from the source (function bodies included: an import deferred into a function
still points up the stack). URL includes and Celery task names are strings, not imports, which is
how the project root and the task queue reach upwards without an arrow.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Bottom to top; each package may import only those listed before it.
LAYERS = [
    "segmentation",
    "segplatform",
    "audit",
    "accounts",
    "projects",
    "governance",
    "reports",
    "runs",
    "monitoring",
    "experiments",
    "api",
]
MAX_LINES = 400
# A longer file must say why at its top, in a line starting with this.
LONG_FILE_REASON = "Longer than 400 lines because"


def source_files() -> list[Path]:
    skipped = {".venv", "var", "migrations", ".git", "node_modules"}
    return sorted(p for p in ROOT.rglob("*.py") if not skipped & set(p.relative_to(ROOT).parts))


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_each_app_imports_only_the_layers_below_it() -> None:
    upward = []
    for rank, package in enumerate(LAYERS):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            above = imported_packages(path) & set(LAYERS[rank + 1 :])
            upward += [f"{path.relative_to(ROOT)} imports {name}" for name in sorted(above)]
    assert not upward, "imports that point up the layers:\n" + "\n".join(upward)


def test_the_engine_imports_no_django() -> None:
    django = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "segmentation").rglob("*.py"))
        if "django" in imported_packages(path) or "celery" in imported_packages(path)
    ]
    assert not django


def test_no_source_file_is_longer_than_a_sitting_without_saying_why() -> None:
    long = []
    for path in source_files():
        lines = path.read_text().splitlines()
        if len(lines) > MAX_LINES and not any(
            line.strip().startswith(LONG_FILE_REASON) for line in lines[:20]
        ):
            long.append(f"{path.relative_to(ROOT)}: {len(lines)} lines")
    assert not long, f"over {MAX_LINES} lines with no reason at the top:\n" + "\n".join(long)


def test_the_engine_type_checks() -> None:
    pytest.importorskip("mypy", reason="mypy comes with requirements-dev.txt")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
