"""What `xl` prints, read: `xl info`, the `xl list` table and `xl list -l` JSON.

Pure functions over text, proven on outputs kept in tests/xen/data (their
README says where each comes from). `xl list -l` prints each domain's
configuration (libxl_domain_config as JSON) but not its run state, which only
the table's State column has; the probe reads both.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from one.plugins import PollState

# xl's State column, r b p s c d, read as OpenNebula's Xen poll does: a guest shut
# down or dying is gone (xl removes it next), a crashed one is in error.
_LETTERS = (("c", PollState.ERROR), ("p", PollState.PAUSED), ("s", PollState.GONE),
            ("d", PollState.GONE), ("r", PollState.RUNNING), ("b", PollState.RUNNING))
_ROW = re.compile(r"^(?P<name>\S.*?)\s+(?P<id>\d+)\s+(?P<mem>\d+)\s+(?P<vcpus>\d+)\s+"
                  r"(?P<state>[-rbpscd]{6})\s+(?P<time>[\d.]+)\s*$")


@dataclass(frozen=True)
class Domain:
    """One row of `xl list`."""

    name: str
    domid: int
    memory_mb: int
    vcpus: int
    state: PollState
    cpu_seconds: float


def state_of(letters: str) -> PollState:
    for letter, state in _LETTERS:
        if letter in letters:
            return state
    return PollState.RUNNING if letters.strip("-") == "" else PollState.UNKNOWN


def domains(table: str) -> dict[str, Domain]:
    """The rows of `xl list` by name (the header and anything unlike a row skipped)."""
    rows = {}
    for line in table.splitlines():
        match = _ROW.match(line)
        if match:
            rows[match["name"]] = Domain(match["name"], int(match["id"]), int(match["mem"]),
                                         int(match["vcpus"]), state_of(match["state"]),
                                         float(match["time"]))
    return rows


def info(text: str) -> dict[str, str]:
    """`xl info`: `name : value` lines."""
    pairs = (line.partition(":") for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, _, value in pairs if key.strip()}


def capacity(facts: dict[str, str]) -> dict[str, str]:
    """Host facts for the core from `xl info`: CPUs x 100, memory in KiB, versions."""
    try:
        cpus, total, free = int(facts["nr_cpus"]), int(facts["total_memory"]), \
            int(facts["free_memory"])
    except (KeyError, ValueError) as exc:
        raise ValueError(f"xl info lacks a number the probe needs: {exc}") from None
    version = facts.get("xen_version") or (
        f"{facts.get('xen_major', '?')}.{facts.get('xen_minor', '?')}{facts.get('xen_extra', '')}")
    return {"HYPERVISOR": "xen", "HOSTNAME": facts.get("host", ""),
            "ARCH": facts.get("machine", ""), "XEN_CAPS": facts.get("xen_caps", ""),
            "CPUSPEED": str(int(float(facts.get("cpu_mhz", 0)))),
            "TOTALCPU": str(cpus * 100), "TOTALMEMORY": str(total * 1024),
            "FREEMEMORY": str(free * 1024), "USEDMEMORY": str((total - free) * 1024),
            "HV_VERSION": version, "XEN_SCHEDULER": facts.get("xen_scheduler", "")}


def configs(text: str) -> dict[str, dict[str, Any]]:
    """`xl list -l`: each domain's configuration by name (Domain-0's has none)."""
    try:
        entries = json.loads(text) if text.strip() else []
    except json.JSONDecodeError as exc:
        raise ValueError(f"xl list -l printed no JSON: {exc}") from None
    found = {}
    for entry in entries:
        config = entry.get("config", {})
        name = config.get("c_info", {}).get("name")
        if name:
            found[name] = {"domid": entry.get("domid"), **config}
    return found
