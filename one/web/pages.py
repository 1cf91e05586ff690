"""The dashboard, the other pools' lists and pages, hosts' and leases' actions.

Each pool is declared once (its oned methods, its element and its columns);
the list and the detail page are the same two templates for all of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from itertools import islice

from lxml import etree
from markupsafe import Markup

from one.cli.client import Client
from one.states import HostState, ImageState
from one.web import charts
from one.web.app import Page, Refused, Route
from one.web.http import Response, redirect
from one.web.oned import ALL, Capacity, dashboard, host_capacity, usage

@dataclass(frozen=True)
class Pool:
    title: str
    listing: str                  # the pool's info method
    ranged: bool                  # it takes (filter, start, -size): oned pages it
    element: str
    info: str                     # the object's info method
    columns: tuple[tuple[str, str], ...]
    states: type[IntEnum] | None = None   # names for the STATE column

    def cell(self, item: etree._Element, path: str) -> str:
        text = item.findtext(path, "")
        if path == "STATE" and self.states is not None and text.isdigit():
            try:
                return self.states(int(text)).name
            except ValueError:
                return text
        return text


POOLS = {
    "hosts": Pool("Hosts", "one.hostpool.info", False, "HOST", "one.host.info",
                  (("ID", "ID"), ("Name", "NAME"), ("State", "STATE"), ("VMs", "HOST_SHARE/RUNNING_VMS"),
                   ("CPU used", "HOST_SHARE/CPU_USAGE"), ("CPU max", "HOST_SHARE/MAX_CPU"),
                   ("Memory used (KB)", "HOST_SHARE/MEM_USAGE"), ("Memory max (KB)", "HOST_SHARE/MAX_MEM")),
                  HostState),
    "networks": Pool("Networks", "one.vnpool.info", True, "VNET", "one.vn.info",
                     (("ID", "ID"), ("Name", "NAME"), ("Owner", "UNAME"), ("Bridge", "BRIDGE"),
                      ("Leases", "USED_LEASES"))),
    "images": Pool("Images", "one.imagepool.info", True, "IMAGE", "one.image.info",
                   (("ID", "ID"), ("Name", "NAME"), ("Owner", "UNAME"), ("Datastore", "DATASTORE"),
                    ("Size (MB)", "SIZE"), ("State", "STATE"), ("VMs", "RUNNING_VMS")), ImageState),
    "templates": Pool("Templates", "one.templatepool.info", True, "VMTEMPLATE",
                      "one.template.info",
                      (("ID", "ID"), ("Name", "NAME"), ("Owner", "UNAME"), ("CPU", "TEMPLATE/CPU"),
                       ("Memory (MB)", "TEMPLATE/MEMORY"))),
    "users": Pool("Users", "one.userpool.info", False, "USER", "one.user.info",
                  (("ID", "ID"), ("Name", "NAME"), ("Group", "GNAME"), ("Enabled", "ENABLED"))),
    "groups": Pool("Groups", "one.grouppool.info", False, "GROUP", "one.group.info",
                   (("ID", "ID"), ("Name", "NAME"),)),
}


def home(page: Page) -> Response:
    board = dashboard(page.client, page.client.document("one.hostpool.info"))
    return page.render("dashboard.html", board=board, capacity=_bars(board.cpu, board.memory),
                       charts={"hosts": charts.state_bars(board.hosts, "Hosts by state"),
                               "vms": charts.state_bars(board.vms, "VMs by state")})


def pool_list(page: Page, kind: str) -> Response:
    text = page.request.query.get("page", "")
    number = int(text) if text.isdigit() else 0
    items, more = pool_page(page.client, POOLS[kind], number, page.app.config.page_size)
    return page.render("pool.html", kind=kind, pool=POOLS[kind], items=items, number=number,
                       more=more)


def pool_page(client: Client, pool: Pool, number: int,
              size: int) -> tuple[list[etree._Element], bool]:
    """Page `number` of the pool and whether another follows. oned pages the pools whose
    listing takes a range (one row more tells if there is a next page); hosts, users
    and groups come whole from oned (OpenNebula's methods take no range), so the
    console cuts the page out of the listing."""
    if pool.ranged:
        items = client.document(pool.listing, ALL, number * size, -(size + 1)).findall(
            pool.element)
    else:
        everything = client.document(pool.listing).iterfind(pool.element)
        items = list(islice(everything, number * size, (number + 1) * size + 1))
    return items[:size], len(items) > size


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
