"""CPU and memory over time on a VM's and a host's page: the samples oned keeps,
produced by the dummy drivers' monitor cycles on a test clock, drawn as SVG lines."""
from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Iterator

import pytest
from lxml import etree, html

from conftest import Engine, start_oned
from one.core import monitor
from one.core.lifecycle import records
from one.web.config import WebConfig
from one.web.server import make
from web.conftest import Http

START = 1_800_000_000
TOP, HEIGHT = 20, 90  # where a chart's plot area starts and how tall it is (one/web/charts.py)


@dataclasses.dataclass
class Clocked:
    engine: Engine
    clock: list[int]
    http: Http


@pytest.fixture
def clocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clocked]:
    """An inline engine on a test clock, and one-web in front of it, signed in as oneadmin."""
    import one_dummy
    one_dummy.reset()
    clock = [START]
    for module in (monitor, records):
        monkeypatch.setattr(module, "now", lambda: clock[0])
    oned = start_oned(tmp_path)
    server = make(WebConfig(port=0, one_xmlrpc=oned.endpoint))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    http = Http(f"http://127.0.0.1:{server.server_port}")
    assert http.sign_in()[0] == 200
    yield Clocked(Engine(oned), clock, http)
    server.shutdown()
    server.server_close()
    oned.stop()
    one_dummy.reset()


def _cycle(clocked: Clocked, cpu: float) -> None:
    """30 s later, every dummy guest on h0 reports `cpu` percent, and the monitor runs."""
    import one_dummy
    hypervisor = one_dummy.hypervisor("h0")
    hypervisor.adopt({deploy: dataclasses.replace(domain, cpu=cpu)
                      for deploy, domain in hypervisor.domains().items()})
    clocked.clock[0] += 30
    clocked.engine.monitor()


def _lines(page: str) -> list[tuple[str, list[tuple[float, float]]]]:
    """Each usage chart of a page: its label and its polyline's points."""
    charts = html.fromstring(page).xpath('//section[@id="usage"]//svg')
    return [(svg.get("aria-label"),
             [tuple(map(float, point.split(","))) for point in
              svg.xpath("polyline/@points")[0].split()]) for svg in charts]


def _samples(engine: Engine, method: str, oid: int, *paths: str) -> list[list[float]]:
    doc = etree.fromstring(engine.rpc.ok(method, oid).encode())
    return [[float(sample.findtext(path)) for sample in doc.iterfind("MONITORING")]
            for path in paths]


def _heights(values: list[float]) -> list[float]:
    peak = max(values) or 1.0
    return [round(TOP + HEIGHT * (1 - value / peak), 1) for value in values]


def test_vm_page_draws_its_cpu_and_memory_samples(clocked: Clocked) -> None:
    engine = clocked.engine
    h0 = engine.host("h0")
    engine.monitor()
    vid = engine.vm("CPU = 1 MEMORY = 128", host=h0)
    for cpu in (10.0, 40.0, 20.0, 80.0, 50.0):
        _cycle(clocked, cpu)
    cpu, memory = _samples(engine, "one.vm.monitoring", vid, "CPU", "MEMORY")
    assert cpu == [10.0, 40.0, 20.0, 80.0, 50.0] and memory == [131072.0] * 5
    status, page = clocked.http.request(f"/vms/{vid}")
    assert status == 200
    (cpu_label, cpu_points), (memory_label, memory_points) = _lines(page)
    assert cpu_label == "CPU (%): last 50, highest 80, 5 samples"
    assert memory_label == "Memory (MB): last 128, highest 128, 5 samples"
    assert [y for _, y in cpu_points] == _heights(cpu)
    assert [y for _, y in memory_points] == _heights(memory) == [TOP] * 5
    xs = [x for x, _ in cpu_points]  # evenly spaced: one sample every 30 s
    assert xs[0] == 0 and xs == sorted(xs) and len({round(b - a) for a, b in zip(xs, xs[1:])}) == 1


def test_host_page_draws_its_samples(clocked: Clocked) -> None:
    engine = clocked.engine
    h0 = engine.host("h0")
    engine.vm(host=h0)
    for cpu in (5.0, 15.0, 25.0):
        _cycle(clocked, cpu)
    cpu, memory = _samples(engine, "one.host.monitoring", h0,
                           "CAPACITY/USED_CPU", "CAPACITY/USED_MEMORY")
    assert len(cpu) == 3
    status, page = clocked.http.request(f"/hosts/{h0}")
    assert status == 200
    (cpu_label, cpu_points), (memory_label, memory_points) = _lines(page)
    assert cpu_label.startswith("CPU (%)") and cpu_label.endswith("3 samples")
    assert memory_label.startswith("Memory (MB)") and memory_label.endswith("3 samples")
    assert [y for _, y in cpu_points] == _heights(cpu)
    assert [y for _, y in memory_points] == _heights(memory)


def test_no_samples_yet_is_said_not_drawn(clocked: Clocked) -> None:
    engine = clocked.engine
    hid = engine.host("h0")
    vid = engine.vm()  # pending: never monitored
    for path in (f"/vms/{vid}", f"/hosts/{hid}"):
        status, page = clocked.http.request(path)
        usage = html.fromstring(page).xpath('//section[@id="usage"]')[0]
        assert status == 200 and not usage.xpath(".//svg")
        assert [p.text_content() for p in usage.xpath('.//p[@class="empty"]')] == [
            "CPU: no monitoring samples yet.", "Memory: no monitoring samples yet."]


def test_a_vm_the_user_may_not_see_shows_no_chart(clocked: Clocked) -> None:
    engine = clocked.engine
    vid = engine.vm()
    engine.rpc.ok("one.user.allocate", "eve", "evepw", "core", [])
    eve = Http(clocked.http.url)
    assert eve.sign_in("eve", "evepw")[0] == 200
    status, page = eve.request(f"/vms/{vid}")
    assert status == 403 and "<svg" not in page
