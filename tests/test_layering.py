"""Who may import whom (shared conventions, "the house"), read from the source with ast.

The core (oned: one/core, one/pool, one/xmlrpc, the composition root) and the plugin
contract (one/plugins) never import the driver toolkit (one/drivers) nor what only
drivers need (paramiko); the toolkit never reaches into the core; the clients of oned
(CLI, one-econe, oneflow-server, one-web) reach it over XML-RPC only, so each may run on
another machine. Checked on the import statements themselves, so a lazy import inside a
function counts too.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ONE = REPO / "one"
CORE = [ONE / "core", ONE / "pool", ONE / "xmlrpc", ONE / "daemon.py", ONE / "config.py",
        ONE / "writer_lock.py", ONE / "ha.py", ONE / "states.py", ONE / "errors.py"]
CONTRACT = [ONE / "plugins"]
TOOLKIT = [ONE / "drivers"]
DRIVER_ONLY = ("one.drivers", "paramiko")
# Each client package, and the fewest modules it has (so an emptied tree cannot pass).
CLIENTS = {"cli": 10, "econe": 11, "flow": 10, "web": 9}
OUTSIDE_CLIENTS = ("one.core", "one.pool", "one.xmlrpc", "one.daemon", "one.plugins",
                   "one.config", "one.drivers")


def sources(roots: list[Path]) -> Iterator[Path]:
    for root in roots:
        yield from sorted(root.rglob("*.py")) if root.is_dir() else [root]


def module_of(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(text: str, package: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in `text`, a module of `package`;
    relative imports are resolved against it."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[:len(parts) - node.level + 1] if node.level else []
            name = ".".join(base + ([node.module] if node.module else []))
            yield node.lineno, name
            yield from ((node.lineno, f"{name}.{alias.name}") for alias in node.names)


def package_of(path: Path) -> str:
    module = module_of(path)
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def violations(roots: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(REPO)}:{line} imports {name}"
            for path in sources(roots)
            for line, name in imported(path.read_text(), package_of(path))
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


def test_the_sources_are_found() -> None:
    files = {module_of(p) for p in sources(CORE + CONTRACT + TOOLKIT)}
    assert {"one.daemon", "one.core.managers", "one.plugins.drivers", "one.drivers.remote"} <= files


@pytest.mark.parametrize("roots", [CORE, CONTRACT], ids=["core", "plugin contract"])
def test_the_core_and_the_contract_never_import_the_driver_toolkit(roots: list[Path]) -> None:
    assert violations(roots, DRIVER_ONLY) == []


def test_the_toolkit_stays_out_of_the_core() -> None:
    core = ("one.core", "one.pool", "one.xmlrpc", "one.cli", "one.daemon")
    assert violations(TOOLKIT, core) == []


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_the_clients_talk_to_oned_only_over_xmlrpc(client: str) -> None:
    package = [ONE / client]
    assert len(list(sources(package))) >= CLIENTS[client]
    assert violations(package + [ONE / "serving.py"], OUTSIDE_CLIENTS) == []


def test_relative_imports_are_resolved() -> None:
    """The checker itself: `from ..drivers import remote` inside one/core is caught."""
    found = [name for _, name in imported("from ..drivers import remote\nfrom . import vms\n",
                                          "one.core")]
    assert found == ["one.drivers", "one.drivers.remote", "one.core", "one.core.vms"]


def test_oned_starts_without_the_toolkit_loaded() -> None:
    """Importing everything oned is made of loads neither one.drivers nor paramiko."""
    code = ("import sys, one.daemon, one.core.managers, one.pool.pools, one.xmlrpc.methods, "
            "one.plugins, one.plugins.testing\n"
            "print(sorted(m for m in sys.modules if m.startswith(('one.drivers', 'paramiko'))))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
