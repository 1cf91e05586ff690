"""peewee models: one table per pool, indexed columns plus the rendered XML.

As in OpenNebula, every object row carries its XML document (`body`, what
`*.info` returns) and its pool element (`pool_body`, what `*pool.info` lists),
so listings concatenate stored text instead of rebuilding thousands of trees.
Structured parts that are never queried (shares, address ranges, history) are
JSON text; templates are stored as OpenNebula template XML.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Iterator, cast

import peewee as pw

from one.pool.template import Template, parse_xml


def rows(query: pw.SelectBase) -> Iterator[tuple[Any, ...]]:
    """A query's rows as plain tuples (`query.tuples()`): peewee's stubs type
    that as still yielding model instances."""
    return iter(cast("Iterable[tuple[Any, ...]]", query.tuples()))


class JSONField(pw.TextField):
    """Small structured parts that are never queried by value."""

    def db_value(self, value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    def python_value(self, value: str | None) -> Any:
        return json.loads(value) if value else None


class TemplateField(pw.TextField):
    """An OpenNebula template, stored as its XML form."""

    def db_value(self, value: Template | None) -> str:
        return (value or Template()).to_xml()

    def python_value(self, value: str | None) -> Template:
        return parse_xml(value, stored=True) if value else Template()


class BaseModel(pw.Model):
    class Meta:
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = pw.IntegerField()


class PoolControl(BaseModel):
    """Last id handed out per pool: ids are never reused, as in OpenNebula."""

    pool = pw.CharField(primary_key=True)
    last_oid = pw.IntegerField()


class PoolObject(BaseModel):
    """Columns every pool shares."""

    oid = pw.IntegerField(primary_key=True)
    name = pw.CharField(index=True)
    body = pw.TextField(default="")
    pool_body = pw.TextField(default="")


class Owned(PoolObject):
    """Objects with an owner, a group and OpenNebula's 9 permission bits."""

    uid = pw.IntegerField(index=True)
    gid = pw.IntegerField(index=True)
    uname = pw.CharField()
    gname = pw.CharField()
    perms = pw.IntegerField(default=0o600)  # octal like `chmod`: u=4 m=2 a=1 per digit


class Group(PoolObject):
    template = TemplateField(default=Template)


class User(PoolObject):
    gid = pw.IntegerField(index=True)
    gname = pw.CharField()
    groups = JSONField(default=list)      # JSON list of secondary + primary group ids
    auth_driver = pw.CharField(default="core")
    password = pw.CharField(default="")      # salted scrypt of the password's SHA1 (credentials.py)
    enabled = pw.BooleanField(default=True)
    tokens = JSONField(default=list)      # JSON list of login tokens (SHA256 digests, never plain)
    template = TemplateField(default=Template)

    class Meta:
        indexes = ((("name",), True),)


class Cluster(PoolObject):
    template = TemplateField(default=Template)


class Host(PoolObject):
    state = pw.IntegerField(index=True)
    prev_state = pw.IntegerField(default=0)
    im_mad = pw.CharField()
    vm_mad = pw.CharField()
    tm_mad = pw.CharField(default="")        # classic 2.2 hosts name a transfer driver
    cluster_id = pw.IntegerField(index=True, default=0)
    cluster = pw.CharField(default="default")
    last_mon_time = pw.IntegerField(default=0)
    share = JSONField(default=dict)       # JSON: HOST_SHARE counters
    vms = JSONField(default=list)         # JSON list of VM ids on the host
    template = TemplateField(default=Template)
    monitoring = JSONField(default=dict)  # JSON: last probe values

    class Meta:
        indexes = ((("name",), True),)


class Vnet(Owned):
    state = pw.IntegerField(default=1)
    prev_state = pw.IntegerField(default=0)
    classic_type = pw.IntegerField(default=-1)  # 0 RANGED, 1 FIXED for classic networks
    bridge = pw.CharField(default="")
    bridge_type = pw.CharField(default="linux")
    vn_mad = pw.CharField(default="")
    phydev = pw.CharField(default="")
    vlan_id = pw.CharField(default="")
    vlan_id_automatic = pw.CharField(default="0")
    parent_network_id = pw.CharField(default="")
    clusters = JSONField(default=lambda: [0])
    ars = JSONField(default=list)         # JSON list of address ranges
    template = TemplateField(default=Template)


class Lease(BaseModel):
    """A used (or held) address of a network; free addresses have no row."""

    vnet = pw.IntegerField()
    ar_id = pw.IntegerField()
    # offset in the address range; the column name shadows Model.index(), never called on Lease
    index = pw.IntegerField()  # type: ignore[assignment]
    vm = pw.IntegerField(default=-1)         # -1 when on hold or reserved
    reserved_by = pw.IntegerField(default=-1)  # reservation network holding it

    class Meta:
        primary_key = pw.CompositeKey("vnet", "ar_id", "index")
        indexes = ((("vm",), False),)


class Vm(Owned):
    state = pw.IntegerField(index=True)
    lcm_state = pw.IntegerField(default=0)
    prev_state = pw.IntegerField(default=0)
    prev_lcm_state = pw.IntegerField(default=0)
    resched = pw.IntegerField(default=0)
    stime = pw.IntegerField(default=0)
    etime = pw.IntegerField(default=0)
    last_poll = pw.IntegerField(default=0)
    deploy_id = pw.CharField(default="")
    template = TemplateField(default=Template)       # system TEMPLATE
    user_template = TemplateField(default=Template)  # USER_TEMPLATE
    monitoring = JSONField(default=dict)   # JSON
    history = JSONField(default=list)      # JSON list of history records
    lock = JSONField(default=dict)         # as VmTemplate.lock
    snapshots = JSONField(default=list)    # disk snapshot trees (VM/SNAPSHOTS), snapshot_books

    class Meta:
        # Listings read ids in order with the state filter (-1: all but DONE) from this
        # small index alone: a scan of the table reads every row, ~4 kB a VM.
        indexes = ((("oid", "state"), False),)


class Datastore(Owned):
    """System (0), images (1) and files (2), as OpenNebula 7 sets them up."""

    kind = pw.IntegerField(default=0)        # TYPE: 0 IMAGE, 1 SYSTEM, 2 FILE
    state = pw.IntegerField(default=0)       # STATE: 0 READY, 1 DISABLED (system datastores)
    ds_mad = pw.CharField(default="fs")
    tm_mad = pw.CharField(default="dummy")
    base_path = pw.CharField(default="")
    clusters = JSONField(default=lambda: [0])
    template = TemplateField(default=Template)


class Image(Owned):
    kind = pw.IntegerField(default=0)        # TYPE: 0 OS, 1 CDROM, 2 DATABLOCK, 3 KERNEL, ...
    persistent = pw.IntegerField(default=0)
    regtime = pw.IntegerField(default=0)
    modtime = pw.IntegerField(default=0)
    source = pw.CharField(default="")
    path = pw.CharField(default="")
    format = pw.CharField(default="raw")
    fs = pw.CharField(default="")
    size = pw.IntegerField(default=0)        # MB
    state = pw.IntegerField(default=0, index=True)
    prev_state = pw.IntegerField(default=0)
    running_vms = pw.IntegerField(default=0)
    datastore_id = pw.IntegerField(default=1)
    datastore = pw.CharField(default="default")
    vms = JSONField(default=list)
    clones = JSONField(default=list)
    template = TemplateField(default=Template)


class VmTemplate(Owned):
    """A VM template (one.template.*): a stored template users instantiate."""

    regtime = pw.IntegerField(default=0)
    lock = JSONField(default=dict)        # JSON: LOCKED (level), OWNER, TIME, REQ_ID; {} unlocked
    template = TemplateField(default=Template)


class Acl(BaseModel):
    """An ACL rule: OpenNebula's four 64-bit numbers (see one.core.acl_rules)."""

    oid = pw.IntegerField(primary_key=True)
    user = pw.BigIntegerField(index=True)
    resource = pw.BigIntegerField()
    rights = pw.BigIntegerField()
    zone = pw.BigIntegerField()


class GroupAdmin(BaseModel):
    """A user who administers a group (the group document's ADMINS)."""

    gid = pw.IntegerField()
    uid = pw.IntegerField()

    class Meta:
        primary_key = pw.CompositeKey("gid", "uid")


class HistoryRow(BaseModel):
    """One HISTORY record of a VM, as oned's history table keeps it: indexed times and
    owner, the `<HISTORY>` element (with the VM as it was) pre-rendered and escaped, and
    what showback meters (`usage`, JSON), so accounting concatenates stored text."""

    vid = pw.IntegerField()        # indexed first in the primary key (vid, seq)
    seq = pw.IntegerField()
    uid = pw.IntegerField(index=True)
    gid = pw.IntegerField(index=True)
    stime = pw.IntegerField(index=True)
    etime = pw.IntegerField(index=True)
    body = pw.BlobField()
    usage = JSONField(default=dict)

    class Meta:
        table_name = "history"
        primary_key = pw.CompositeKey("vid", "seq")


class ShowbackRow(BaseModel):
    """The cost of one VM in one month, as `one.vmpool.calculateshowback` left it."""

    vmid = pw.IntegerField()
    year = pw.IntegerField()
    month = pw.IntegerField()
    body = pw.BlobField()

    class Meta:
        table_name = "showback"
        primary_key = pw.CompositeKey("vmid", "year", "month")
        indexes = ((("year", "month"), False),)


class Quota(BaseModel):
    """Quotas of one user or group (OpenNebula's user_quotas and group_quotas tables),
    or the default quotas (oid -1): kept apart from the user and group rows, so
    charging a VM rewrites this small row, never the owner's document."""

    owner = pw.CharField()                # "user" or "group"
    oid = pw.IntegerField()
    data = JSONField(default=dict)        # JSON: kind -> id -> {METRIC: limit, METRIC_USED: usage}
    body = pw.TextField(default="")       # DATASTORE_QUOTA..IMAGE_QUOTA as rendered from data

    class Meta:
        primary_key = pw.CompositeKey("owner", "oid")


class Ec2Key(BaseModel):
    """A user's EC2 access key; the secret is encrypted with the front-end key (one.core.ec2keys)."""

    access_key = pw.CharField(primary_key=True)
    uid = pw.IntegerField(index=True)
    secret = pw.TextField()                  # Fernet token of the secret access key
    created = pw.IntegerField(default=0)


class Document(Owned):
    """A generic document (one.document.*): OneFlow keeps its service templates (TYPE 101)
    and services (TYPE 100) in them, their JSON in the template's BODY."""

    kind = pw.IntegerField(index=True)    # TYPE, chosen by the client
    lock = JSONField(default=dict)        # as VmTemplate.lock
    template = TemplateField(default=Template)


class MonitoringRow(BaseModel):
    """One monitoring sample of a VM (kind 0) or a host (kind 1), as oned's vm_monitoring
    and host_monitoring tables keep them: its `<MONITORING>` element pre-rendered, so
    the monitoring methods concatenate stored text. Pruned past the configured window."""

    id = pw.AutoField()            # insertion order, for samples of the same second
    kind = pw.SmallIntegerField()
    oid = pw.IntegerField()
    timestamp = pw.IntegerField()
    body = pw.TextField()

    class Meta:
        table_name = "monitoring"
        indexes = ((("kind", "oid", "timestamp"), False), (("kind", "timestamp"), False))


ALL_MODELS = [SchemaVersion, PoolControl, Group, User, Cluster, Host, Vnet, Lease, Vm, Datastore, Image,
              VmTemplate, Acl, GroupAdmin, HistoryRow, ShowbackRow, Quota, Ec2Key, Document,
              MonitoringRow]
