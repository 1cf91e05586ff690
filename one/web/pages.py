"""The dashboard, the other pools' lists and pages, hosts' and leases' actions.

Each pool is declared once (its oned methods, its element and its columns);
the list and the detail page are the same two templates for all of them, and
the list searches, sorts and pages with the VM list's mechanism (one.web.listing).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from lxml import etree
from markupsafe import Markup

from one.states import HostState, ImageState, ImageType
from one.web import charts
from one.web.app import Page, Refused, Route
from one.web.http import Response, redirect
from one.web.listing import Source, list_page, read_query
from one.web.oned import Capacity, dashboard, host_capacity, usage


@dataclass(frozen=True)
class Column:
    name: str                              # in the URL: ?sort=<name>
    title: str
    path: str                              # in the object's document
    numeric: bool = False                  # sorts as a number, not searched as text
    labels: type[IntEnum] | None = None    # names of its numbers (STATE, TYPE)

    def cell(self, item: etree._Element) -> str:
        text = item.findtext(self.path, "")
        if self.labels is not None and text.isdigit():
            try:
                return self.labels(int(text)).name
            except ValueError:
                return text
        return text


@dataclass(frozen=True)
class Pool:
    title: str
    listing: str                  # the pool's info method
    ranged: bool                  # it takes (filter, start, -size): oned pages it
    element: str
    info: str                     # the object's info method
    columns: tuple[Column, ...]

    @property
    def sorts(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def hint(self) -> str:
        """What its search looks in, for the search box."""
        return ", ".join(column.title.lower() for column in self.columns if not column.numeric)

    def row(self, item: etree._Element) -> PoolRow:
        return PoolRow(int(item.findtext("ID") or 0),
                       tuple(column.cell(item) for column in self.columns), self)

    def source(self) -> Source[PoolRow]:
        return Source(self.listing, self.element, self.ranged, self.row)


@dataclass(frozen=True)
class PoolRow:
    id: int
    cells: tuple[str, ...]        # one per column of the pool
    pool: Pool

    def words(self) -> tuple[str, ...]:
        texts = (cell for column, cell in zip(self.pool.columns, self.cells) if not column.numeric)
        return (str(self.id), *texts)

    def key(self, sort: str) -> tuple[object, int]:
        index = self.pool.sorts.index(sort)
        text = self.cells[index]
        if not self.pool.columns[index].numeric:
            return text.lower(), self.id
        try:
            return float(text or 0), self.id
        except ValueError:
            return 0.0, self.id


ID = Column("id", "ID", "ID", numeric=True)
NAME = Column("name", "Name", "NAME")
OWNER = Column("owner", "Owner", "UNAME")
POOLS = {
    "hosts": Pool("Hosts", "one.hostpool.info", False, "HOST", "one.host.info", (
        ID, NAME, Column("state", "State", "STATE", labels=HostState),
        Column("cluster", "Cluster", "CLUSTER"),
        Column("vms", "VMs", "HOST_SHARE/RUNNING_VMS", True),
        Column("cpu", "CPU used", "HOST_SHARE/CPU_USAGE", True),
        Column("maxcpu", "CPU max", "HOST_SHARE/MAX_CPU", True),
        Column("memory", "Memory used (KB)", "HOST_SHARE/MEM_USAGE", True),
        Column("maxmemory", "Memory max (KB)", "HOST_SHARE/MAX_MEM", True))),
    "networks": Pool("Networks", "one.vnpool.info", True, "VNET", "one.vn.info", (
        ID, NAME, OWNER, Column("bridge", "Bridge", "BRIDGE"),
        Column("leases", "Leases", "USED_LEASES", True))),
    "images": Pool("Images", "one.imagepool.info", True, "IMAGE", "one.image.info", (
        ID, NAME, OWNER, Column("datastore", "Datastore", "DATASTORE"),
        Column("type", "Type", "TYPE", labels=ImageType), Column("size", "Size (MB)", "SIZE", True),
        Column("state", "State", "STATE", labels=ImageState),
        Column("vms", "VMs", "RUNNING_VMS", True))),
    "templates": Pool("Templates", "one.templatepool.info", True, "VMTEMPLATE",
                      "one.template.info", (
                          ID, NAME, OWNER, Column("cpu", "CPU", "TEMPLATE/CPU", True),
                          Column("memory", "Memory (MB)", "TEMPLATE/MEMORY", True))),
    "users": Pool("Users", "one.userpool.info", False, "USER", "one.user.info", (
        ID, NAME, Column("group", "Group", "GNAME"), Column("enabled", "Enabled", "ENABLED"))),
    "groups": Pool("Groups", "one.grouppool.info", False, "GROUP", "one.group.info", (ID, NAME)),
}


def home(page: Page) -> Response:
    board = dashboard(page.client, page.client.document("one.hostpool.info"))
    return page.render("dashboard.html", board=board, capacity=_bars(board.cpu, board.memory),
                       charts={"hosts": charts.state_bars(board.hosts, "Hosts by state"),
                               "vms": charts.state_bars(board.vms, "VMs by state")})


def pool_list(page: Page, kind: str) -> Response:
    pool = POOLS[kind]
    query = read_query(page.request.query, pool.sorts, page.app.config.page_size)
    return page.render("pool.html", kind=kind, pool=pool, query=query,
                       result=list_page(page.client, pool.source(), query))


def pool_item(page: Page, kind: str, oid: str) -> Response:
    pool = POOLS[kind]
    item = page.client.document(pool.info, int(oid), False)
    ids = ",".join(item.xpath("VMS/ID/text()")) if kind == "hosts" else ""
    vms = page.client.document("one.vmpool.infoset", ids, False).findall("VM") if ids else []
    body = item.find("TEMPLATE")
    text = "" if body is None else etree.tostring(body, pretty_print=True, encoding="unicode")
    return page.render("item.html", kind=kind, pool=pool, item=item, vms=vms, source=text,
                       capacity=_bars(*host_capacity(item)) if kind == "hosts" else [],
                       usage=charts.usage(*usage(page.client, "host", int(oid)))
                       if kind == "hosts" else [])


def _bars(cpu: Capacity, memory: Capacity) -> list[Markup]:
    """Allocated vs total CPU and memory: the cloud's on the dashboard, a host's on its page."""
    return [charts.capacity_bar("CPU allocated", cpu.used, cpu.total, "CPUs"),
            charts.capacity_bar("Memory allocated", memory.used, memory.total, "MB")]


def host_create(page: Page) -> Response:
    form = page.request.form
    name = form.get("name", "").strip()
    if not name:
        raise Refused("A host needs a name.")
    hid = page.client.call("one.host.allocate", name, form.get("im_mad", "dummy").strip(),
                           form.get("vmm_mad", "dummy").strip(), -1)
    return redirect(f"/hosts/{hid}")


def host_status(page: Page, hid: str) -> Response:
    """enable (0) or disable (1), as `onehost enable|disable`."""
    status = {"enable": 0, "disable": 1}.get(page.request.form.get("status", ""))
    if status is None:
        raise Refused("A host is enabled or disabled.")
    page.client.call("one.host.status", int(hid), status)
    return redirect(f"/hosts/{int(hid)}")


def lease(page: Page, nid: str) -> Response:
    """Puts an address on hold or releases it (`onevnet hold|release`)."""
    verb = page.request.form.get("verb", "")
    address = page.request.form.get("ip", "").strip()
    if verb not in ("hold", "release") or not address or '"' in address:
        raise Refused("Hold or release an IP address.")
    page.client.call(f"one.vn.{verb}", int(nid), f'LEASES = [ IP = "{address}" ]')
    return redirect(f"/networks/{int(nid)}")


KINDS = "|".join(POOLS)
ROUTES = [
    Route("GET", "/", home),
    Route("GET", f"/({KINDS})", pool_list),
    Route("GET", rf"/({KINDS})/(\d+)", pool_item),
    Route("POST", "/hosts", host_create),
    Route("POST", r"/hosts/(\d+)/status", host_status),
    Route("POST", r"/networks/(\d+)/lease", lease),
]
