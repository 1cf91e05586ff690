"""The type hints hold: mypy, configured in pyproject.toml, accepts the core, every
driver plugin package and the benchmarks."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_mypy_accepts_one_the_plugins_and_the_benchmarks() -> None:
    # Run from the repo root so [tool.mypy] applies (files, overrides); the cache in
    # .mypy_cache/ keeps later runs to a few seconds.
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"mypy found errors:\n{result.stdout}{result.stderr}"


def test_the_configuration_covers_every_shipped_package() -> None:
    """What the run above checks, and the plugin directories a partial run such as
    `python -m mypy bench` needs on mypy_path to find the drivers the benches import."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]
    assert {"one", "plugins", "bench"} <= set(config["files"])
    plugins = {path.parent.relative_to(REPO).as_posix()
               for path in REPO.glob("plugins/*/pyproject.toml")}
    assert plugins and plugins <= set(config["mypy_path"])
