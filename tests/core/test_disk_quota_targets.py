"""Where oned's quota table puts a disk (VirtualMachineDisk::get_tm_target and
datastore_sizes): the system datastore (volatile disks, clones of most drivers, links of
ssh), SELF (ceph's clones) or NONE; snapshots count with the disk where it lives."""
from __future__ import annotations

import pytest

from one.core import quotas
from one.pool.template import Template


@pytest.mark.parametrize("disk, target", [
    ({"TYPE": "fs", "SIZE": "5"}, "SYSTEM"),
    ({"IMAGE_ID": "1", "CLONE": "YES", "TM_MAD": "shared"}, "SYSTEM"),
    ({"IMAGE_ID": "1", "CLONE": "YES", "TM_MAD": "ceph"}, "SELF"),
    ({"IMAGE_ID": "1", "CLONE": "NO", "TM_MAD": "ssh"}, "SYSTEM"),
    ({"IMAGE_ID": "1", "CLONE": "NO", "TM_MAD": "shared"}, "NONE"),
])
def test_tm_target(disk: dict[str, str], target: str) -> None:
    assert quotas.tm_target(disk) == target


def test_snapshots_count_where_their_disk_lives() -> None:
    template = Template()
    template.add("DISK", {"IMAGE_ID": "1", "CLONE": "YES", "TM_MAD": "shared", "SIZE": "10",
                          "DISK_SNAPSHOT_TOTAL_SIZE": "20"})
    template.add("DISK", {"IMAGE_ID": "2", "CLONE": "YES", "TM_MAD": "ceph", "SIZE": "10",
                          "DATASTORE_ID": "101", "DISK_SNAPSHOT_TOTAL_SIZE": "30"})
    template.add("DISK", {"IMAGE_ID": "3", "CLONE": "NO", "TM_MAD": "shared", "SIZE": "10",
                          "DATASTORE_ID": "1", "DISK_SNAPSHOT_TOTAL_SIZE": "40"})
    usage = quotas.vm_usage(template, running=False)
    assert usage["VM"][""]["SYSTEM_DISK_SIZE"] == 30       # the clone and its snapshots
    assert usage["DATASTORE"] == {"101": {"SIZE": 30}}     # ceph's snapshots, the VM owner's
