"""A driver the conformance suite must reject: this run is expected to FAIL."""
from __future__ import annotations

import pytest
from one_sample import BrokenVMM

from one.plugins.testing import VMMConformance


class TestBrokenVMM(VMMConformance):
    @pytest.fixture
    def driver(self) -> BrokenVMM:
        return BrokenVMM()
