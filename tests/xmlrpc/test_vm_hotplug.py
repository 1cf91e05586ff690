"""one.vm.attach / detach / attachnic / detachnic through the real server (dummy drivers)."""
from __future__ import annotations

import pyone
import pytest
from lxml import etree

from conftest import ADMIN, Caller, Engine, validate
from one.plugins import HostView, VMMDriver, VmView
from one.states import HistoryAction as H, ImageState, LcmState as L, VmState as S

AUTHORIZATION, NO_EXISTS, ACTION, LOCKED, INTERNAL, API = 0x200, 0x400, 0x800, 0x8000, 0x2000, 0x1000


def _image(rpc: Caller, name: str = "data", size: int = 10, persistent: bool = False) -> int:
    iid = rpc.ok("one.image.allocate", f'NAME = "{name}" SOURCE = "/srv/{name}" SIZE = {size} '
                                       'TYPE = DATABLOCK', 1)
    if persistent:
        rpc.ok("one.image.persistent", iid, True)
    return iid


def _vnet(rpc: Caller, size: int = 4) -> int:
    nid = rpc.ok("one.vn.allocate", 'NAME = "lan" VN_MAD = "dummy" BRIDGE = br0 '
                                    f'AR = [ TYPE = "IP4", IP = "10.9.0.1", SIZE = "{size}" ]', -1)
    rpc.ok("one.vn.chmod", nid, -1, -1, -1, 1, -1, -1, 1, -1, -1)
    return nid


def _doc(rpc: Caller, method: str, oid: int) -> etree._Element:
    return etree.fromstring(rpc.ok(method, oid).encode())


def _vectors(rpc: Caller, vid: int, kind: str) -> list[dict[str, str]]:
    doc = validate(rpc.ok("one.vm.info", vid), "vm.xsd")
    return [{c.tag: c.text or "" for c in v} for v in doc.iterfind(f"TEMPLATE/{kind}")]


def _running(engine: Engine, hosts, template: str = "CPU = 1 MEMORY = 128") -> int:
    vid = engine.vm(template, host=hosts[0])
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    return vid


def _devices(engine: Engine, vid: int) -> frozenset[str]:
    return engine.hypervisor("h0").require(f"one-{vid}").devices


def _leases(rpc: Caller, nid: int) -> list[str]:
    return [lease.findtext("IP") for lease in _doc(rpc, "one.vn.info", nid).iterfind("AR_POOL/AR/LEASES/LEASE")]


# -- disks ---------------------------------------------------------------------------------
def test_an_image_disk_is_attached_to_a_running_vm_and_detached(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts, "CPU = 1 MEMORY = 128 DISK = [ TYPE = fs, SIZE = 10 ]")
    iid = _image(rpc)
    assert rpc.ok("one.vm.attach", vid, "DISK = [ IMAGE_ID = %d, DEV_PREFIX = vd ]" % iid) == vid
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG)
    disk = _vectors(rpc, vid, "DISK")[1]
    assert (disk["DISK_ID"], disk["IMAGE_ID"], disk["ATTACH"], disk["TARGET"]) == ("1", str(iid), "YES", "vde")
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    disk = _vectors(rpc, vid, "DISK")[1]
    assert "ATTACH" not in disk and disk["IMAGE_ID"] == str(iid)
    assert _devices(engine, vid) == {"disk:1"}
    image = _doc(rpc, "one.image.info", iid)
    assert (image.findtext("RUNNING_VMS"), image.findtext("STATE")) == ("1", str(ImageState.USED))
    assert [i.text for i in image.iterfind("VMS/ID")] == [str(vid)]
    history = _doc(rpc, "one.vm.info", vid).findall("HISTORY_RECORDS/HISTORY")
    assert [h.findtext("ACTION") for h in history] == [str(H.DISK_ATTACH), "0"]
    assert history[1].findtext("RETIME") == "0" and history[1].findtext("HID") == str(hosts[0])

    assert rpc.ok("one.vm.detach", vid, 1) == vid
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG)
    assert _vectors(rpc, vid, "DISK")[1]["DETACH"] == "YES"
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert [d["DISK_ID"] for d in _vectors(rpc, vid, "DISK")] == ["0"]
    assert _devices(engine, vid) == frozenset()
    image = _doc(rpc, "one.image.info", iid)
    assert (image.findtext("RUNNING_VMS"), image.findtext("STATE")) == ("0", str(ImageState.READY))
    validate(rpc.ok("one.vmpool.info", -2, -1, -1, -1), "vm_pool.xsd")


def test_a_volatile_disk_takes_the_next_id_after_the_context_cdrom(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts, "CPU = 1 MEMORY = 128 DISK = [ TYPE = fs, SIZE = 1 ] "
                                  "CONTEXT = [ A = 1 ]")
    rpc.ok("one.vm.attach", vid, "DISK = [ TYPE = swap, SIZE = 64 ]")
    engine.settle()
    disks = _vectors(rpc, vid, "DISK")
    assert (disks[1]["DISK_ID"], disks[1]["TARGET"]) == ("2", "hdc")  # hda, hdb taken
    context = _doc(rpc, "one.vm.info", vid).find("TEMPLATE/CONTEXT")
    assert context.findtext("DISK_ID") == "1"   # the CD-ROM keeps its disk.1
    rpc.ok("one.vm.detach", vid, 2)
    engine.settle()
    rpc.ok("one.vm.attach", vid, "DISK = [ TYPE = fs, SIZE = 8, FORMAT = qcow2 ]")
    engine.settle()
    disk = _vectors(rpc, vid, "DISK")[1]
    assert (disk["DISK_ID"], disk["DRIVER"]) == ("2", "qcow2")


def test_a_poweroff_vm_gets_its_disk_file_only(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts)
    rpc.ok("one.vm.action", "poweroff", vid)
    engine.settle()
    iid = _image(rpc, persistent=True)
    rpc.ok("one.vm.attach", vid, f"DISK = [ IMAGE_ID = {iid} ]")
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG_PROLOG_POWEROFF)
    engine.settle()
    assert engine.phase(vid) == (S.POWEROFF, L.LCM_INIT)
    assert _doc(rpc, "one.image.info", iid).findtext("STATE") == str(ImageState.USED_PERS)
    rpc.ok("one.vm.detach", vid, 0)
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG_EPILOG_POWEROFF)
    engine.settle()
    assert engine.phase(vid) == (S.POWEROFF, L.LCM_INIT)
    assert _vectors(rpc, vid, "DISK") == []
    assert _doc(rpc, "one.image.info", iid).findtext("STATE") == str(ImageState.READY)
    history = _doc(rpc, "one.vm.info", vid).findall("HISTORY_RECORDS/HISTORY")
    assert history[-1].findtext("RETIME") != "0"   # still not running after the copy


def test_a_persistent_image_in_use_cannot_be_attached(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    iid = _image(rpc, persistent=True)
    other = engine.vm(f"CPU = 1 MEMORY = 128 DISK = [ IMAGE_ID = {iid} ]")
    vid = _running(engine, hosts)
    assert f"Image {iid} is USED_PERS" in rpc.fails("one.vm.attach", vid, f"DISK = [ IMAGE_ID = {iid} ]",
                                                    code=ACTION)
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert _doc(rpc, "one.image.info", iid).findtext("VMS/ID") == str(other)
    assert _vectors(rpc, vid, "DISK") == []


def test_disk_ids_follow_the_highest(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts, "CPU = 1 MEMORY = 128 DISK = [ TYPE = fs, SIZE = 1 ] "
                                  "DISK = [ TYPE = fs, SIZE = 1 ]")
    rpc.ok("one.vm.detach", vid, 0)
    engine.settle()
    rpc.ok("one.vm.attach", vid, "DISK = [ TYPE = fs, SIZE = 1 ]")
    engine.settle()
    assert [d["DISK_ID"] for d in _vectors(rpc, vid, "DISK")] == ["1", "2"]


# -- NICs ----------------------------------------------------------------------------------
def test_a_nic_takes_a_lease_at_attach_and_frees_it_at_detach(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    nid = _vnet(rpc)
    vid = _running(engine, hosts, f"CPU = 1 MEMORY = 128 NIC = [ NETWORK_ID = {nid} ]")
    assert rpc.ok("one.vm.attachnic", vid, 'NIC = [ NETWORK = "lan", IP = "10.9.0.3" ]') == vid
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG_NIC)
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    nic = _vectors(rpc, vid, "NIC")[1]
    assert (nic["NIC_ID"], nic["IP"], nic["BRIDGE"], nic["NETWORK_ID"]) == ("1", "10.9.0.3", "br0", str(nid))
    assert "ATTACH" not in nic and nic["MAC"] == "02:00:0a:09:00:03"
    assert sorted(_leases(rpc, nid)) == ["10.9.0.1", "10.9.0.3"]
    assert _devices(engine, vid) == {"nic:1"}
    validate(rpc.ok("one.vn.info", nid), "vnet.xsd")
    rpc.ok("one.vm.detachnic", vid, 1)
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG_NIC)
    engine.settle()
    assert [n["NIC_ID"] for n in _vectors(rpc, vid, "NIC")] == ["0"]
    assert _leases(rpc, nid) == ["10.9.0.1"]
    assert _devices(engine, vid) == frozenset()
    history = _doc(rpc, "one.vm.info", vid).findall("HISTORY_RECORDS/HISTORY/ACTION")
    assert [a.text for a in history] == [str(H.NIC_ATTACH), str(H.NIC_DETACH), "0"]


def test_a_poweroff_vm_nic_is_a_template_change(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    nid = _vnet(rpc)
    vid = _running(engine, hosts)
    rpc.ok("one.vm.action", "poweroff", vid)
    engine.settle()
    rpc.ok("one.vm.attachnic", vid, f"NIC = [ NETWORK_ID = {nid} ]")
    assert engine.phase(vid) == (S.POWEROFF, L.LCM_INIT)
    assert _vectors(rpc, vid, "NIC")[0]["IP"] == "10.9.0.1" and "ATTACH" not in _vectors(rpc, vid, "NIC")[0]
    rpc.ok("one.vm.detachnic", vid, 0)
    assert _vectors(rpc, vid, "NIC") == [] and _leases(rpc, nid) == []
    rpc.ok("one.vm.action", "resume", vid)
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)


def test_a_full_network_or_a_used_ip_refuses_the_nic(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    nid = _vnet(rpc, size=1)
    vid = _running(engine, hosts, f"CPU = 1 MEMORY = 128 NIC = [ NETWORK_ID = {nid} ]")
    assert "No free address" in rpc.fails("one.vm.attachnic", vid, f"NIC = [ NETWORK_ID = {nid} ]",
                                          code=ACTION)
    assert "already in use" in rpc.fails("one.vm.attachnic", vid,
                                         f'NIC = [ NETWORK_ID = {nid}, IP = "10.9.0.1" ]', code=ACTION)
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING) and len(_vectors(rpc, vid, "NIC")) == 1


# -- wrong states, locks, bad input -------------------------------------------------------
@pytest.mark.parametrize("method, arg", [("one.vm.attach", "DISK = [ TYPE = fs, SIZE = 1 ]"),
                                         ("one.vm.detach", 0),
                                         ("one.vm.attachnic", "NIC = [ NETWORK_ID = 0 ]"),
                                         ("one.vm.detachnic", 0)])
def test_other_states_are_refused(engine: Engine, hosts, method: str, arg) -> None:
    rpc = engine.rpc
    _vnet(rpc)
    pending = engine.vm("CPU = 1 MEMORY = 128 DISK = [ TYPE = fs, SIZE = 1 ] NIC = [ NETWORK_ID = 0 ]")
    assert f"VM {pending}, wrong state PENDING." in rpc.fails(method, pending, arg, code=ACTION)
    undeployed = engine.vm("CPU = 1 MEMORY = 128 DISK = [ TYPE = fs, SIZE = 1 ] NIC = [ NETWORK_ID = 0 ]",
                           host=hosts[0])
    rpc.ok("one.vm.action", "undeploy", undeployed)
    engine.settle()
    assert "wrong state UNDEPLOYED." in rpc.fails(method, undeployed, arg, code=ACTION)
    busy = _running(engine, hosts, "CPU = 1 MEMORY = 128 DISK = [ TYPE = fs, SIZE = 1 ] "
                                   "NIC = [ NETWORK_ID = 0 ]")
    rpc.ok("one.vm.attach", busy, "DISK = [ TYPE = fs, SIZE = 1 ]")
    assert "wrong state HOTPLUG." in rpc.fails(method, busy, arg, code=ACTION)
    engine.settle()


@pytest.mark.parametrize("level, stopped", [(1, True), (2, True), (3, False), (4, True)])
def test_locks_stop_hotplug_from_the_manage_level(engine: Engine, hosts, level: int,
                                                  stopped: bool) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts)
    rpc.ok("one.vm.lock", vid, level, False)
    if stopped:
        rpc.fails("one.vm.attach", vid, "DISK = [ TYPE = fs, SIZE = 1 ]", code=LOCKED)
        rpc.fails("one.vm.detachnic", vid, 0, code=LOCKED)
        assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    else:
        rpc.ok("one.vm.attach", vid, "DISK = [ TYPE = fs, SIZE = 1 ]")
        engine.settle()
        assert len(_vectors(rpc, vid, "DISK")) == 1


def test_bad_input_is_refused_and_changes_nothing(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts, "CPU = 1 MEMORY = 128 DISK = [ TYPE = fs, SIZE = 1 ]")
    before = rpc.ok("one.vm.info", vid)
    rpc.fails("one.vm.attach", vid, "DISK = [ TYPE = ", code=INTERNAL)
    assert "no DISK vector" in rpc.fails("one.vm.attach", vid, "NIC = [ NETWORK_ID = 0 ]", code=ACTION)
    assert "volatile" in rpc.fails("one.vm.attach", vid, "DISK = [ TYPE = fs ]", code=ACTION)
    assert "volatile" in rpc.fails("one.vm.attach", vid, "DISK = [ SIZE = 5 ]", code=ACTION)
    assert "Image 99 does not exist" in rpc.fails("one.vm.attach", vid, "DISK = [ IMAGE_ID = 99 ]",
                                                  code=ACTION)
    assert "Image nope does not exist" in rpc.fails("one.vm.attach", vid, "DISK = [ IMAGE = nope ]",
                                                    code=ACTION)
    assert "does not exist" in rpc.fails("one.vm.attachnic", vid, "NIC = [ NETWORK_ID = 9 ]", code=ACTION)
    assert "DISK_ID 7, it does not exist" in rpc.fails("one.vm.detach", vid, 7, code=ACTION)
    assert "NIC_ID 0, it does not exist" in rpc.fails("one.vm.detachnic", vid, 0, code=ACTION)
    rpc.fails("one.vm.detach", vid, "0", code=API)       # the disk id must be an integer
    rpc.fails("one.vm.attachnic", vid, code=API)          # the template is required
    rpc.fails("one.vm.attach", 99, "DISK = [ TYPE = fs, SIZE = 1 ]", code=NO_EXISTS)
    rpc.fails("one.vm.detachnic", 99, 0, code=NO_EXISTS)
    after = rpc.ok("one.vm.info", vid)
    assert etree.fromstring(after.encode()).find("TEMPLATE").__len__() == \
        etree.fromstring(before.encode()).find("TEMPLATE").__len__()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)


# -- rights and quotas ---------------------------------------------------------------------
def test_rights_manage_on_the_vm_use_on_the_image_and_network(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    uid = rpc.ok("one.user.allocate", "alice", "pw", "core", [])
    alice = rpc.as_user("alice:pw")
    vid = _running(engine, hosts)
    alice.fails("one.vm.attach", vid, "DISK = [ TYPE = fs, SIZE = 1 ]", code=AUTHORIZATION)
    rpc.ok("one.vm.chown", vid, uid, -1)
    private = rpc.ok("one.image.allocate", 'NAME = "p" SOURCE = "/srv/p" SIZE = 1', 1)
    alice.fails("one.vm.attach", vid, f"DISK = [ IMAGE_ID = {private} ]", code=AUTHORIZATION)
    nid = rpc.ok("one.vn.allocate", 'NAME = "priv" VN_MAD = "dummy" AR = [ TYPE = "IP4", '
                                    'IP = "10.8.0.1", SIZE = "2" ]', -1)
    alice.fails("one.vm.attachnic", vid, f"NIC = [ NETWORK_ID = {nid} ]", code=AUTHORIZATION)
    alice.fails("one.vm.attachnic", vid, 'NIC = [ BRIDGE = "br9" ]', code=AUTHORIZATION)
    alice.fails("one.vm.attach", vid, 'DISK = [ SOURCE = "/etc/shadow", TYPE = fs, SIZE = 1 ]',
                code=AUTHORIZATION)
    alice.ok("one.vm.attach", vid, "DISK = [ TYPE = fs, SIZE = 1 ]")
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)


def test_quotas_count_the_disk_and_the_lease_and_free_them(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    uid = rpc.ok("one.user.allocate", "alice", "pw", "core", [])
    alice = rpc.as_user("alice:pw")
    nid = _vnet(rpc)
    iid = _image(rpc)
    rpc.ok("one.image.chmod", iid, -1, -1, -1, 1, -1, -1, 1, -1, -1)
    vid = _running(engine, hosts)
    rpc.ok("one.vm.chown", vid, uid, -1)
    rpc.ok("one.user.quota", uid, f"NETWORK = [ ID = {nid}, LEASES = 1 ] "
                                  "VM = [ SYSTEM_DISK_SIZE = 100 ]")
    alice.ok("one.vm.attachnic", vid, f"NIC = [ NETWORK_ID = {nid} ]")
    engine.settle()
    assert "LEASES quota" in alice.fails("one.vm.attachnic", vid, f"NIC = [ NETWORK_ID = {nid} ]",
                                         code=AUTHORIZATION)
    assert "SYSTEM_DISK_SIZE quota" in alice.fails("one.vm.attach", vid,
                                                   "DISK = [ TYPE = fs, SIZE = 200 ]", code=AUTHORIZATION)
    alice.ok("one.vm.attach", vid, f"DISK = [ IMAGE_ID = {iid} ]")
    engine.settle()
    user = _doc(rpc, "one.user.info", uid)
    validate(rpc.ok("one.user.info", uid), "user.xsd")
    assert user.findtext("NETWORK_QUOTA/NETWORK/LEASES_USED") == "1"
    assert user.findtext("IMAGE_QUOTA/IMAGE/RVMS_USED") == "1"
    assert user.findtext("VM_QUOTA/VM/SYSTEM_DISK_SIZE_USED") == "10"
    alice.ok("one.vm.detachnic", vid, 0)
    engine.settle()
    alice.ok("one.vm.detach", vid, 0)
    engine.settle()
    user = _doc(rpc, "one.user.info", uid)
    assert user.findtext("NETWORK_QUOTA/NETWORK/LEASES_USED") in (None, "0")
    assert user.findtext("IMAGE_QUOTA/IMAGE/RVMS_USED") in (None, "0")
    assert user.findtext("VM_QUOTA/VM/SYSTEM_DISK_SIZE_USED") == "0"


# -- failures ------------------------------------------------------------------------------
def test_a_failed_attach_drops_the_disk_and_frees_the_image(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts)
    rpc.ok("one.vm.update", vid, 'DUMMY_FAIL = "attach_disk attach_nic"', 1)
    iid = _image(rpc)
    rpc.ok("one.vm.attach", vid, f"DISK = [ IMAGE_ID = {iid} ]")
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    assert _vectors(rpc, vid, "DISK") == []
    assert _doc(rpc, "one.image.info", iid).findtext("RUNNING_VMS") == "0"
    error = _doc(rpc, "one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")
    assert "hotplug_disk failed" in error and "injected failure of attach_disk" in error
    nid = _vnet(rpc)
    rpc.ok("one.vm.attachnic", vid, f"NIC = [ NETWORK_ID = {nid} ]")
    engine.settle()
    assert _vectors(rpc, vid, "NIC") == [] and _leases(rpc, nid) == []


def test_a_failed_detach_keeps_the_device(engine: Engine, hosts) -> None:
    rpc = engine.rpc
    vid = _running(engine, hosts, "CPU = 1 MEMORY = 128 DISK = [ TYPE = fs, SIZE = 1 ]")
    rpc.ok("one.vm.update", vid, 'DUMMY_FAIL = "detach_disk"', 1)
    rpc.ok("one.vm.detach", vid, 0)
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    disks = _vectors(rpc, vid, "DISK")
    assert len(disks) == 1 and "DETACH" not in disks[0]
    assert "injected failure of detach_disk" in _doc(rpc, "one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")


class PlainVMM(VMMDriver):
    """Boots and stops guests and plugs nothing: a driver without the hotplug actions."""

    name = "plain"

    def deploy(self, vm: VmView, host: HostView) -> str:
        return f"one-{vm.id}"

    def shutdown(self, vm: VmView, host: HostView) -> None:
        """Nothing runs anywhere: stopped at once."""

    def cancel(self, vm: VmView, host: HostView) -> None:
        """Nothing runs anywhere: destroyed at once."""


def test_a_driver_without_hotplug_fails_the_operation_clearly(engine: Engine) -> None:
    rpc = engine.rpc
    engine.oned.managers.plugins.registries["vmm"].add(PlainVMM)
    hid = rpc.ok("one.host.allocate", "plain0", "dummy", "plain", -1)
    engine.monitor()
    vid = engine.vm("CPU = 1 MEMORY = 128", host=hid)   # no monitor after: PlainVMM hosts no guest
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    nid = _vnet(rpc)
    for method, arg, kind in (("one.vm.attach", "DISK = [ TYPE = fs, SIZE = 1 ]", "DISK"),
                              ("one.vm.attachnic", f"NIC = [ NETWORK_ID = {nid} ]", "NIC")):
        rpc.ok(method, vid, arg)
        engine.settle()
        assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
        assert _vectors(rpc, vid, kind) == []
        error = _doc(rpc, "one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")
        action = "attach_disk" if kind == "DISK" else "attach_nic"
        assert f"vmm driver 'plain' does not support {action}" in error
    assert _leases(rpc, nid) == []
    rpc.ok("one.vm.action", "poweroff", vid)
    engine.settle()
    rpc.ok("one.vm.attach", vid, "DISK = [ TYPE = fs, SIZE = 1 ]")   # powered off: files only
    engine.settle()
    assert engine.phase(vid) == (S.POWEROFF, L.LCM_INIT) and len(_vectors(rpc, vid, "DISK")) == 1


def test_pyone_attaches_and_detaches(engine: Engine, hosts) -> None:
    one = pyone.OneServer(engine.oned.endpoint, session=ADMIN)
    nid = _vnet(engine.rpc)
    iid = _image(engine.rpc)
    vid = _running(engine, hosts)
    assert one.vm.attach(vid, {"TEMPLATE": {"DISK": {"IMAGE_ID": iid}}}) == vid
    engine.settle()
    assert one.vm.attachnic(vid, f"NIC = [ NETWORK_ID = {nid} ]") == vid
    engine.settle()
    vm = one.vm.info(vid)
    assert vm.TEMPLATE["DISK"]["IMAGE_ID"] == str(iid) and vm.TEMPLATE["NIC"]["IP"] == "10.9.0.1"
    assert one.vm.detachnic(vid, 0) == vid
    engine.settle()
    assert one.vm.detach(vid, 0) == vid
    engine.settle()
    vm = one.vm.info(vid)
    assert "DISK" not in vm.TEMPLATE and "NIC" not in vm.TEMPLATE
    with pytest.raises(pyone.OneActionException):
        one.vm.detach(vid, 0)


@pytest.mark.parametrize("op, kept", [(0, False), (1, True)])
def test_recover_settles_a_hotplug_stuck_in_flight(engine: Engine, hosts, op: int,
                                                   kept: bool) -> None:
    """recover --failure drops the disk, --success keeps it; the driver's late reply is dropped."""
    rpc = engine.rpc
    vid = _running(engine, hosts)
    iid = _image(rpc)
    rpc.ok("one.vm.attach", vid, f"DISK = [ IMAGE_ID = {iid} ]")
    assert engine.phase(vid) == (S.ACTIVE, L.HOTPLUG)
    rpc.ok("one.vm.recover", vid, op)
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    engine.settle()
    assert engine.phase(vid) == (S.ACTIVE, L.RUNNING)
    disks = _vectors(rpc, vid, "DISK")
    assert len(disks) == int(kept) and all("ATTACH" not in d for d in disks)
    assert _doc(rpc, "one.image.info", iid).findtext("RUNNING_VMS") == str(int(kept))
