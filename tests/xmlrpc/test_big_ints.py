"""Integers no i4 can carry, in any parameter of any method: a parameter error
(0x1000), never an internal error from the database underneath."""
from __future__ import annotations

import urllib.request
import xmlrpc.client
from typing import Any

import pytest

from conftest import ADMIN, Caller

API, NO_EXISTS = 0x1000, 0x400


def _raw_call(endpoint: str, method: str, params: list[str]) -> Any:
    """A call whose <int> values no Python client would send."""
    values = "".join(f"<param><value>{p}</value></param>" for p in params)
    body = (f"<?xml version='1.0'?><methodCall><methodName>{method}</methodName>"
            f"<params>{values}</params></methodCall>").encode()
    with urllib.request.urlopen(urllib.request.Request(endpoint, body)) as reply:
        return xmlrpc.client.loads(reply.read())[0][0]


_ARGUMENTS = {int: "<int>0</int>", str: "<string>NAME = x</string>", bool: "<boolean>0</boolean>",
              list: "<array><data></data></array>"}


@pytest.mark.parametrize("huge", [2**31, -2**31 - 1, 2**63, 2**70, -(10**40)])
def test_integers_beyond_i4_are_parameter_errors_in_every_method(oned: Any, huge: int) -> None:
    checked = 0
    for method, signatures in oned.api.methods.items():
        for signature in signatures:
            kinds = [param.kind for param in signature.params]
            for position, kind in enumerate(kinds):
                if kind is not int:
                    continue
                args = [f"<string>{ADMIN}</string>"] + [_ARGUMENTS[k] for k in kinds]
                tag = "i8" if huge.bit_length() < 64 else "int"
                args[position + 1] = f"<{tag}>{huge}</{tag}>"
                ok, message, code = _raw_call(oned.endpoint, method, args)
                assert not ok and code == API and "out of range" in message, (method, message)
                checked += 1
    assert checked > 100


def test_huge_integers_inside_arrays_and_missing_ids(rpc: Caller, oned: Any) -> None:
    group = "<array><data><value><i8>4294967296</i8></value></data></array>"
    reply = _raw_call(oned.endpoint, "one.user.allocate",
                      [f"<string>{ADMIN}</string>", "<string>a</string>", "<string>p</string>",
                       "<string>core</string>", group])
    assert reply[0] is False and reply[2] == API and "out of range" in reply[1]
    assert "<NAME>a</NAME>" not in rpc.ok("one.userpool.info")
    for method in ("one.vm.info", "one.host.info", "one.vn.info", "one.image.info",
                   "one.user.info", "one.group.info", "one.cluster.info", "one.datastore.info"):
        rpc.fails(method, 2**31 - 1, code=NO_EXISTS)
