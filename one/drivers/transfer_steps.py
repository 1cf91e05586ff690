"""Transfer steps carried out on hosts: the base of the `ssh` and `shared` TM drivers.

Why here: both drivers run each step on the host it names through the same
executor (`one.drivers.remote`) and differ only in how an image reaches a
host - copied there, or linked from an image datastore the host mounts. So
one base class holds the dispatch, the logging and every step done the same
way, and each driver overrides only what differs.
"""
from __future__ import annotations

import http.client
import time
import urllib.request
from collections.abc import Mapping, Sequence

from one.drivers.remote import Remote, SshSettings, parent, quote
from one.errors import InternalError, OneError
from one.plugins.drivers import Location, TMDriver, TransferStep
from one.plugins.views import VmView

OPS = ("CLONE", "LN", "MKSWAP", "MKIMAGE", "CONTEXT", "MV", "CPDS", "RESIZE", "DELETE")
URL_TIMEOUT = 60.0      # seconds a download may go without a byte


class TransferError(InternalError):
    """A step that could not be carried out; the message names the step."""


def is_url(path: str) -> bool:
    return path.startswith(("http://", "https://"))


def source_of(step: TransferStep) -> Location:
    if step.src is None:
        raise TransferError(f"{step.op} needs a source")
    return step.src


def fresh(path: str) -> str:
    """The shell command that frees `path` for a new file, its directory made first."""
    return f"mkdir -p -- {quote(parent(path))} && rm -f -- {quote(path)}"


def empty_disk(path: str, size_mb: int, fstype: str) -> str:
    """The shell command for a new disk: raw (sparse), qcow2, or formatted by mkfs."""
    if fstype == "qcow2":
        return f"{fresh(path)} && qemu-img create -q -f qcow2 {quote(path)} {size_mb}M"
    sparse = f"{fresh(path)} && truncate -s {size_mb}M -- {quote(path)}"
    return sparse if fstype == "raw" else f"{sparse} && mkfs -t {quote(fstype)} {quote(path)}"


def streamed(size: int) -> str:
    return f"{size / 2 ** 20:.1f} MiB streamed" if size else "done on the host"


class HostTM(TMDriver):
    """Each step on the host it names; hosts share nothing, so images are copied.

    Settings, from the driver's TM_MAD vector in oned.conf: `SSH_USER`,
    `SSH_PORT`, `SSH_KEY`, `KNOWN_HOSTS`, `ACCEPT_NEW_HOST_KEYS` (see SshSettings).
    """

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        super().__init__(config)
        self.remote = Remote(SshSettings.from_config(self.config))

    def execute(self, vm: VmView, steps: Sequence[TransferStep]) -> None:
        for number, step in enumerate(steps, 1):
            started = time.monotonic()
            try:
                done = self.perform(step)
            except (OneError, OSError) as exc:
                raise TransferError(f"{step} failed (step {number} of {len(steps)} for VM "
                                    f"{vm.id}): {exc}") from exc
            self.log.info("%s: %s in %.1f s", step, done, time.monotonic() - started)

    def perform(self, step: TransferStep) -> str:
        """Carry out one step; returns what was done, for the VM's log."""
        if step.op not in OPS:
            raise TransferError(f"unknown operation {step.op!r} (known: {', '.join(OPS)})")
        done: str = getattr(self, step.op.lower())(step)
        return done

    def clone(self, step: TransferStep) -> str:
        """The image, copied whole to the host (a URL is downloaded by the front-end)."""
        src = source_of(step)
        if is_url(src.path):
            return streamed(self._download(src.path, step.dst))
        return streamed(self.remote.copy(src, step.dst))

    def ln(self, step: TransferStep) -> str:
        """A link on a host that does not see the datastore would point nowhere: a copy."""
        return self.clone(step)

    def mkswap(self, step: TransferStep) -> str:
        path = step.dst.path
        self.remote.run(step.dst.host,
                        f"{empty_disk(path, step.size_mb, 'raw')} && mkswap {quote(path)}")
        return f"swap space of {step.size_mb} MiB"

    def mkimage(self, step: TransferStep) -> str:
        fstype = step.fstype.lower() or "raw"
        self.remote.run(step.dst.host, empty_disk(step.dst.path, step.size_mb, fstype))
        return f"{fstype} disk of {step.size_mb} MiB"

    def context(self, step: TransferStep) -> str:
        """The context ISO the core built on the front-end, into the VM's directory."""
        return streamed(self.remote.copy(source_of(step), step.dst))

    def mv(self, step: TransferStep) -> str:
        """A disk or a VM directory between front-end and host, or between hosts.

        Run again after it finished (the source gone, the target there), it
        succeeds without touching the target: moving nothing over it would lose it.
        """
        src = source_of(step)
        if not self.exists(src) and self.exists(step.dst):
            return f"already moved: {src} is gone and {step.dst} is there"
        return streamed(self.remote.move(src, step.dst))

    def cpds(self, step: TransferStep) -> str:
        """A disk snapshot copied out into a new image (oned's CPDS), the disk left as it is.

        The snapshot is the internal qcow2 one the KVM driver names `snap-<id>`:
        qemu-img flattens it to a raw file beside the disk on its host, which then
        moves to the image's place (run again, it is made anew).
        """
        src = source_of(step)
        if step.snapshot < 0:
            return streamed(self.remote.copy(src, step.dst))
        flat = Location(f"{src.path}.snap-{step.snapshot}.raw", src.host)
        self.remote.run(src.host, f"{fresh(flat.path)} && qemu-img convert -U -O raw "
                                  f"-l snapshot.name=snap-{step.snapshot} "
                                  f"{quote(src.path)} {quote(flat.path)}")
        return f"snapshot {step.snapshot}: " + streamed(self.remote.move(flat, step.dst))

    def resize(self, step: TransferStep) -> str:
        """A disk grown to `size_mb` (the core only grows them; run again, nothing changes)."""
        self.remote.run(step.dst.host, f"qemu-img resize -q {quote(step.dst.path)} "
                                       f"{step.size_mb}M")
        return f"grown to {step.size_mb} MiB"

    def exists(self, where: Location) -> bool:
        """A file, directory or link (even dangling) at that path."""
        path = quote(where.path)
        said = self.remote.run(where.host, f"if [ -e {path} ] || [ -L {path} ]; then echo yes; fi")
        return said.strip() == "yes"

    def delete(self, step: TransferStep) -> str:
        self.remote.delete(step.dst)
        return "deleted"

    def _download(self, url: str, dst: Location) -> int:
        """Fetched by the front-end and streamed on: hosts need not reach the URL."""
        try:
            with urllib.request.urlopen(url, timeout=URL_TIMEOUT) as response:
                return self.remote.upload(response.read, dst)
        except (OSError, http.client.HTTPException) as exc:
            raise TransferError(f"download of {url}: {exc}") from exc
