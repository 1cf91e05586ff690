"""HTTP Basic credentials proved by the request's own calls to oned, with no login call of
the server's: a wrong password is a 401 on every route before any other answer (400, 404)
and changes nothing; nothing is cached, so a changed password or a disabled user is
refused at the very next request."""
from __future__ import annotations

from typing import Any

import pytest

from conftest import ADMIN
from one.cli.errors import ServerError
from one.flow.api import Caller

from .conftest import Flow
from .test_lifecycle import cluster, setup

SIMPLE = {"name": "web", "deployment": "none",
          "roles": [{"name": "www", "cardinality": 1, "template_id": 0}]}
SCALE = {"cardinality": 3}
SHUTDOWN = {"action": {"perform": "shutdown"}}
# Every route, with a body that is fine and one the route would refuse (400 or 404).
ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/service_template", None), ("POST", "/service_template", SIMPLE),
    ("POST", "/service_template", b"{not json"), ("GET", "/service_template/{tid}", None),
    ("GET", "/service_template/abc", None), ("PUT", "/service_template/{tid}", SIMPLE),
    ("PUT", "/service_template/{tid}", b"[]"), ("DELETE", "/service_template/{tid}", None),
    ("POST", "/service_template/{tid}/action", {"action": {"perform": "instantiate"}}),
    ("POST", "/service_template/{tid}/action", {"action": {"perform": "explode"}}),
    ("GET", "/service", None), ("GET", "/service/{sid}", None), ("GET", "/service/77", None),
    ("DELETE", "/service/{sid}", None), ("POST", "/service/{sid}/action", SHUTDOWN),
    ("POST", "/service/{sid}/action", {"nothing": 1}),
    ("POST", "/service/{sid}/scale", {"role_name": "worker", **SCALE}),
    ("PUT", "/service/{sid}/role/worker", SCALE), ("PUT", "/service/{sid}/role/worker", b"7"),
    ("POST", "/service/{sid}/role/worker/action", {"action": {"perform": "poweroff"}}),
]


def _state(flow: Flow) -> tuple[str, str]:
    return (flow.rpc.ok("one.documentpool.info", -2, -1, -1, -1),
            flow.rpc.ok("one.vmpool.info", -2, -1, -1, -1))


def test_a_wrong_password_is_401_before_anything_else(flow: Flow) -> None:
    setup(flow)
    tid = flow.template(cluster())
    sid = flow.instantiate(tid)
    flow.run()
    before = _state(flow)
    for method, path, body in ROUTES:
        for credentials in ("oneadmin:wrong", "ghost:x"):
            status, reply = flow.http.as_user(credentials)(
                method, path.format(tid=tid, sid=sid), *(
                    (None, body) if isinstance(body, bytes) else (body,)))
            assert status == 401 and reply["error"]["message"], (credentials, method, path)
    assert _state(flow) == before


def test_a_changed_password_or_a_disabled_user_is_refused_at_the_next_request(
        flow: Flow) -> None:
    uid = flow.rpc.ok("one.user.allocate", "bob", "pw", "core", [])
    bob = flow.http.as_user("bob:pw")
    assert bob("GET", "/service")[0] == 200
    flow.rpc.ok("one.user.passwd", uid, "new")
    assert bob("GET", "/service")[0] == 401
    assert bob("POST", "/service_template", SIMPLE)[0] == 401
    assert flow.http.as_user("bob:new")("GET", "/service")[0] == 200
    flow.rpc.ok("one.user.enable", uid, False)
    assert flow.http.as_user("bob:new")("GET", "/service")[0] == 401
    assert flow.http("GET", "/service_template")[1]["DOCUMENT_POOL"]["DOCUMENT"] == []


def test_a_caller_is_proved_by_any_answer_of_oned_but_an_authentication_failure(
        flow: Flow) -> None:
    good = Caller(flow.oned.endpoint, ADMIN)
    assert good.proved is None
    with pytest.raises(ServerError) as missing:
        good.document("one.document.info", 77)  # no such document: oned knew the caller
    assert missing.value.code == 0x400 and good.proved is True
    bad = Caller(flow.oned.endpoint, "oneadmin:wrong")
    with pytest.raises(ServerError) as refused:
        bad.call("one.documentpool.info", -2, -1, -1, 100)
    assert refused.value.code == 0x100 and bad.proved is False
