"""DATASTORE_QUOTA, NETWORK_QUOTA, VM_QUOTA and IMAGE_QUOTA sections of the 7.4 API.

Quotas are data (`kind -> id -> {METRIC: limit, METRIC_USED: usage}`, the VM
kind under the id ""); these functions turn them into the sections users,
groups, their pools and the default quotas show, in the schemas' order.
"""
from __future__ import annotations

from typing import Mapping

QuotaData = Mapping[str, Mapping[str, Mapping[str, float]]]

# Kind -> (section, element, metrics in schema order); each metric is followed by METRIC_USED.
SECTIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("DATASTORE", "DATASTORE_QUOTA", "DATASTORE", ("IMAGES", "SIZE")),
    ("NETWORK", "NETWORK_QUOTA", "NETWORK", ("LEASES",)),
    ("VM", "VM_QUOTA", "VM", ("CPU", "MEMORY", "PCI_DEV", "PCI_NIC", "RUNNING_CPU",
                              "RUNNING_MEMORY", "RUNNING_PCI_DEV", "RUNNING_PCI_NIC",
                              "RUNNING_VMS", "SYSTEM_DISK_SIZE", "VMS")),
    ("IMAGE", "IMAGE_QUOTA", "IMAGE", ("RVMS",)),
)
METRICS = {kind: metrics for kind, _, _, metrics in SECTIONS}
EMPTY = "".join(f"<{section}/>" for _, section, _, _ in SECTIONS)


def number(value: float) -> str:
    """As oned prints quota numbers: integers bare, fractions (CPU) short."""
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _entry(element: str, oid: str, metrics: tuple[str, ...], values: Mapping[str, float],
           default_limit: float) -> str:
    head = f"<ID>{oid}</ID>" if oid else ""
    body = "".join(
        f"<{m}>{number(values.get(m, default_limit))}</{m}>"
        f"<{m}_USED>{number(values.get(m + '_USED', 0))}</{m}_USED>" for m in metrics)
    return f"<{element}>{head}{body}</{element}>"


def sections(data: QuotaData, default_limit: float = -1) -> str:
    """The four sections; an entry's missing limit shows `default_limit`."""
    out = []
    for kind, section, element, metrics in SECTIONS:
        entries = data.get(kind, {})
        inner = "".join(_entry(element, oid, metrics, entries[oid], default_limit)
                        for oid in sorted(entries, key=lambda k: (len(k), k)))
        out.append(f"<{section}>{inner}</{section}>" if inner else f"<{section}/>")
    return "".join(out)


def pool_entry(oid: int, body: str) -> str:
    """A QUOTAS element of USER_POOL / GROUP_POOL."""
    return f"<QUOTAS><ID>{oid}</ID>{body or EMPTY}</QUOTAS>"
