"""Every list searches, sorts and pages as the VM list does, its state in the URL:
hosts, networks, images, templates, users and groups, over HTTP against the real servers."""
from __future__ import annotations

import html
import re
from typing import Any

import pytest
from lxml import etree

from conftest import Caller
from web.conftest import Console, Http, sign_in, wait
from web.test_pool_paging import LISTING, MAKE, PAGE, rows

PREFIX = {"hosts": "host", "networks": "net", "images": "img", "templates": "tpl",
          "users": "user", "groups": "group"}
MADE = 12


def names(console: Console, kind: str) -> dict[int, str]:
    method, element = LISTING[kind]
    args = (-2, -1, -1) if kind in ("networks", "images", "templates") else ()
    doc = etree.fromstring(console.rpc.ok(method, *args))
    return {int(item.findtext("ID")): item.findtext("NAME") for item in doc.iterfind(element)}


def made(console: Console, kind: str) -> list[int]:
    return [MAKE[kind](console.rpc, n) for n in range(MADE)]  # type: ignore[misc]


def next_link(page: str) -> str:
    found = re.search(r'id="next" href="([^"]+)"', page)
    assert found, "no next page"
    return html.unescape(found.group(1))


@pytest.mark.parametrize("kind", list(MAKE))
def test_a_search_finds_the_matching_rows(console: Console, http: Http, kind: str) -> None:
    ids = made(console, kind)
    http.sign_in()
    page = http.request(f"/{kind}?q={PREFIX[kind].upper()}1")[1]  # case does not matter
    assert rows(kind, page) == [ids[1], ids[10], ids[11]] and ">3 matching<" in page
    assert f'value="{PREFIX[kind].upper()}1"' in page  # the search box keeps it
    assert rows(kind, http.request(f"/{kind}?q=nothing-is-called-this")[1]) == []


@pytest.mark.parametrize("kind", list(MAKE))
def test_sorting_by_a_header_orders_the_rows(console: Console, http: Http, kind: str) -> None:
    made(console, kind)
    every = names(console, kind)
    http.sign_in()
    first = http.request(f"/{kind}")[1]
    header = html.unescape(re.search(r'id="sort-name" href="([^"]+)"', first).group(1))
    assert header == "?sort=name"
    by_name = sorted(every, key=lambda oid: (every[oid].lower(), oid))
    assert rows(kind, http.request(f"/{kind}{header}")[1]) == by_name[:PAGE]
    again = http.request(f"/{kind}{header}")[1]  # the header of the sort: the other way
    reverse = html.unescape(re.search(r'id="sort-name" href="([^"]+)"', again).group(1))
    assert reverse == "?sort=name&desc=1"
    assert rows(kind, http.request(f"/{kind}{reverse}")[1]) == by_name[::-1][:PAGE]
    assert rows(kind, http.request(f"/{kind}?sort=id&desc=1")[1]) == sorted(every)[::-1][:PAGE]


@pytest.mark.parametrize("kind", list(MAKE))
def test_paging_keeps_the_search_and_the_sort(console: Console, http: Http, kind: str) -> None:
    made(console, kind)
    method, element = LISTING[kind]
    args = (-2, -1, -1) if kind in ("networks", "images", "templates") else ()
    every = {int(item.findtext("ID")): (item.findtext("NAME"), item.findtext("GNAME") or "")
             for item in etree.fromstring(console.rpc.ok(method, *args)).iterfind(element)}
    needle = PREFIX[kind]  # in the names made, and in the group "users" of every user
    wanted = sorted((oid for oid, (name, group) in every.items()
                     if needle in name or needle in group),
                    key=lambda oid: (every[oid][0], oid), reverse=True)
    assert len(wanted) > 2 * PAGE
    http.sign_in()
    page = http.request(f"/{kind}?q={needle}&sort=name&desc=1")[1]
    seen = rows(kind, page)
    while 'id="next"' in page and len(seen) <= len(wanted):
        path = next_link(page)
        assert f"q={needle}" in path and "sort=name" in path and "desc=1" in path
        page = http.request(f"/{kind}{path}")[1]
        seen += rows(kind, page)
    assert seen == wanted


@pytest.mark.parametrize("kind", [*MAKE, "vms"])
def test_bad_query_parameters_are_refused_or_clamped(console: Console, http: Http,
                                                     kind: str) -> None:
    http.sign_in()
    status, page = http.request(f"/{kind}?sort=password")
    assert status == 400 and "Unknown sort column &#39;password&#39;: one of id, name" in page
    for huge in ("2147483647", "9" * 20, "9" * 5000):
        status, page = http.request(f"/{kind}?page={huge}")
        assert status == 400 and "is beyond the last possible page" in page
    for odd in ("page=-3", "page=x", "desc=maybe", "q=" + "a" * 5000, "sort="):
        status, page = http.request(f"/{kind}?{odd}")
        assert status == 200 and 'id="page-number">Page 1<' in page, odd
    status, page = http.request(f"/{kind}?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert status == 200 and "<script>alert" not in page and "&lt;script&gt;alert(1)" in page


def test_numbers_oned_cannot_take_are_refused_not_a_traceback(console: Console,
                                                              http: Http) -> None:
    http.sign_in()
    for path in ("/vms/2147483648", "/vms/" + "9" * 5000, "/hosts/" + "9" * 12,
                 "/vms/99999999999/confirm/terminate"):
        status, page = http.request(path)
        assert status == 404 and "No such object." in page
    assert http.request("/api/vms/states?ids=" + "9" * 5000)[1] == "{}"
    status, page = http.request("/vms?state=" + "9" * 5000)
    assert status == 200 and 'id="page-number">Page 1<' in page  # not a state: all


def test_names_are_escaped_in_lists_and_searches(console: Console, http: Http) -> None:
    tid = console.rpc.ok("one.template.allocate", 'NAME = "<b>t&amp</b>" CPU = 1 MEMORY = 8')
    http.sign_in()
    for path in ("/templates", "/templates?q=%3Cb%3E", "/templates?sort=name&desc=1"):
        page = http.request(path)[1]
        assert tid in rows("templates", page) and "<b>t&amp</b>" not in page
        assert "&lt;b&gt;t&amp;amp&lt;/b&gt;" in page


def test_columns_other_than_the_name_are_searched_and_sorted(console: Console,
                                                             http: Http) -> None:
    """A host's state, an image's type and size, a template's CPU."""
    hosts = made(console, "hosts")
    console.rpc.ok("one.host.status", hosts[4], 1)  # DISABLED
    images = [console.rpc.ok("one.image.allocate",
                             f'NAME = "disk{n}" TYPE = "DATABLOCK" SIZE = {size}', 1)
              for n, size in enumerate((30, 10, 20))]
    http.sign_in()
    assert rows("hosts", http.request("/hosts?q=disabled")[1]) == [hosts[4]]
    assert rows("hosts", http.request("/hosts?sort=state")[1])[0] == hosts[4]  # DISABLED
    assert rows("images", http.request("/images?q=datablock&sort=size")[1]) == [
        images[1], images[2], images[0]]  # as numbers
    assert rows("images", http.request("/images?q=os")[1]) == []
    big = console.rpc.ok("one.template.allocate", "NAME = big CPU = 16 MEMORY = 8")
    assert rows("templates", http.request("/templates?sort=cpu&desc=1")[1])[0] == big


@pytest.mark.parametrize("kind", ["templates", "images"])  # users create no networks
def test_a_search_shows_a_user_only_what_oned_shows_them(console: Console, http: Http,
                                                         kind: str) -> None:
    alice = Caller(console.oned.endpoint, "alice:alicepw")
    admins = made(console, kind)
    mine = [MAKE[kind](alice, 100 + n) for n in range(2)]  # type: ignore[misc]
    http.sign_in("alice", "alicepw")
    found = rows(kind, http.request(f"/{kind}?q={PREFIX[kind]}&sort=name&desc=1")[1])
    assert found == mine[::-1]
    assert not set(admins) & set(rows(kind, http.request(f"/{kind}?q={PREFIX[kind]}1")[1]))


def test_a_browser_searches_sorts_and_pages_the_hosts(console: Console, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    hosts = made(console, "hosts")
    sign_in(browser, console.url)
    browser.get(f"{console.url}/hosts")
    wait(lambda: browser.find_elements(By.ID, "search"))  # after sign-in's redirect settles
    browser.find_element(By.ID, "search").send_keys("host")
    browser.find_element(By.ID, "search-button").click()
    wait(lambda: browser.find_elements(By.ID, "matched"))
    assert browser.find_element(By.ID, "matched").text == f"{MADE} matching"
    browser.find_element(By.ID, "sort-name").click()
    browser.find_element(By.ID, "sort-name").click()  # again: descending
    wait(lambda: "desc=1" in browser.current_url)
    browser.find_element(By.ID, "next").click()
    wait(lambda: "page=1" in browser.current_url)
    shown = [int(link.get_attribute("href").rsplit("/", 1)[1]) for link in
             browser.find_elements(By.CSS_SELECTOR, "#hosts-table tbody a")]
    by_name = sorted(hosts, key=lambda oid: f"host{hosts.index(oid)}", reverse=True)
    assert shown == by_name[PAGE:2 * PAGE]
    assert browser.find_element(By.ID, "search").get_attribute("value") == "host"
