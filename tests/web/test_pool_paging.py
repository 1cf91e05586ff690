"""The lists of hosts, networks, images, templates, users and groups page like the VM list:
oned pages the listings that take a range, the console cuts the others."""
from __future__ import annotations

import re
from typing import Callable

import pytest
from lxml import etree

from conftest import Caller
from web.conftest import Console, Http

PAGE = 5  # the console fixture's page size
MAKE: dict[str, Callable[[Caller, int], object]] = {
    "hosts": lambda rpc, n: rpc.ok("one.host.allocate", f"host{n}", "dummy", "dummy", -1),
    "networks": lambda rpc, n: rpc.ok("one.vn.allocate", f"NAME = net{n} VN_MAD = dummy "
                                      f"BRIDGE = br{n}", -1),
    "images": lambda rpc, n: rpc.ok("one.image.allocate",
                                    f'NAME = "img{n}" TYPE = "DATABLOCK" SIZE = 1', 1),
    "templates": lambda rpc, n: rpc.ok("one.template.allocate", f"NAME = tpl{n} CPU = 1 MEMORY = 8"),
    "users": lambda rpc, n: rpc.ok("one.user.allocate", f"user{n}", "pw", "core", []),
    "groups": lambda rpc, n: rpc.ok("one.group.allocate", f"group{n}"),
}
LISTING = {"hosts": ("one.hostpool.info", "HOST"), "networks": ("one.vnpool.info", "VNET"),
           "images": ("one.imagepool.info", "IMAGE"),
           "templates": ("one.templatepool.info", "VMTEMPLATE"),
           "users": ("one.userpool.info", "USER"), "groups": ("one.grouppool.info", "GROUP")}


def rows(kind: str, page: str) -> list[int]:
    return [int(oid) for oid in re.findall(rf'<a href="/{kind}/(\d+)">', page)]


def all_ids(console: Console, kind: str) -> list[int]:
    method, element = LISTING[kind]
    args = (-2, -1, -1) if kind in ("networks", "images", "templates") else ()
    return [int(x) for x in etree.fromstring(console.rpc.ok(method, *args)).xpath(
        f"{element}/ID/text()")]


@pytest.mark.parametrize("kind", list(MAKE))
def test_a_list_longer_than_a_page_pages(console: Console, http: Http, kind: str) -> None:
    for n in range(PAGE + 2):
        MAKE[kind](console.rpc, n)
    everything = all_ids(console, kind)
    assert len(everything) > PAGE + 1
    http.sign_in()
    first = http.request(f"/{kind}")[1]
    assert rows(kind, first) == everything[:PAGE]
    assert 'id="next"' in first and 'id="prev"' not in first and "Page 1<" in first
    pages = [rows(kind, http.request(f"/{kind}?page={n}")[1])
             for n in range((len(everything) + PAGE - 1) // PAGE)]
    assert sum(pages, []) == everything
    last = http.request(f"/{kind}?page={len(pages) - 1}")[1]
    assert 'id="next"' not in last and 'id="prev"' in last
    assert rows(kind, http.request(f"/{kind}?page={len(pages)}")[1]) == []
    assert rows(kind, http.request(f"/{kind}?page=-1")[1]) == everything[:PAGE]  # not a page: 0


def test_a_user_pages_through_what_oned_shows_them(console: Console, http: Http) -> None:
    """alice's template list: only hers and the public one, paged by oned."""
    alice = Caller(console.oned.endpoint, "alice:alicepw")
    mine = [alice.ok("one.template.allocate", f"NAME = a{n} CPU = 1 MEMORY = 8")
            for n in range(PAGE)]
    console.rpc.ok("one.template.allocate", "NAME = admins CPU = 1 MEMORY = 8")
    http.sign_in("alice", "alicepw")
    assert rows("templates", http.request("/templates")[1]) == [console.template, *mine[:4]]
    assert rows("templates", http.request("/templates?page=1")[1]) == mine[4:]
