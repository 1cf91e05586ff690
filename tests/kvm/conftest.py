"""The KVM tests' one collection rule: what libvirt's test driver cannot show."""
from __future__ import annotations

import pytest

# libvirt's test:///default driver cannot migrate, so the conformance suite's migration
# check is not collected for it; live migration between two real libvirtds, through
# oned, is tested in test_live_migration.py.
_NOT_ON_THE_TEST_DRIVER = ("test_libvirt_test_driver.py::TestKvmVMM::test_migrate",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = [item for item in items if item.nodeid.endswith(_NOT_ON_THE_TEST_DRIVER)]
    if chosen:
        config.hook.pytest_deselected(items=chosen)
        items[:] = [item for item in items if item not in chosen]
