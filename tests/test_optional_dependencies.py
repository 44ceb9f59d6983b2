"""The suite runs where only the `test` extra is installed: PyTorch is a cross-check, never a
requirement, so no test module may import it at the top (collection would fail without it)."""

from __future__ import annotations

import ast
from pathlib import Path

OPTIONAL = {"torch", "micrograd"}


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_test_module_imports_an_optional_package_at_the_top():
    offenders = {
        path.name: sorted(_top_level_imports(path) & OPTIONAL)
        for path in sorted(Path(__file__).parent.glob("*.py"))
    }
    assert {name: found for name, found in offenders.items() if found} == {}
