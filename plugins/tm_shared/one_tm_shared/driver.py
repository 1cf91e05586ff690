"""The `shared` TM driver: the datastores are mounted on the hosts at the front-end's paths.

An image the hosts already see is never copied: a persistent one is linked, a
non-persistent one gets a qcow2 overlay in the VM's directory (the core sets
DRIVER = qcow2 on such disks), and a VM directory does not move between hosts
sharing the system datastore. The other steps are the `ssh` driver's, run on
the host (`one.drivers.transfer_steps`).
"""
from __future__ import annotations

import json

from one.plugins.drivers import TransferStep
from one.drivers.remote import quote
from one.drivers.transfer_steps import HostTM, TransferError, fresh, is_url, source_of


class SharedTM(HostTM):
    """Links and overlays on the host; URLs, which no host mounts, are still copied."""

    name = "shared"

    def ln(self, step: TransferStep) -> str:
        """The VM writes to the datastore's file itself, through a link."""
        src = source_of(step)
        if is_url(src.path):
            return super().clone(step)
        dst = step.dst.path
        self.remote.run(step.dst.host, f"{fresh(dst)} && ln -s -- {quote(src.path)} {quote(dst)}")
        return f"linked to {src.path}"

    def clone(self, step: TransferStep) -> str:
        """A qcow2 overlay backed by the image: the VM's writes stay in its own directory."""
        src = source_of(step)
        if is_url(src.path):
            return super().clone(step)
        host, dst = step.dst.host, step.dst.path
        backing = self._format(host, src.path)
        self.remote.run(host, f"{fresh(dst)} && qemu-img create -q -f qcow2 -F {backing} "
                              f"-b {quote(src.path)} {quote(dst)}")
        return f"qcow2 overlay on {src.path} ({backing})"

    def mv(self, step: TransferStep) -> str:
        """Between hosts the directory is already where it must be, unless its path changes."""
        src, dst = source_of(step), step.dst
        between_hosts = not (self.remote.is_local(src.host) or self.remote.is_local(dst.host))
        if between_hosts and src.path == dst.path:
            return "nothing to move: the hosts share the system datastore"
        return super().mv(step)

    def _format(self, host: str | None, path: str) -> str:
        """qcow2 if the image says so, else raw; -U reads an image a running VM holds."""
        said = self.remote.run(host, f"qemu-img info -U --output=json {quote(path)}")
        try:
            found = json.loads(said).get("format")
        except ValueError as exc:
            raise TransferError(f"qemu-img info {path} printed no JSON: {said[:200]!r}") from exc
        return "qcow2" if found == "qcow2" else "raw"
