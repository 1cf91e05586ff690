"""one-web serves only its own small scripts and style sheet; noVNC comes from npm at
install time and is never committed (its imports are checked with the other clients'
in tests/test_layering.py)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import one.web

WEB = Path(one.web.__file__).parent


def test_no_javascript_or_css_library_is_copied() -> None:
    """Only the console's own small scripts and style sheet are in static/."""
    static = WEB / "static"
    assert sorted(p.name for p in static.iterdir()) == ["app.js", "console.js", "style.css"]
    for script in ("app.js", "console.js"):
        assert len((static / script).read_text().splitlines()) < 40


def test_novnc_is_installed_by_npm_not_committed() -> None:
    tracked = subprocess.run(["git", "ls-files", str(WEB)], capture_output=True, text=True,
                             check=True, cwd=WEB).stdout.split()
    assert not [path for path in tracked if "node_modules" in path or "novnc" in path.lower()]
    assert subprocess.run(["git", "check-ignore", "-q", str(WEB / "node_modules")],
                          cwd=WEB).returncode == 0
