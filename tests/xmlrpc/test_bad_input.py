"""Each kind of bad input gets a clear error and leaves stored state intact."""
from __future__ import annotations

import http.client
import socket
import xmlrpc.client
from urllib.parse import urlparse

import pytest

from conftest import Caller
from one.daemon import Oned

VM = "CPU = 1 MEMORY = 64"  # what every VM must ask for
API, NO_EXISTS, ACTION, AUTHN, AUTHZ, INTERNAL, ALLOCATE = (
    0x1000, 0x400, 0x800, 0x100, 0x200, 0x2000, 0x4000)


def test_wrong_parameter_type(rpc: Caller) -> None:
    assert "must be an integer" in rpc.fails("one.vm.info", "zero", code=API)
    assert "must be a boolean" in rpc.fails("one.vm.allocate", "CPU = 1 MEMORY=1", "yes", code=API)


def test_missing_parameter(rpc: Caller) -> None:
    assert "Missing parameter 2 (id)" in rpc.fails("one.vm.info", code=API)
    assert "Missing parameter" in rpc.fails("one.vmpool.info", -2, -1, -1, code=API)


def test_session_must_be_a_string(rpc: Caller) -> None:
    reply = rpc.proxy.one.vm.info(7, 0)
    assert reply[0] is False and reply[2] == API


def test_extra_trailing_parameters_are_ignored(rpc: Caller) -> None:
    assert rpc.ok("one.system.version", 1, 2, 3) == "7.4.0"
    assert rpc.ok("one.host.allocate", "h", "dummy", "dummy", -1, "extra") == 0


def test_unknown_ids(rpc: Caller) -> None:
    for method in ("one.vm.info", "one.host.info", "one.vn.info", "one.user.info",
                   "one.cluster.info", "one.group.info"):
        assert "Error getting" in rpc.fails(method, 4242, code=NO_EXISTS)


def test_bad_password_and_unknown_user(oned: Oned) -> None:
    for session in ("oneadmin:nope", "ghost:pw", "no-colon", ""):
        Caller(oned.endpoint, session).fails("one.vm.info", 0, code=AUTHN)


def test_disabled_user_cannot_log_in(rpc: Caller) -> None:
    uid = rpc.ok("one.user.allocate", "eve", "pw", "core", [])
    rpc.ok("one.user.enable", uid, False)
    rpc.as_user("eve:pw").fails("one.user.info", -1, code=AUTHN)


def test_template_syntax_error_reports_position(rpc: Caller) -> None:
    message = rpc.fails("one.vm.allocate", 'NAME = x\nMEMORY = "unterminated', code=INTERNAL)
    assert "line 2, column" in message
    assert "line 1, column" in rpc.fails("one.vm.allocate", "<TEMPLATE><A>", code=INTERNAL)
    assert rpc.ok("one.vmpool.info", -2, -1, -1, -2) == "<VM_POOL></VM_POOL>"


def test_semantic_template_errors(rpc: Caller) -> None:
    assert "MEMORY" in rpc.fails("one.vm.allocate", "CPU = 1 MEMORY = lots", code=ALLOCATE)
    assert "CPU" in rpc.fails("one.vm.allocate", "MEMORY = 64 CPU = -1", code=ALLOCATE)
    assert "does not exist" in rpc.fails("one.vm.allocate", f"{VM} NIC = [ NETWORK = none ]", code=ALLOCATE)
    assert "VN_MAD" in rpc.fails("one.vn.allocate", "NAME = n AR = [ TYPE = IP4, IP = 1.1.1.1, SIZE = 2 ]",
                                 -1, code=ALLOCATE)
    assert "SIZE" in rpc.fails("one.vn.allocate", "NAME = n VN_MAD = dummy AR = [ TYPE = IP4, IP = 1.1.1.1 ]",
                               -1, code=ALLOCATE)
    assert "IP" in rpc.fails("one.vn.allocate",
                             "NAME = n VN_MAD = dummy AR = [ TYPE = IP4, IP = 300.1.1.1, SIZE = 2 ]",
                             -1, code=ALLOCATE)


def test_failed_allocation_leaves_no_partial_rows(rpc: Caller) -> None:
    nid = rpc.ok("one.vn.allocate", "NAME = tiny VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 1 ]", -1)
    before = rpc.ok("one.vn.info", nid)
    rpc.fails("one.vm.allocate", f"{VM} NIC = [ NETWORK_ID = 0 ] NIC = [ NETWORK_ID = 0 ]", code=ALLOCATE)
    assert rpc.ok("one.vmpool.info", -2, -1, -1, -2) == "<VM_POOL></VM_POOL>"
    assert rpc.ok("one.vn.info", nid) == before
    assert rpc.ok("one.vm.allocate", f"{VM} NIC = [ NETWORK_ID = 0 ]", False) == 0  # nothing was consumed


def test_duplicate_names(rpc: Caller) -> None:
    rpc.ok("one.host.allocate", "h1", "dummy", "dummy", -1)
    assert "already taken" in rpc.fails("one.host.allocate", "h1", "dummy", "dummy", -1, code=ALLOCATE)
    rpc.ok("one.user.allocate", "u", "p", "core", [])
    assert "already taken" in rpc.fails("one.user.allocate", "u", "p", "core", [], code=ALLOCATE)


def test_unknown_driver_names(rpc: Caller) -> None:
    assert "Unknown IM driver 'nope' (known: dummy" in rpc.fails(
        "one.host.allocate", "h", "nope", "dummy", -1, code=ALLOCATE)
    assert "Unknown VMM driver" in rpc.fails("one.host.allocate", "h", "dummy", "xen9", -1, code=ALLOCATE)
    assert "Unknown TM driver" in rpc.fails("one.host.allocate", "h", "im_dummy", "vmm_dummy", "tm_x",
                                            code=ALLOCATE)
    assert rpc.ok("one.hostpool.info") == "<HOST_POOL></HOST_POOL>"


def test_bad_names_and_values(rpc: Caller) -> None:
    assert "NAME" in rpc.fails("one.user.allocate", "has space", "p", "core", [], code=API)
    assert "empty" in rpc.fails("one.user.allocate", "x", "", "core", [], code=API)
    assert "cluster" in rpc.fails("one.host.allocate", "h", "dummy", "dummy", 99, code=NO_EXISTS)
    assert "status" in rpc.fails("one.host.status", rpc.ok("one.host.allocate", "h", "dummy", "dummy", -1), 7, code=API)
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", False)
    assert "nine values" in rpc.fails("one.vm.chmod", vid, 1, 1, 1, 1, 1, 1, 1, 1, 5, code=API)
    assert "filter" in rpc.fails("one.vmpool.info", -9, -1, -1, -1, code=API)
    assert "recover" in rpc.fails("one.vm.recover", vid, 9, code=API)


def test_wrong_state_and_unknown_actions(rpc: Caller) -> None:
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", False)
    assert "Wrong state" in rpc.fails("one.vm.action", "release", vid, code=ACTION)
    assert "not supported" in rpc.fails("one.vm.action", "explode", vid, code=ACTION)
    rpc.ok("one.vm.action", "terminate", vid)
    assert "Wrong state" in rpc.fails("one.vm.action", "hold", vid, code=ACTION)


def test_not_authorized(rpc: Caller) -> None:
    rpc.ok("one.user.allocate", "mallory", "pw", "core", [])
    mallory = rpc.as_user("mallory:pw")
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 1", False)
    for call in (("one.vm.info", vid), ("one.vm.action", "terminate", vid),
                 ("one.user.info", 0), ("one.user.allocate", "x", "y", "core", []),
                 ("one.host.allocate", "h", "dummy", "dummy", -1), ("one.system.config",),
                 ("one.vm.chown", vid, 1, -1)):
        mallory.fails(*call, code=AUTHZ)
    assert "<ID>" not in mallory.ok("one.vmpool.info", -2, -1, -1, -1)


def test_unknown_method_is_a_fault(rpc: Caller) -> None:
    with pytest.raises(xmlrpc.client.Fault, match="not defined"):
        rpc("one.vm.teleport", 0)


def _post(oned: Oned, body: bytes, method: str = "POST", path: str = "/RPC2") -> http.client.HTTPResponse:
    url = urlparse(oned.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    conn.request(method, path, body=body, headers={"Content-Type": "text/xml"})
    return conn.getresponse()


def test_malformed_xml_body_is_a_fault(oned: Oned) -> None:
    response = _post(oned, b"<methodCall><methodName>one.vm.info")
    assert response.status == 200 and b"<fault>" in response.read()


def test_http_level_refusals(oned: Oned) -> None:
    assert _post(oned, b"", method="GET").status == 405
    assert _post(oned, b"<x/>", path="/elsewhere").status == 404
    url = urlparse(oned.endpoint)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 411")
