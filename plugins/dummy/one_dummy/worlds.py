"""Which datacenter a dummy driver acts on: in memory, or kept in a STATE_DIR.

The machines outside oned, one set per process like real ones. Drivers built
with a STATE_DIR (their own setting, else `<VAR_LOCATION>/dummy` from the
settings oned hands every driver) share the datacenter of that directory,
loaded from it the first time: so the VMM and IM see the same guests, and an
oned started again, even after SIGKILL, finds the guests it left. Drivers
built with neither share `DATACENTER`, in memory.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from one_dummy.hypervisor import Datacenter
from one_dummy.state import StateDir

DATACENTER = Datacenter()
_stored: dict[Path, Datacenter] = {}
_latest: list[Datacenter] = []      # the datacenter the last driver built acts on
_lock = threading.Lock()            # the VMM and IM may be built at once


def state_dir(config: Mapping[str, str]) -> Path | None:
    """STATE_DIR, else <VAR_LOCATION>/dummy, else None (in memory); PERSIST = "no"
    keeps the guests in memory too, for benchmarks that measure oned, not file writes."""
    if config.get("PERSIST", "yes").strip().lower() == "no":
        return None
    if config.get("STATE_DIR"):
        return Path(os.path.expanduser(config["STATE_DIR"])).resolve()
    if config.get("VAR_LOCATION"):
        return Path(config["VAR_LOCATION"], "dummy").resolve()
    return None


def datacenter_for(config: Mapping[str, str]) -> Datacenter:
    """The datacenter a driver with these settings acts on (see the module doc)."""
    path = state_dir(config)
    with _lock:
        if path is not None and path not in _stored:
            _stored[path] = Datacenter(StateDir(path))
        found = DATACENTER if path is None else _stored[path]
        _latest[:] = [found]
        return found


def current() -> Datacenter:
    """The datacenter of the drivers built last (oned's, in a test), else `DATACENTER`."""
    return _latest[0] if _latest else DATACENTER


def forget() -> None:
    """Empty `DATACENTER` and drop stored datacenters from memory, as a new process would.

    Their files stay: drivers built afterwards load the guests from them again.
    """
    with _lock:
        DATACENTER.reset()
        _stored.clear()
        _latest.clear()
