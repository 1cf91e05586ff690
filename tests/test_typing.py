"""The type hints hold: mypy, configured in pyproject.toml, accepts the core and every
driver plugin package."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_mypy_accepts_one_and_the_plugins() -> None:
    # Run from the repo root so [tool.mypy] applies (files, overrides); the cache in
    # .mypy_cache/ keeps later runs to a few seconds.
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"mypy found errors:\n{result.stdout}{result.stderr}"
