"""A driver the conformance suite must reject: this run is expected to FAIL.

It names no `driver_class`, as suites written before it existed: the checks
that do not apply are collected and skip when they run."""
from __future__ import annotations

import pytest
from one_sample import BrokenVMM

from one.plugins.testing import VMMConformance


class TestBrokenVMM(VMMConformance):
    @pytest.fixture
    def driver(self) -> BrokenVMM:
        return BrokenVMM()
