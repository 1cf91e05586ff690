"""Xen hosts made of this machine: the sshds of the transfer tests, each with a fake `xl`.

The hosts are tm's (127.0.0.2 and 127.0.0.3, see tests/tm/conftest.py); the
Xen drivers reach them over ssh with the executor every host-side driver uses,
and run `fake_xl.py` there as their `XL` command. Each test gets a fresh
hypervisor state (a directory per host under its own tmp), so no domain
outlives a test.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tm.conftest import front_end_key, hosts, port, settings, system_ds  # noqa: F401

FAKE_XL = Path(__file__).with_name("fake_xl.py")


@pytest.fixture
def xl_state(tmp_path: Path) -> Path:
    state = tmp_path / "xen-hosts"
    state.mkdir()
    return state


@pytest.fixture
def xen_settings(settings: dict[str, str], xl_state: Path) -> dict[str, str]:
    """The VM_MAD / IM_MAD settings of oned.conf: ssh as the transfer drivers, the fake xl."""
    return {**settings, "XL": f"{sys.executable} {FAKE_XL} --state {xl_state}"}


def journal(xl_state: Path, host: str) -> list[str]:
    """The xl command lines a host ran, in order."""
    path = xl_state / host / "commands.log"
    return path.read_text().splitlines() if path.exists() else []
