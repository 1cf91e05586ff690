"""Monitoring history: samples kept per VM and host by the monitor's cycle, pruned
past their window, and the four monitoring methods that read them."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyone
import pytest
from lxml import etree

from conftest import ADMIN, Engine, start_oned, validate
from one.core import monitor
from one.core.lifecycle import records

API, NO_EXISTS, AUTHORIZATION = 0x1000, 0x400, 0x200
CONFIG = "VM_MONITORING_EXPIRATION_TIME = 300\nHOST_MONITORING_EXPIRATION_TIME = 600\n"
START = 1_800_000_000


@pytest.fixture
def clocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, list[int]]]:
    """An inline engine with 5 min of VM and 10 min of host history, on a test clock."""
    import one_dummy
    one_dummy.reset()
    clock = [START]
    for module in (monitor, records):  # the monitor's stamps, and the methods' windows
        monkeypatch.setattr(module, "now", lambda: clock[0])
    oned = start_oned(tmp_path, config_text=CONFIG)
    yield Engine(oned), clock
    oned.stop()
    one_dummy.reset()


def _samples(document: str, schema: str = "monitoring_data.xsd") -> list[etree._Element]:
    if schema:
        validate(document, schema)
    return etree.fromstring(document.encode()).findall("MONITORING")


def _cycles(engine: Engine, clock: list[int], count: int, step: int = 30) -> None:
    for _ in range(count):
        clock[0] += step
        engine.monitor()


def test_vm_samples_are_kept_in_order_and_pruned(clocked) -> None:
    engine, clock = clocked
    rpc, h0 = engine.rpc, engine.host("h0")
    engine.monitor()
    vid = engine.vm(host=h0)
    _cycles(engine, clock, 5)
    samples = _samples(rpc.ok("one.vm.monitoring", vid))
    assert [int(s.findtext("TIMESTAMP")) for s in samples] == [START + 30 * i for i in range(1, 6)]
    assert {s.findtext("ID") for s in samples} == {str(vid)}
    assert all(s.find("CPU") is not None and s.find("MEMORY") is not None for s in samples)
    _cycles(engine, clock, 10)  # 15 cycles of 30 s: only the last 300 s are kept
    stamps = [int(s.findtext("TIMESTAMP")) for s in _samples(rpc.ok("one.vm.monitoring", vid))]
    assert stamps == [clock[0] - 30 * i for i in range(10, -1, -1)]


def test_pool_monitoring_windows(clocked) -> None:
    engine, clock = clocked
    rpc, h0 = engine.rpc, engine.host("h0")
    engine.monitor()
    first, second = engine.vm(host=h0), engine.vm(host=h0)
    _cycles(engine, clock, 4)
    every = _samples(rpc.ok("one.vmpool.monitoring", -2, -1))
    assert [s.findtext("ID") for s in every] == [str(first)] * 4 + [str(second)] * 4
    last = _samples(rpc.ok("one.vmpool.monitoring", -2, 0))
    assert [(s.findtext("ID"), s.findtext("TIMESTAMP")) for s in last] == [
        (str(first), str(clock[0])), (str(second), str(clock[0]))]
    assert len(_samples(rpc.ok("one.vmpool.monitoring", -2, 60))) == 2 * 3  # >= now - 60
    hosts = _samples(rpc.ok("one.hostpool.monitoring", -1), "")
    assert len(hosts) == 5 and {s.findtext("ID") for s in hosts} == {str(h0)}
    assert [s.findtext("TIMESTAMP") for s in _samples(rpc.ok("one.hostpool.monitoring", 0), "")] \
        == [str(clock[0])]


def test_host_samples_are_host_xsd_monitoring_elements(clocked) -> None:
    engine, clock = clocked
    rpc, h0 = engine.rpc, engine.host("h0")
    _cycles(engine, clock, 25)  # 750 s: 600 s of host history kept
    samples = _samples(rpc.ok("one.host.monitoring", h0), "")
    assert len(samples) == 21
    document = etree.fromstring(rpc.ok("one.host.info", h0).encode())
    for sample in samples:
        current = document.find("MONITORING")
        document.replace(current, sample)
        validate(etree.tostring(document).decode(), "host.xsd")
        assert sample.findtext("CAPACITY/FREE_CPU") is not None


def test_a_window_of_zero_keeps_nothing(tmp_path: Path) -> None:
    oned = start_oned(tmp_path, config_text="VM_MONITORING_EXPIRATION_TIME = 0\n"
                                            "HOST_MONITORING_EXPIRATION_TIME = 0\n")
    try:
        engine = Engine(oned)
        vid = engine.vm(host=engine.host("h0"))
        engine.monitor()
        engine.monitor()
        assert _samples(engine.rpc.ok("one.vm.monitoring", vid)) == []
        assert _samples(engine.rpc.ok("one.hostpool.monitoring", -1), "") == []
    finally:
        oned.stop()


def test_bad_requests(clocked) -> None:
    engine, _ = clocked
    rpc = engine.rpc
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    assert _samples(rpc.ok("one.vm.monitoring", vid)) == []  # never monitored
    rpc.fails("one.vm.monitoring", 99, code=NO_EXISTS)
    rpc.fails("one.host.monitoring", 99, code=NO_EXISTS)
    assert "Wrong number of seconds" in rpc.fails("one.vmpool.monitoring", -2, -2, code=API)
    rpc.fails("one.hostpool.monitoring", -5, code=API)
    rpc.fails("one.vmpool.monitoring", -9, -1, code=API)
    rpc.ok("one.user.allocate", "eve", "pw", "core", [])
    eve = rpc.as_user("eve:pw")
    eve.fails("one.vm.monitoring", vid, code=AUTHORIZATION)
    assert _samples(eve.ok("one.vmpool.monitoring", -2, -1)) == []


def test_pyone_reads_monitoring(clocked) -> None:
    engine, clock = clocked
    one = pyone.OneServer(engine.oned.endpoint, session=ADMIN)
    vid = engine.vm(host=engine.host("h0"))
    _cycles(engine, clock, 3)
    data = one.vm.monitoring(vid)
    assert [m.TIMESTAMP for m in data.MONITORING] == [START + 30 * i for i in (1, 2, 3)]
    assert len(one.vmpool.monitoring(-2, -1).MONITORING) == 3
