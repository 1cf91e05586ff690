"""one-web serves only its own small script and style sheet (its imports are checked with
the other clients' in tests/test_layering.py)."""
from __future__ import annotations

from pathlib import Path

import one.web


def test_no_javascript_or_css_library_is_copied() -> None:
    """Only the console's own small script and style sheet are served."""
    static = Path(one.web.__file__).parent / "static"
    assert sorted(p.name for p in static.iterdir()) == ["app.js", "style.css"]
    assert len((static / "app.js").read_text().splitlines()) < 40
