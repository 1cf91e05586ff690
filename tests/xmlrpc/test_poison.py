"""Poison values: size caps on templates, finite capacities, name lengths, and
allocations that fail without leaving anything behind."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Caller, start_oned
from one.errors import OneError

API, ALLOCATE = 0x1000, 0x4000
VALUE_LIMIT, TEXT_LIMIT = 256 * 1024, 1024 * 1024
VM = "CPU = 1 MEMORY = 64"


def _vm_count(rpc: Caller) -> int:
    return rpc.ok("one.vmpool.info", -2, -1, -1, -2).count("<VM>")


def test_oversized_values_and_templates_are_refused_with_nothing_committed(rpc: Caller) -> None:
    rpc.ok("one.vn.allocate",
           "NAME = n VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 1 ]", -1)
    big = "x" * (VALUE_LIMIT + 1)
    message = rpc.fails("one.vm.allocate", f'{VM} NIC = [ NETWORK = n ] BIG = "{big}"', False,
                        code=API)
    assert "BIG" in message and str(VALUE_LIMIT) in message and "TEMPLATE_MAX_VALUE" in message
    huge = "x" * (11 * 1024 * 1024)  # beyond libxml2's 10 MB text node
    message = rpc.fails("one.vm.allocate", f'{VM} BIG = "{huge}"', False, code=API)
    assert str(TEXT_LIMIT) in message and "TEMPLATE_MAX_SIZE" in message
    vector = f'{VM} CONTEXT = [ A = "{big}" ]'
    assert "CONTEXT/A" in rpc.fails("one.vm.allocate", vector, False, code=API)
    assert _vm_count(rpc) == 0
    # the network's only lease is still free
    vid = rpc.ok("one.vm.allocate", f"{VM} NIC = [ NETWORK = n ]", False)
    assert "10.0.0.1" in rpc.ok("one.vm.info", vid)


def test_variables_cannot_expand_beyond_the_value_limit(rpc: Caller) -> None:
    long = "y" * (VALUE_LIMIT // 2 + 1)
    text = f'{VM} LONG = "{long}" CONTEXT = [ A = "$LONG$LONG" ]'
    assert "expand" in rpc.fails("one.vm.allocate", text, False, code=API)
    assert _vm_count(rpc) == 0


def test_every_kind_of_update_is_capped(rpc: Caller) -> None:
    big = f'BIG = "{"z" * (VALUE_LIMIT + 1)}"'
    vid = rpc.ok("one.vm.allocate", VM, True)
    hid = rpc.ok("one.host.allocate", "h", "dummy", "dummy", -1)
    nid = rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy", -1)
    uid = rpc.ok("one.user.allocate", "u", "pw", "core", [])
    gid = rpc.ok("one.group.allocate", "g")
    cid = rpc.ok("one.cluster.allocate", "c")
    iid = rpc.ok("one.image.allocate", "NAME = i TYPE = DATABLOCK SIZE = 1", 1)
    for method, oid in (("one.vm.update", vid), ("one.host.update", hid), ("one.vn.update", nid),
                        ("one.user.update", uid), ("one.group.update", gid),
                        ("one.cluster.update", cid), ("one.image.update", iid),
                        ("one.datastore.update", 1)):
        for append in (0, 1):
            assert "BIG" in rpc.fails(method, oid, big, append, code=API), method
    assert "BIG" in rpc.fails("one.image.allocate", f"NAME = j TYPE = DATABLOCK SIZE = 1 {big}",
                              1, code=API)
    assert "BIG" in rpc.fails("one.vn.allocate", f"NAME = m {big}", -1, code=API)
    ar = f'AR = [ TYPE = ETHER, SIZE = 1, BIG = "{"z" * (VALUE_LIMIT + 1)}" ]'
    assert "AR/BIG" in rpc.fails("one.vn.add_ar", nid, ar, code=API)


def test_attribute_names_and_the_classic_one_attribute_update_are_checked(rpc: Caller) -> None:
    long_name = "N" * 257
    assert "longer than 256" in rpc.fails("one.vm.allocate", f"{VM} {long_name} = 1", False,
                                          code=API)
    iid = rpc.ok("one.image.allocate", "NAME = i TYPE = DATABLOCK SIZE = 1", 1)
    assert "BIG" in rpc.fails("one.image.update", iid, "BIG", "z" * (VALUE_LIMIT + 1), code=API)
    rpc.fails("one.image.update", iid, long_name, "1", code=API)
    assert "Invalid attribute name" in rpc.fails("one.image.update", iid, "A = B", "1", code=API)
    rpc.ok("one.image.update", iid, "color", "blue")
    assert "<COLOR><![CDATA[blue]]></COLOR>" in rpc.ok("one.image.info", iid)


def test_appends_cannot_grow_a_template_beyond_the_limit(rpc: Caller) -> None:
    vid = rpc.ok("one.vm.allocate", VM, True)
    chunk = "w" * (VALUE_LIMIT - 10)
    for index in range(TEXT_LIMIT // VALUE_LIMIT):
        rpc.ok("one.vm.update", vid, f'A{index} = "{chunk}"', 1)
    assert "TEMPLATE_MAX_SIZE" in rpc.fails("one.vm.update", vid, f'Z = "{chunk}"', 1, code=API)
    assert "<Z>" not in rpc.ok("one.vm.info", vid)


def test_limits_come_from_oned_conf(tmp_path: Path) -> None:
    oned = start_oned(tmp_path, config_text="TEMPLATE_MAX_VALUE = 8\nTEMPLATE_MAX_SIZE = 4096\n")
    try:
        rpc = Caller(oned.endpoint)
        rpc.ok("one.vm.allocate", f'{VM} A = "12345678"', False)
        message = rpc.fails("one.vm.allocate", f'{VM} A = "123456789"', False, code=API)
        assert "limit is 8" in message
    finally:
        oned.stop()
    (tmp_path / "bad").mkdir()
    with pytest.raises(OneError, match="TEMPLATE_MAX_VALUE"):
        start_oned(tmp_path / "bad", config_text="TEMPLATE_MAX_VALUE = 20000000\n")


@pytest.mark.parametrize("template, word", [
    ("MEMORY = 64", "CPU attribute must be a positive float or integer value."),
    ("CPU = 1", "MEMORY attribute must be a positive integer value."),
    ("CPU = inf MEMORY = 64", "CPU"), ("CPU = nan MEMORY = 64", "CPU"),
    ("CPU = 1e308 MEMORY = 64", "CPU"), ("CPU = -1 MEMORY = 64", "CPU"),
    ("CPU = 1_0 MEMORY = 64", "CPU"), ("CPU = 1 MEMORY = 1e3", "MEMORY"),
    ("CPU = 1 MEMORY = 99999999999999999999", "MEMORY"), ("CPU = 1 MEMORY = -5", "MEMORY"),
    ("CPU = 1 MEMORY = 64 VCPU = 0", "VCPU"), ("CPU = 1 MEMORY = 64 VCPU = 1e9", "VCPU"),
    ("CPU = 1 MEMORY = 64 DISK = [ TYPE = swap, SIZE = inf ]", "DISK SIZE"),
])
def test_capacities_are_required_finite_and_in_range(rpc: Caller, template: str, word: str) -> None:
    assert word in rpc.fails("one.vm.allocate", template, False, code=ALLOCATE)
    assert _vm_count(rpc) == 0


def test_names_are_length_checked_at_allocate_and_rename(rpc: Caller) -> None:
    longest, too_long = "n" * 128, "n" * 129
    allocations = {
        "vm": lambda name: ("one.vm.allocate", f"{VM} NAME = {name}", False),
        "host": lambda name: ("one.host.allocate", name, "dummy", "dummy", -1),
        "user": lambda name: ("one.user.allocate", name, "pw", "core", []),
        "group": lambda name: ("one.group.allocate", name),
        "cluster": lambda name: ("one.cluster.allocate", name),
        "vn": lambda name: ("one.vn.allocate", f"NAME = {name} VN_MAD = dummy", -1),
        "image": lambda name: ("one.image.allocate", f"NAME = {name} TYPE = DATABLOCK SIZE = 1", 1),
    }
    for kind, call in allocations.items():
        assert "max length is 128" in rpc.fails(*call(too_long), code=API), kind
        oid = rpc.ok(*call(longest))
        if kind in ("vm", "host", "cluster", "vn", "image"):
            rpc.fails(f"one.{kind}.rename", oid, too_long, code=API)
            rpc.ok(f"one.{kind}.rename", oid, longest[:-1])
