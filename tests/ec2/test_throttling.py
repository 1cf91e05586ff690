"""Throttled calls are retried with backoff, then fail with EC2's message.

moto never throttles, so a small EC2 endpoint on loopback answers
RequestLimitExceeded as AWS does, then, if asked to, an empty listing.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from one.plugins import HostView, TemplateView
from one.states import HostState
from one_vmm_ec2 import Ec2IM

THROTTLED = (b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
             b'<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>'
             b'</Error></Errors><RequestID>1</RequestID></Response>')
EMPTY = (b'<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse '
         b'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>2</requestId>'
         b'<reservationSet/></DescribeInstancesResponse>')


class Throttling(ThreadingHTTPServer):
    """Throttles the first `refusals` requests, answers an empty listing after."""

    def __init__(self, refusals: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.refusals, self.requests = refusals, 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Throttling

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests += 1
        throttled = self.server.requests <= self.server.refusals
        body = THROTTLED if throttled else EMPTY
        self.send_response(503 if throttled else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def throttling(request: pytest.FixtureRequest) -> Iterator[Throttling]:
    server = Throttling(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _host(endpoint: str) -> HostView:
    template = TemplateView.of([("EC2_ACCESS", "AKIDEXAMPLE"), ("EC2_SECRET", "secret"),
                                ("EC2_ENDPOINT", endpoint), ("CAPACITY", {"M1_SMALL": "1"})])
    return HostView(0, "throttled", HostState.MONITORED, "ec2", "ec2", template=template)


@pytest.mark.parametrize("throttling", [2], indirect=True)
def test_throttled_calls_are_retried(throttling: Throttling) -> None:
    probe = Ec2IM({"RETRIES": "3"}).monitor(_host(throttling.endpoint))
    assert throttling.requests == 3 and probe.values["TOTALCPU"] == "100"


@pytest.mark.parametrize("throttling", [100], indirect=True)
def test_throttling_that_lasts_fails_with_ec2s_message(throttling: Throttling) -> None:
    with pytest.raises(Exception, match="RequestLimitExceeded"):
        Ec2IM({"RETRIES": "2"}).monitor(_host(throttling.endpoint))
    assert throttling.requests == 1 + 2
