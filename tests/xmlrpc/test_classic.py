"""Classic (2.2) callers: SHA1 sessions get 2.2 documents and 2.2 verbs work.

Document shapes are compared with OpenNebula's 2.2 fixtures: every element of a
sample appears in our document in the same order; the only extra elements are
those real 2.2 oned emitted and the hand-written fixtures omit (LAST_SEQ,
CLUSTER, TEMPLATE in pools, PUBLIC of 2.0+ networks).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from lxml import etree

from conftest import REPO, Caller

SAMPLES = Path(REPO.parent / "shared" / "reference" / "xml-samples" / "2.2")
ALLOWED_EXTRA = {"LAST_SEQ", "CLUSTER", "TEMPLATE", "PUBLIC"}


def _tags(element: etree._Element) -> list[str]:
    return [child.tag for child in element]


def assert_shape(ours: str, sample_name: str, child: str | None = None,
                 absent: tuple[str, ...] = ()) -> None:
    """`absent`: sample elements that only exist later (HISTORY once deployed)."""
    if not SAMPLES.is_dir():
        pytest.fail(f"classic samples absent: {SAMPLES}")
    sample = etree.parse(str(SAMPLES / sample_name)).getroot()
    mine = etree.fromstring(ours.encode())
    assert mine.tag == sample.tag
    if child is not None:
        sample, mine = sample.find(child), mine.find(child)
    expected = [t for t in _tags(sample) if t not in absent]
    got = _tags(mine)
    extra = [t for t in got if t not in expected]
    assert set(extra) <= ALLOWED_EXTRA, extra
    assert [t for t in got if t in expected] == expected


@pytest.fixture
def classic(classic_rpc: Caller) -> Caller:
    classic_rpc.ok("one.host.allocate", "dummyhost", "im_dummy", "vmm_dummy", "tm_dummy")
    classic_rpc.ok("one.vn.allocate", 'NAME = "Red LAN"\nTYPE = RANGED\nBRIDGE = vbr0\n'
                   'NETWORK_ADDRESS = 192.168.0.0\nNETWORK_SIZE = C\nDNS = 192.169.1.4')
    classic_rpc.ok("one.vm.allocate", 'NAME = vm-example\nMEMORY = 512\nCPU = 1\n'
                   'NIC = [ NETWORK = "Red LAN" ]\nCONTEXT = [ DNS = "$NETWORK[DNS, NAME=\\"Red LAN\\"]" ]')
    return classic_rpc


def test_sha1_session_is_classic(classic: Caller, rpc: Caller) -> None:
    assert "<USERNAME>" not in rpc.ok("one.vmpool.info", -2, -1, -1, -1)
    assert etree.fromstring(classic.ok("one.vm.info", 0).encode()).find("LAST_SEQ") is not None
    assert etree.fromstring(rpc.ok("one.vm.info", 0).encode()).find("LAST_SEQ") is None


def test_vm_shapes(classic: Caller) -> None:
    vm = classic.ok("one.vm.info", 0)
    assert_shape(vm, "vm.xml", absent=("HISTORY",))  # never deployed: no HISTORY yet
    doc = etree.fromstring(vm.encode())
    assert doc.findtext("TEMPLATE/NAME") == "vm-example"
    assert doc.findtext("TEMPLATE/CONTEXT/DNS") == "192.169.1.4"
    assert doc.findtext("TEMPLATE/NIC/MAC") == "02:00:c0:a8:00:01"
    pool = classic.ok("one.vmpool.info", -2, True, -1)
    assert_shape(pool, "vmpool.xml", "VM", absent=("HISTORY",))
    assert etree.fromstring(pool.encode()).findtext("VM/USERNAME") == "oneadmin"
    assert classic.ok("one.vmpool.info", -1) == pool  # 1.4 form: the caller's VMs


def test_host_shapes(classic: Caller) -> None:
    assert_shape(classic.ok("one.host.info", 0), "host.xml")
    assert_shape(classic.ok("one.host.info", 0), "host.xml", "HOST_SHARE")
    assert_shape(classic.ok("one.hostpool.info"), "hostpool.xml", "HOST")
    classic.ok("one.host.enable", 0, False)
    assert etree.fromstring(classic.ok("one.host.info", 0).encode()).findtext("STATE") == "4"
    assert etree.fromstring(classic.ok("one.host.info", 0).encode()).findtext("TM_MAD") == "tm_dummy"


def test_vnet_shapes_and_classic_verbs(classic: Caller) -> None:
    vnet = classic.ok("one.vn.info", 0)
    assert_shape(vnet, "vnet.xml")
    assert_shape(vnet, "vnet.xml", "LEASES/LEASE")
    assert_shape(classic.ok("one.vnpool.info", -2), "vnetpool.xml", "VNET")
    lease = etree.fromstring(vnet.encode()).find("LEASES/LEASE")
    assert (lease.findtext("IP"), lease.findtext("USED"), lease.findtext("VID")) == ("192.168.0.1", "1", "0")
    classic.ok("one.vn.publish", 0, True)
    assert etree.fromstring(classic.ok("one.vn.info", 0).encode()).findtext("PUBLIC") == "1"
    fixed = classic.ok("one.vn.allocate", "NAME = f\nTYPE = FIXED\nBRIDGE = b\nLEASES = [ IP = 10.9.0.1 ]")
    classic.ok("one.vn.addleases", fixed, "LEASES = [ IP = 10.9.0.2, MAC = 02:00:0a:09:00:63 ]")
    leases = etree.fromstring(classic.ok("one.vn.info", fixed).encode()).findall("LEASES/LEASE")
    assert [(l.findtext("IP"), l.findtext("MAC")) for l in leases] == [
        ("10.9.0.1", "02:00:0a:09:00:01"), ("10.9.0.2", "02:00:0a:09:00:63")]
    classic.ok("one.vn.rmleases", fixed, "LEASES = [ IP = 10.9.0.1 ]")
    assert len(etree.fromstring(classic.ok("one.vn.info", fixed).encode()).findall("LEASES/LEASE")) == 1


def test_user_shapes_and_sha1_passwords(classic: Caller) -> None:
    sha1 = hashlib.sha1(b"dan-pw").hexdigest()
    uid = classic.ok("one.user.allocate", "dan", sha1)
    user = classic.ok("one.user.info", uid)
    assert_shape(user, "user.xml")
    shown = etree.fromstring(user.encode()).findtext("PASSWORD")
    assert shown.startswith("scrypt$") and sha1 not in user  # a salted hash, not the secret
    classic.as_user(f"dan:{shown}").fails("one.user.info", uid, code=0x100)
    assert_shape(classic.ok("one.userpool.info"), "userpool.xml", "USER")
    dan = classic.as_user(f"dan:{sha1}")
    assert dan.ok("one.user.info", uid) == user
    modern_dan = classic.as_user("dan:dan-pw")  # a 3.2+ client sends the password itself
    assert "<GROUPS>" in modern_dan.ok("one.user.info", uid)


def test_cluster_classic_verbs(classic: Caller) -> None:
    cid = classic.ok("one.cluster.allocate", "Red")
    assert_shape(classic.ok("one.cluster.info", cid), "cluster.xml")
    classic.ok("one.cluster.add", 0, cid)
    assert etree.fromstring(classic.ok("one.host.info", 0).encode()).findtext("CLUSTER") == "Red"
    classic.ok("one.cluster.remove", 0)
    assert_shape(classic.ok("one.clusterpool.info"), "clusterpool.xml", "CLUSTER")


def test_classic_action_names(classic: Caller) -> None:
    vid = classic.ok("one.vm.allocate", "CPU = 1 MEMORY = 64")
    classic.ok("one.vm.action", "hold", vid)
    classic.ok("one.vm.action", "release", vid)
    classic.ok("one.vm.action", "finalize", vid)
    assert etree.fromstring(classic.ok("one.vm.info", vid).encode()).findtext("STATE") == "6"
    assert "Wrong state" in classic.fails("one.vm.action", "shutdown", 0, code=0x800)
