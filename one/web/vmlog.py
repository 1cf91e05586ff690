"""A VM's log, read from the front-end's disk, as Sunstone does.

oned has no XML-RPC method for it: a console on the front-end reads the file oned
writes (`<var>/vms/<id>/vm.log`; an OpenNebula system install writes
`/var/log/one/<id>.log`). A console on another machine has no such file and says so.
The caller must have read the VM through oned as the signed-in user first: the file
itself carries no permissions of OpenNebula's.
"""
from __future__ import annotations

from pathlib import Path

TAIL_BYTES = 32 * 1024   # the end of the log a VM page shows


def log_tail(root: Path, vid: int, limit: int = TAIL_BYTES) -> str | None:
    """The last `limit` bytes of VM `vid`'s log from whole lines, or None if there is no log."""
    for path in (root / str(vid) / "vm.log", root / f"{vid}.log"):
        try:
            with open(path, "rb") as log:
                size = log.seek(0, 2)
                log.seek(max(0, size - limit))
                data = log.read(limit)
        except OSError:
            continue
        if size > limit:  # the first line is cut: start at the next one
            data = data.partition(b"\n")[2]
        return data.decode("utf-8", "replace")
    return None
