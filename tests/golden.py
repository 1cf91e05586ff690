"""Golden files: generated text compared with the reviewed copy kept beside the tests."""
from __future__ import annotations

from pathlib import Path

import pytest


def matches_golden(text: str, golden: Path) -> None:
    """A missing golden file is written and the test fails, so a new one is reviewed first."""
    if not golden.exists():
        golden.write_text(text)
        pytest.fail(f"{golden} was missing and has been written: review it, then commit it")
    assert text == golden.read_text()
