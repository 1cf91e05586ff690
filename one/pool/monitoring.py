"""Monitoring history: the samples of VMs and hosts, kept for a window and pruned.

The monitor adds a sample per host and per reported VM in its cycle's write,
each with its `<MONITORING>` element already rendered (monitoring_data.xsd for
VMs, host.xsd's MONITORING for hosts), and drops the samples older than the
window there too. The monitoring methods then concatenate stored text, in
time order, into `<MONITORING_DATA>`.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import peewee as pw

from one.pool.models import Host, MonitoringRow, rows
from one.pool.render.common import fields
from one.pool.render.host import monitoring_xml

VM, HOST = 0, 1
# monitoring_data.xsd's order (DISK_SIZE elements are not kept).
VM_ORDER = ("CPU", "DISKRDBYTES", "DISKRDIOPS", "DISKWRBYTES", "DISKWRIOPS", "ID", "MEMORY",
            "NETRX", "NETTX", "TIMESTAMP")


def vm_sample(vid: int, values: Mapping[str, Any], timestamp: int) -> dict[str, Any]:
    """A VM's sample row from its poll values (CPU, MEMORY, NETRX, NETTX...)."""
    data = {**values, "ID": vid, "TIMESTAMP": timestamp}
    return {"kind": VM, "oid": vid, "timestamp": timestamp,
            "body": f"<MONITORING>{fields(VM_ORDER, data, optional=True)}</MONITORING>"}


def host_sample(host: Host) -> dict[str, Any]:
    """A host's sample row: its MONITORING as just written by the monitor."""
    return {"kind": HOST, "oid": host.oid, "timestamp": int(host.monitoring.get("TIMESTAMP", 0)),
            "body": monitoring_xml(host)}


_COLUMNS = ("kind", "oid", "timestamp", "body")


def add(samples: list[dict[str, Any]]) -> None:
    """Insert sample rows (inside the monitor's write) by one prepared statement: a
    cycle's thousand samples cost less than building a query for them would."""
    if not samples:
        return
    db = MonitoringRow._meta.database
    quote = lambda name: f"{db.quote[0]}{name}{db.quote[1]}"  # noqa: E731
    sql = (f"INSERT INTO {quote(MonitoringRow._meta.table_name)} "
           f"({', '.join(map(quote, _COLUMNS))}) VALUES ({', '.join([db.param] * len(_COLUMNS))})")
    db.cursor().executemany(sql, [tuple(sample[c] for c in _COLUMNS) for sample in samples])


def prune(kind: int, before: int) -> int:
    """Drop the samples of `kind` older than `before`; returns how many."""
    return int(MonitoringRow.delete().where((MonitoringRow.kind == kind)
                                            & (MonitoringRow.timestamp < before)).execute())


def document(kind: int, oids: pw.SelectQuery | Iterable[int] | None, since: int | None) -> str:
    """`<MONITORING_DATA>` of the objects `oids` (None: all): samples from `since` on, or
    with `since` None only each object's last one; by object, then time."""
    m = MonitoringRow
    query = m.select(m.body).where(m.kind == kind)
    if oids is not None:
        query = query.where(m.oid.in_(oids))
    if since is None:
        last = (m.select(m.oid, pw.fn.MAX(m.timestamp).alias("last")).where(m.kind == kind)
                .group_by(m.oid).alias("last"))
        query = query.join(last, on=((m.oid == last.c.oid) & (m.timestamp == last.c.last)))
    else:
        query = query.where(m.timestamp >= since)
    bodies = (body for (body,) in rows(query.order_by(m.oid, m.timestamp, m.id)))
    return f"<MONITORING_DATA>{''.join(bodies)}</MONITORING_DATA>"
