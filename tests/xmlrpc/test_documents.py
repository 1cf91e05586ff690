"""Every document a modern caller gets validates against the 7.4 XSDs."""
from __future__ import annotations

import pytest

from conftest import Caller, validate

VM_TEMPLATES = [
    'NAME = plain MEMORY = 64 CPU = 0.5',
    'MEMORY = 128 CPU = 1 VCPU = 2 DESCRIPTION = "free text < & >"\n'
    'DISK = [ SOURCE = "/img/a.qcow2", TARGET = vda ] DISK = [ TYPE = swap, SIZE = 512 ]\n'
    'NIC = [ NETWORK = "priv" ] NIC = [ NETWORK_ID = 1 ] NIC = [ MAC = "02:aa:00:00:00:01", BRIDGE = br9 ]\n'
    'GRAPHICS = [ TYPE = vnc, LISTEN = "127.0.0.1" ] GRAPHICS = [ TYPE = spice ]\n'
    'CONTEXT = [ IP = "$NIC[IP]", GW = "$NETWORK[GATEWAY, NAME=\\"priv\\"]", USER = "$UNAME" ]\n'
    'OS = [ ARCH = x86_64, BOOT = disk0 ] FEATURES = [ ACPI = yes ] RAW = [ TYPE = kvm, DATA = "<x/>" ]\n'
    'VIDEO = [ TYPE = virtio, VRAM = 16384 ] TPM = [ MODEL = tpm-crb ] TPM = [ BAD = 1 ]\n'
    'SCHED_REQUIREMENTS = "ID != 3" CPU_MODEL = [ MODEL = host-passthrough ] SNAPSHOT = [ X = 1 ]\n'
    'MEMORY_ENCRYPTION = [ TYPE = sev, EXTRA = 1 ] CPU_COST = [ A = b ] NIC_DEFAULT = [ MODEL = virtio ]',
    '<TEMPLATE><NAME><![CDATA[xml-vm]]></NAME><MEMORY>32</MEMORY><CPU>1</CPU><CONTEXT><A>b</A></CONTEXT>'
    '<LABELS>x,y</LABELS></TEMPLATE>',
]


@pytest.fixture
def populated(rpc: Caller) -> Caller:
    rpc.ok("one.user.allocate", "alice", "pw", "core", [1])
    rpc.ok("one.group.allocate", "devs")
    rpc.ok("one.cluster.allocate", "edge")
    rpc.ok("one.host.allocate", "node1", "dummy", "dummy", -1)
    rpc.ok("one.host.allocate", "node2", "dummy", "dummy", 1)
    rpc.ok("one.host.update", 0, 'RESERVED_CPU = 100\nLABELS = "a,b"', 0)
    rpc.ok("one.vn.allocate", 'NAME = priv VN_MAD = bridge GATEWAY = 10.0.0.254\n'
           'AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 100 ] AR = [ TYPE = ETHER, SIZE = 4 ]', -1)
    rpc.ok("one.vn.allocate", 'NAME = classic TYPE = RANGED NETWORK_ADDRESS = 192.168.7.0 '
           'NETWORK_SIZE = C BRIDGE = vbr1', -1)
    rpc.ok("one.vn.allocate", 'NAME = fixed TYPE = FIXED BRIDGE = vbr2 '
           'LEASES = [ IP = 172.16.0.5 ] LEASES = [ IP = 172.16.0.9, MAC = "02:ab:cd:00:00:09" ]', -1)
    rpc.ok("one.vn.hold", 0, 'LEASES = [ IP = 10.0.0.50 ]')
    rpc.ok("one.vn.reserve", 0, 'SIZE = 5 NAME = mine')
    rpc.ok("one.vn.allocate", 'NAME = empty VN_MAD = dummy', -1)
    for text in VM_TEMPLATES:
        rpc.ok("one.vm.allocate", text, False)
    rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 16", True)
    rpc.ok("one.vm.action", "terminate", 0)
    return rpc


def test_vm_documents_validate(populated: Caller) -> None:
    for vid in range(len(VM_TEMPLATES) + 1):
        validate(populated.ok("one.vm.info", vid), "vm.xsd")
    validate(populated.ok("one.vmpool.info", -2, -1, -1, -2), "vm_pool.xsd")
    validate(populated.ok("one.vmpool.infoextended", -2, -1, -1, -2), "vm_pool_extended.xsd")
    validate(populated.ok("one.vmpool.infoset", "1,2", True), "vm_pool_extended.xsd")


def test_vm_template_split_follows_schema(populated: Caller) -> None:
    doc = validate(populated.ok("one.vm.info", 1), "vm.xsd")
    system = [e.tag for e in doc.find("TEMPLATE")]
    assert system.count("GRAPHICS") == 1 and system.count("TPM") == 1
    assert "VIDEO" in system and "NIC_DEFAULT" in system and "SNAPSHOT" not in system
    user = [e.tag for e in doc.find("USER_TEMPLATE")]
    for moved in ("DESCRIPTION", "SCHED_REQUIREMENTS", "CPU_MODEL", "SNAPSHOT", "GRAPHICS",
                  "TPM", "MEMORY_ENCRYPTION", "CPU_COST"):
        assert moved in user, moved
    assert doc.findtext("USER_TEMPLATE/DESCRIPTION") == "free text < & >"


def test_host_documents_validate(populated: Caller) -> None:
    for hid in (0, 1):
        validate(populated.ok("one.host.info", hid), "host.xsd")
    validate(populated.ok("one.hostpool.info"), "host_pool.xsd")


def test_vnet_documents_validate(populated: Caller) -> None:
    for nid in range(5):
        validate(populated.ok("one.vn.info", nid), "vnet.xsd")
    validate(populated.ok("one.vnpool.info", -2, -1, -1), "vnet_pool.xsd")


def test_user_and_cluster_documents_validate(populated: Caller) -> None:
    for uid in (0, 1):
        validate(populated.ok("one.user.info", uid), "user.xsd")
    validate(populated.ok("one.userpool.info"), "user_pool.xsd")
    for cid in (0, 1):
        validate(populated.ok("one.cluster.info", cid), "cluster.xsd")
    validate(populated.ok("one.clusterpool.info"), "cluster_pool.xsd")


def test_empty_pools_validate(rpc: Caller) -> None:
    validate(rpc.ok("one.vmpool.info", -2, -1, -1, -1), "vm_pool.xsd")
    validate(rpc.ok("one.hostpool.info"), "host_pool.xsd")
    validate(rpc.ok("one.vnpool.info", -2, -1, -1), "vnet_pool.xsd")
