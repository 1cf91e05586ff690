"""one-econe is a client of oned: it imports nothing from the core or the pools."""
from __future__ import annotations

import ast
from pathlib import Path

import one.econe

FORBIDDEN = ("one.core", "one.pool", "one.xmlrpc", "one.daemon", "one.plugins", "one.config")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_econe_talks_to_oned_only_over_xmlrpc() -> None:
    package = Path(one.econe.__file__).parent
    wrong = {f"{path.relative_to(package)}: {name}"
             for path in package.rglob("*.py") for name in _imports(path)
             if name.startswith(FORBIDDEN)}
    assert not wrong
    assert len(list(package.rglob("*.py"))) > 10
