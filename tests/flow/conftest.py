"""Fixtures of the OneFlow tests: a real oned (engine inline, dummy hosts), a real
oneflow-server on 127.0.0.1:0 that tests step by hand, and an HTTP client."""
from __future__ import annotations

import base64
import http.client
import json
import urllib.parse
from pathlib import Path
from typing import Any, Iterator

import one_dummy
import pytest

from conftest import ADMIN, Engine, start_oned
from one.daemon import Oned
from one.flow.server import FlowServer

MAX_ROUNDS = 60


class Clock:
    """The flow server's time, moved only by the test."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Http:
    """A raw HTTP client of the REST API, with HTTP Basic credentials."""

    def __init__(self, url: str, credentials: str | None = ADMIN) -> None:
        self.url, self.credentials = urllib.parse.urlsplit(url), credentials

    def __call__(self, method: str, path: str, body: Any = None,
                 raw: bytes | None = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if self.credentials is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(
                self.credentials.encode()).decode()
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        conn.request(method, path, data, headers)
        reply = conn.getresponse()
        text = reply.read()
        conn.close()
        return reply.status, json.loads(text) if text else None

    def as_user(self, credentials: str | None) -> Http:
        return Http(self.url.geturl(), credentials)


class Flow(Engine):
    """oned and oneflow-server; `run()` steps both until nothing changes."""

    def __init__(self, oned: Oned) -> None:
        super().__init__(oned)
        self.clock = Clock()
        self.server = FlowServer(oned.endpoint, ADMIN, port=0, clock=self.clock)
        self.server.serve_in_thread()
        self.http = Http(self.server.url)

    def restart(self) -> None:
        """A new flow server over the same oned: it must carry on from the documents."""
        self.server.stop()
        self.server = FlowServer(self.oned.endpoint, ADMIN, port=0, clock=self.clock)
        self.server.serve_in_thread()
        self.http = Http(self.server.url)

    def run(self) -> None:
        """Flow steps, scheduling and the life cycle, until neither the documents nor the
        VMs change (a body is not saved for a VM that merely moved on)."""
        before = None
        for _ in range(MAX_ROUNDS):
            self.server.step()
            self.oned.managers.scheduler.cycle()
            self.settle()
            now = (self.rpc.ok("one.documentpool.info", -2, -1, -1, 100),
                   self.rpc.ok("one.vmpool.info", -2, -1, -1, -1))
            if now == before:
                return
            before = now
        raise AssertionError("the services never settled")

    def service(self, sid: int) -> dict[str, Any]:
        status, doc = self.http("GET", f"/service/{sid}")
        assert status == 200, doc
        return doc["DOCUMENT"]["TEMPLATE"]["BODY"]

    def roles(self, sid: int) -> dict[str, dict[str, Any]]:
        return {r["name"]: r for r in self.service(sid)["roles"]}

    def template(self, body: dict[str, Any]) -> int:
        status, doc = self.http("POST", "/service_template", body)
        assert status == 201, doc
        return int(doc["DOCUMENT"]["ID"])

    def instantiate(self, tid: int, merge: dict[str, Any] | None = None) -> int:
        status, doc = self.http("POST", f"/service_template/{tid}/action", {
            "action": {"perform": "instantiate", "params": {"merge_template": merge or {}}}})
        assert status == 201, doc
        return int(doc["DOCUMENT"]["ID"])


@pytest.fixture
def flow(tmp_path: Path) -> Iterator[Flow]:
    one_dummy.reset()
    oned = start_oned(tmp_path)
    flow = Flow(oned)
    yield flow
    flow.server.stop()
    oned.stop()
    one_dummy.reset()
