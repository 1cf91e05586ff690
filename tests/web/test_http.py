"""What a browser would not show: forged posts, paging over oned's ranges, bad input,
oned's refusals, hosts and leases; through a plain HTTP client against the real servers."""
from __future__ import annotations

import re

from lxml import etree

from web.conftest import Console, Http

VM = "CPU = 0.1 MEMORY = 32"


def vm_state(console: Console, vid: int) -> str:
    return etree.fromstring(console.rpc.ok("one.vm.info", vid)).findtext("STATE")


def ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-vm="(\d+)"', page)]


def test_a_post_without_the_csrf_token_is_refused(console: Console, http: Http) -> None:
    vid = console.rpc.ok("one.vm.allocate", VM, True)
    assert http.sign_in()[0] == 200
    for form in ({"action": "release"}, {"action": "release", "csrf": "forged"}):
        status, page = http.request(f"/vms/{vid}/action", form)
        assert status == 403 and "CSRF token is missing or wrong" in page
    assert vm_state(console, vid) == "2"  # still HOLD
    assert http.post(f"/vms/{vid}/action", action="release")[0] == 200
    assert vm_state(console, vid) in ("1", "3")


def test_sign_in_needs_its_own_csrf_token(console: Console) -> None:
    status, page = Http(console.url).request("/login", {"username": "oneadmin",
                                                        "password": "secret"})
    assert status == 403 and "CSRF" in page


def test_sign_out_revokes_the_login(console: Console, http: Http) -> None:
    http.sign_in()
    assert len(etree.fromstring(console.rpc.ok("one.user.info", 0)).findall(
        "LOGIN_TOKEN")) == 1
    status, page = http.post("/logout")
    assert status == 200 and 'id="signin"' in page
    assert http.request("/vms")[1].count('id="signin"') == 1  # back to the sign-in form
    assert not etree.fromstring(console.rpc.ok("one.user.info", 0)).findall("LOGIN_TOKEN")


def test_the_vm_list_pages_searches_and_sorts(console: Console, http: Http) -> None:
    made = [console.rpc.ok("one.vm.allocate", f'NAME = "vm-{n:02}" {VM}', True)
            for n in range(12)]
    http.sign_in()
    first = http.request("/vms")[1]
    assert ids(first) == made[:5] and 'id="next"' in first and 'id="prev"' not in first
    last = http.request("/vms?page=2")[1]
    assert ids(last) == made[10:] and 'id="next"' not in last
    assert ids(http.request("/vms?sort=id&desc=1")[1]) == made[::-1][:5]
    found = http.request("/vms?q=vm-1")[1]
    assert ids(found) == made[10:] and ">2 matching<" in found
    assert ids(http.request("/vms?sort=name&desc=1&q=VM-0")[1]) == made[9:4:-1]
    console.rpc.ok("one.vm.action", "release", made[3])
    assert ids(http.request("/vms?state=2&page=2")[1]) == made[11:]  # HOLD, by oned's filter
    assert made[3] not in ids(http.request("/vms?state=2&sort=name")[1])
    assert len(ids(http.request("/vms?state=-7")[1])) == 5  # not a state: all


def test_instantiate_refuses_bad_choices(console: Console, http: Http) -> None:
    http.sign_in()
    path = f"/templates/{console.template}/instantiate"
    for form, message in (({"cpu": "-1", "memory": "64"}, "CPU must be a positive number"),
                          ({"cpu": "1", "memory": "lots"}, "memory must be a whole number"),
                          ({"cpu": "1", "memory": "64", "name": "<b>"}, "The name may hold"),
                          ({"cpu": "1", "memory": "64", "network": "x"}, "is not a network id")):
        status, page = http.post(path, name=form.pop("name", "ok"), **form)
        assert status == 400 and message in page, page
    status, page = http.post(path, name="big", cpu="1", memory="64", network="77")
    assert status == 400 and "oned:" in page  # no network 77: oned's refusal, shown
    assert not etree.fromstring(console.rpc.ok("one.vmpool.info", -2, -1, -1, -1)).findall("VM")


def test_oned_refusals_become_error_pages(console: Console, http: Http) -> None:
    vid = console.rpc.ok("one.vm.allocate", VM, True)
    http.sign_in()
    status, page = http.post(f"/vms/{vid}/action", action="resume")
    assert status == 400 and "oned:" in page and vm_state(console, vid) == "2"
    assert http.post(f"/vms/{vid}/action", action="format-disk")[0] == 400
    assert http.request(f"/vms/{vid}/confirm/format-disk")[0] == 404
    assert http.request("/vms/999")[0] == 404
    assert http.request("/nowhere")[0] == 404


def test_hosts_are_created_disabled_and_enabled(console: Console, http: Http) -> None:
    http.sign_in()
    status, page = http.post("/hosts", name="node1", im_mad="dummy", vmm_mad="dummy")
    assert status == 200 and "node1" in page
    hid = int(re.search(r'action="/hosts/(\d+)/status"', page).group(1))
    page = http.post(f"/hosts/{hid}/status", status="disable")[1]
    assert "<dd>DISABLED</dd>" in page and "CPU allocated: 0 / " in page
    assert etree.fromstring(console.rpc.ok("one.host.info", hid)).findtext("STATE") == "4"
    http.post(f"/hosts/{hid}/status", status="enable")
    assert etree.fromstring(console.rpc.ok("one.host.info", hid)).findtext("STATE") != "4"
    assert http.post(f"/hosts/{hid}/status", status="explode")[0] == 400
    assert http.post("/hosts", name="")[0] == 400
    assert http.post("/hosts", name="node1")[0] == 400  # oned: the name is taken


def test_leases_are_held_and_released(console: Console, http: Http) -> None:
    http.sign_in()
    status, page = http.post("/networks/0/lease", verb="hold", ip="10.0.0.20")
    assert status == 200 and "10.0.0.20" in page and "on hold" in page
    status, page = http.post("/networks/0/lease", verb="release", ip="10.0.0.20")
    assert status == 200 and "10.0.0.20" not in page
    assert http.post("/networks/0/lease", verb="hold", ip="192.168.9.9")[0] == 400
    assert http.post("/networks/0/lease", verb="steal", ip="10.0.0.20")[0] == 400


def test_every_list_and_page_renders(console: Console, http: Http) -> None:
    http.sign_in()
    for path in ("/", "/vms", "/templates", "/hosts", "/hosts/0", "/networks", "/networks/0",
                 "/images", "/users", "/users/0", "/groups", "/groups/0",
                 f"/templates/{console.template}", f"/templates/{console.template}/instantiate"):
        assert http.request(path)[0] == 200, path


def test_live_states_answer_json_for_a_signed_in_user_only(console: Console, http: Http) -> None:
    vid = console.rpc.ok("one.vm.allocate", VM, True)
    assert http.request(f"/api/vms/states?ids={vid}")[0] == 401
    http.sign_in()
    assert http.request(f"/api/vms/states?ids={vid},x,999")[1] == f'{{"{vid}": "HOLD"}}'


def test_a_user_creates_and_sees_their_own_vms_only(console: Console, http: Http) -> None:
    admins = console.rpc.ok("one.vm.allocate", VM, True)
    http.sign_in("alice", "alicepw")
    status, page = http.post(f"/templates/{console.template}/instantiate", name="mine",
                             cpu="0.1", memory="32", network="")
    assert status == 200 and "mine" in page
    listed = http.request("/vms")[1]
    mine = ids(listed)
    assert len(mine) == 1 and admins not in mine and ">alice<" in listed
    assert etree.fromstring(console.rpc.ok("one.vm.info", mine[0])).findtext("UNAME") == "alice"
    assert http.request(f"/api/vms/states?ids={admins}")[1] == "{}"
    assert http.request(f"/vms/{admins}/confirm/terminate")[0] == 403
