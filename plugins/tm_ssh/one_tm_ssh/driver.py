"""The `ssh` TM driver: hosts share no file system with the front-end or each other.

Every image is streamed to the VM's directory on its host, and VM directories
travel whole (tar, sparse files kept sparse) between the front-end and hosts;
the steps themselves live in `one.drivers.transfer_steps`, which the `shared`
driver builds on as well.
"""
from __future__ import annotations

from one.drivers.transfer_steps import HostTM


class SshTM(HostTM):
    """Copies over SSH: CLONE and LN stream the image, MV streams the disk or directory."""

    name = "ssh"
