"""one.vm.attach, one.vm.detach, one.vm.attachnic, one.vm.detachnic (OpenNebula 7.4)."""
from __future__ import annotations

from one.core.managers import Managers
from one.xmlrpc.api import Api, I, S, returns_id


def register(api: Api, m: Managers) -> None:
    hotplug = m.hotplug
    api.add("one.vm.attach", [I("id"), S("template")], returns_id(hotplug.attach_disk),
            "Attaches a disk (DISK = [ IMAGE_ID | IMAGE | TYPE fs|swap + SIZE ]) to a "
            "RUNNING or POWEROFF VM.")
    api.add("one.vm.detach", [I("id"), I("disk_id")], returns_id(hotplug.detach_disk),
            "Detaches the disk DISK_ID from a RUNNING or POWEROFF VM.")
    api.add("one.vm.attachnic", [I("id"), S("template")], returns_id(hotplug.attach_nic),
            "Attaches a NIC (NIC = [ NETWORK_ID | NETWORK, IP ]) to a RUNNING or POWEROFF VM.")
    api.add("one.vm.detachnic", [I("id"), I("nic_id")], returns_id(hotplug.detach_nic),
            "Detaches the NIC NIC_ID from a RUNNING or POWEROFF VM.")
