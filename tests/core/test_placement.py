"""Cluster membership limits placement, as OpenNebula's AUTOMATIC_REQUIREMENTS.

Hosts in two clusters; a VM whose network (or image datastore) belongs to one
of them runs only there: the scheduler never picks a host of the other,
migrate refuses one (ACTION), deploy refuses one when asked to enforce.
"""
from __future__ import annotations

from lxml import etree

from conftest import Engine
from one.core.placement import NOT_PINNED

NET = 'NAME = "{}"\nVN_MAD = dummy\nBRIDGE = br0\nAR = [ TYPE = IP4, IP = 10.{}.0.1, SIZE = 50 ]'


def _doc(text: str) -> etree._Element:
    return etree.fromstring(text.encode())


def _setup(engine: Engine) -> dict[str, int]:
    """Clusters red and blue, two monitored hosts in each; a network in blue only."""
    rpc = engine.rpc
    ids = {"red": rpc.ok("one.cluster.allocate", "red"), "blue": rpc.ok("one.cluster.allocate", "blue")}
    for color in ("red", "blue"):
        for n in (1, 2):
            hid = ids[f"{color}{n}"] = engine.host(f"{color}{n}")
            rpc.ok("one.cluster.addhost", ids[color], hid)
    ids["net"] = rpc.ok("one.vn.allocate", NET.format("bluenet", 1), ids["blue"])
    engine.monitor()
    return ids


def _host_of(engine: Engine, vid: int) -> str | None:
    return _doc(engine.rpc.ok("one.vm.info", vid)).findtext("HISTORY_RECORDS/HISTORY[last()]/HOSTNAME")


def _schedule(engine: Engine) -> None:
    while engine.oned.managers.scheduler.cycle().dispatched:
        engine.settle()
    engine.settle()


def test_a_vm_whose_network_is_in_one_cluster_lands_only_there(engine: Engine) -> None:
    ids = _setup(engine)
    vids = [engine.vm('CPU = 0.1 MEMORY = 16 NIC = [ NETWORK = "bluenet" ]') for _ in range(4)]
    vm = _doc(engine.rpc.ok("one.vm.info", vids[0]))
    assert vm.findtext("TEMPLATE/AUTOMATIC_REQUIREMENTS") == f"(CLUSTER_ID = {ids['blue']}) & {NOT_PINNED}"
    assert vm.findtext("TEMPLATE/NIC/CLUSTER_ID") == str(ids["blue"])
    free = engine.vm("CPU = 0.1 MEMORY = 16")
    assert _doc(engine.rpc.ok("one.vm.info", free)).findtext(
        "TEMPLATE/AUTOMATIC_REQUIREMENTS") == NOT_PINNED
    _schedule(engine)
    assert {_host_of(engine, vid) for vid in vids} == {"blue1", "blue2"}
    assert _host_of(engine, free) is not None


def test_no_host_in_the_vms_clusters_says_so(engine: Engine) -> None:
    ids = _setup(engine)
    for n in (1, 2):
        engine.rpc.ok("one.host.status", ids[f"blue{n}"], 1)  # disabled
    vid = engine.vm('CPU = 0.1 MEMORY = 16 NIC = [ NETWORK = "bluenet" ]')
    _schedule(engine)
    assert _host_of(engine, vid) is None
    message = _doc(engine.rpc.ok("one.vm.info", vid)).findtext("USER_TEMPLATE/SCHED_MESSAGE")
    assert message == f"No host in the VM's clusters ({ids['blue']}) is enabled to run VMs"


def test_image_datastores_count_and_disjoint_clusters_are_refused(engine: Engine) -> None:
    ids = _setup(engine)
    rpc = engine.rpc
    dsid = rpc.ok("one.datastore.allocate", 'NAME = redstore\nDS_MAD = fs\nTM_MAD = dummy', ids["red"])
    iid = rpc.ok("one.image.allocate", "NAME = disk\nTYPE = DATABLOCK\nSIZE = 1", dsid)
    vid = engine.vm(f"CPU = 0.1 MEMORY = 16 DISK = [ IMAGE_ID = {iid} ]")
    assert _doc(rpc.ok("one.vm.info", vid)).findtext("TEMPLATE/DISK/CLUSTER_ID") == str(ids["red"])
    _schedule(engine)
    assert _host_of(engine, vid) in ("red1", "red2")
    before = rpc.ok("one.vmpool.info", -2, -1, -1, -1)
    message = rpc.fails("one.vm.allocate", f'CPU = 0.1 MEMORY = 16 DISK = [ IMAGE_ID = {iid} ] '
                        'NIC = [ NETWORK = "bluenet" ]', False, code=0x4000)
    assert message.endswith(f"Incompatible clusters in NIC. Network for NIC 0 is not in the same "
                            f"cluster as the one used by other VM elements (cluster {ids['red']})")
    assert rpc.ok("one.vmpool.info", -2, -1, -1, -1) == before
    lonely = rpc.ok("one.vn.allocate", NET.format("nowhere", 2), ids["red"])
    rpc.ok("one.cluster.delvnet", ids["red"], lonely)
    assert "Network for NIC 0 is not in any cluster" in rpc.fails(
        "one.vm.allocate", 'CPU = 0.1 MEMORY = 16 NIC = [ NETWORK = "nowhere" ]', False, code=0x4000)


def test_deploy_and_migrate_outside_the_vms_clusters(engine: Engine) -> None:
    ids = _setup(engine)
    rpc = engine.rpc
    vid = engine.vm('CPU = 0.1 MEMORY = 16 NIC = [ NETWORK = "bluenet" ]')
    message = rpc.fails("one.vm.deploy", vid, ids["red1"], True, code=0x800)
    assert message.endswith(f"Cannot deploy VM [{vid}] to host [{ids['red1']}]. Host is in cluster "
                            f"[{ids['red']}], and VM requires to be placed on cluster [{ids['blue']}]")
    assert engine.phase(vid) == (1, 0)  # still PENDING
    rpc.ok("one.vm.deploy", vid, ids["blue1"], True)
    engine.settle()
    assert "requires to be placed on cluster" in rpc.fails("one.vm.migrate", vid, ids["red1"], False,
                                                           code=0x800)
    rpc.ok("one.vm.migrate", vid, ids["blue2"], False)
    engine.settle()
    assert _host_of(engine, vid) == "blue2"
    other = engine.vm('CPU = 0.1 MEMORY = 16 NIC = [ NETWORK = "bluenet" ]')
    rpc.ok("one.vm.deploy", other, ids["red1"], False)  # oned's own deploy: the operator decides
    engine.settle()
    assert _host_of(engine, other) == "red1"


def test_clusters_are_computed_again_when_a_held_vm_is_released(engine: Engine) -> None:
    ids = _setup(engine)
    rpc = engine.rpc
    vid = rpc.ok("one.vm.allocate", 'CPU = 0.1 MEMORY = 16 NIC = [ NETWORK = "bluenet" ]', True)
    rpc.ok("one.cluster.addvnet", ids["red"], ids["net"])
    rpc.ok("one.cluster.delvnet", ids["blue"], ids["net"])
    rpc.ok("one.vm.action", "release", vid)
    vm = _doc(rpc.ok("one.vm.info", vid))
    assert vm.findtext("TEMPLATE/AUTOMATIC_REQUIREMENTS") == f"(CLUSTER_ID = {ids['red']}) & {NOT_PINNED}"
    _schedule(engine)
    assert _host_of(engine, vid) in ("red1", "red2")
    held = rpc.ok("one.vm.allocate", 'CPU = 0.1 MEMORY = 16 NIC = [ NETWORK = "bluenet" ]', True)
    rpc.ok("one.cluster.delvnet", ids["red"], ids["net"])
    message = rpc.fails("one.vm.action", "release", held, code=0x800)
    assert "Network for NIC 0 is not in any cluster" in message
    assert engine.phase(held) == (2, 0)  # still HOLD
