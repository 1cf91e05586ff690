"""one-web is a client of oned: it imports nothing from the core, the pools or the server."""
from __future__ import annotations

from pathlib import Path

import one.web
from econe.test_layering import FORBIDDEN, _imports


def test_web_talks_to_oned_only_over_xmlrpc() -> None:
    package = Path(one.web.__file__).parent
    wrong = {f"{path.relative_to(package)}: {name}"
             for path in package.rglob("*.py") for name in _imports(path)
             if name.startswith(FORBIDDEN)}
    assert not wrong
    assert len(list(package.rglob("*.py"))) >= 9


def test_no_javascript_or_css_library_is_copied() -> None:
    """Only the console's own small script and style sheet are served."""
    static = Path(one.web.__file__).parent / "static"
    assert sorted(p.name for p in static.iterdir()) == ["app.js", "style.css"]
    assert len((static / "app.js").read_text().splitlines()) < 40
