"""EC2 errors moto does not make: throttling (retried with backoff, then EC2's
message) and the account's instance limit (the deploy fails with EC2's message).

A small EC2 endpoint on loopback answers each action from a script, as AWS
would, and an empty listing to any DescribeInstances it has no script for.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import parse_qs

import pytest

from one.plugins import HostView, TemplateView
from one.plugins.testing import make_vm_view
from one.states import HostState
from one_vmm_ec2 import Ec2IM, Ec2VMM

EMPTY = (200, b'<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse '
              b'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>2</requestId>'
              b'<reservationSet/></DescribeInstancesResponse>')


def error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return status, (f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
                    f'<Code>{code}</Code><Message>{message}</Message></Error></Errors>'
                    f'<RequestID>1</RequestID></Response>').encode()


THROTTLED = error(503, "RequestLimitExceeded", "Request limit exceeded.")
LIMIT = error(400, "InstanceLimitExceeded",
              "Your quota allows for 0 more running instance(s). You requested at least 1.")


class ScriptedEc2(ThreadingHTTPServer):
    """Answers action A with the next reply of script[A]; counts the calls of each."""

    def __init__(self, script: dict[str, list[tuple[int, bytes]]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.calls: dict[str, int] = {}

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def reply(self, action: str) -> tuple[int, bytes]:
        self.calls[action] = self.calls.get(action, 0) + 1
        replies = self.script.get(action, [])
        return replies.pop(0) if replies else EMPTY


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedEc2

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        status, body = self.server.reply(form.get("Action", [""])[0])
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ec2(request: pytest.FixtureRequest) -> Iterator[ScriptedEc2]:
    server = ScriptedEc2(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _host(endpoint: str) -> HostView:
    template = TemplateView.of([("EC2_ACCESS", "AKIDEXAMPLE"), ("EC2_SECRET", "secret"),
                                ("EC2_ENDPOINT", endpoint), ("CAPACITY", {"M1_SMALL": "1"})])
    return HostView(0, "scripted", HostState.MONITORED, "ec2", "ec2", template=template)


@pytest.mark.parametrize("ec2", [{"DescribeInstances": [THROTTLED, THROTTLED]}], indirect=True)
def test_throttled_calls_are_retried(ec2: ScriptedEc2) -> None:
    probe = Ec2IM({"RETRIES": "3"}).monitor(_host(ec2.endpoint))
    assert ec2.calls["DescribeInstances"] == 3 and probe.values["TOTALCPU"] == "100"


@pytest.mark.parametrize("ec2", [{"DescribeInstances": [THROTTLED] * 10}], indirect=True)
def test_throttling_that_lasts_fails_with_ec2s_message(ec2: ScriptedEc2) -> None:
    with pytest.raises(Exception, match="RequestLimitExceeded"):
        Ec2IM({"RETRIES": "2"}).monitor(_host(ec2.endpoint))
    assert ec2.calls["DescribeInstances"] == 1 + 2


@pytest.mark.parametrize("ec2", [{"RunInstances": [LIMIT]}], indirect=True)
def test_instance_limit_fails_the_deploy_with_ec2s_message(ec2: ScriptedEc2) -> None:
    vm = make_vm_view(4, user_template=[("PUBLIC_CLOUD", {"TYPE": "ec2", "AMI": "ami-1"})])
    with pytest.raises(Exception, match="InstanceLimitExceeded.*0 more running instance"):
        Ec2VMM({}).deploy(vm, _host(ec2.endpoint))
    assert ec2.calls == {"DescribeInstances": 1, "RunInstances": 1}   # not retried
