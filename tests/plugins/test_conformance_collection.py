"""How a conformance class's `driver_class` chooses, and guards, the checks it runs."""
from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SUITE = '''
import pytest
from one_dummy import Datacenter, DummyVMM
from one.plugins import VMMDriver
from one.plugins.testing import VMMConformance

class TestVMM(VMMConformance):
    driver_class = {named}

    @pytest.fixture
    def driver(self):
        return {made}(datacenter=Datacenter())

    @pytest.fixture
    def plugin(self):
        import one_dummy
        return one_dummy
'''


def _run(pytester: pytest.Pytester, named: str, made: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=SUITE.format(named=named, made=made))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rsf", *args)


def test_a_driver_that_migrates_needs_a_target_host(pytester: pytest.Pytester) -> None:
    done = _run(pytester, "DummyVMM", "DummyVMM", "-k", "migrate")
    done.assert_outcomes(failed=1)
    done.stdout.fnmatch_lines(["*the driver migrates: define a `target_host` fixture*"])


def test_the_driver_must_be_of_the_class_named(pytester: pytest.Pytester) -> None:
    done = _run(pytester, "VMMDriver", "DummyVMM", "-k", "identity")
    done.assert_outcomes(errors=1)
    done.stdout.fnmatch_lines(["*differ in what they implement*"])


def test_inapplicable_checks_are_deselected(pytester: pytest.Pytester) -> None:
    done = _run(pytester, "DummyVMM", "DummyVMM", "--co", "-q")
    assert "test_unsupported_actions_raise_action_not_supported" not in done.stdout.str()
    done.stdout.fnmatch_lines(["*1 deselected*"])
