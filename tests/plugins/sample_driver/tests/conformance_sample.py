"""The sample drivers prove themselves with one fixture each, as a third party would.

Named so that the repository's own test run does not collect it: the tests of
`one` run it in a subprocess against the installed package.
"""
from __future__ import annotations

import pytest
from one_sample import SampleIM, SampleVMM

from one.plugins.testing import IMConformance, VMMConformance


class TestSampleVMM(VMMConformance):
    driver_class = SampleVMM    # the checks of actions it lacks are not even collected

    @pytest.fixture
    def driver(self) -> SampleVMM:
        return SampleVMM()


class TestSampleIM(IMConformance):
    driver_class = SampleIM

    @pytest.fixture
    def driver(self) -> SampleIM:
        return SampleIM()
