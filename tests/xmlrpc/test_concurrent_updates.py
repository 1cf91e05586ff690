"""No lost updates: concurrent read-modify-writes through a real threaded oned.

Each test fires a bounded burst of calls from many client threads at once
(THREADS threads, CALLS calls each) and then checks what the database kept:
every append, every change an administrator made, every VM able to terminate.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from lxml import etree

from conftest import Caller, start_oned
from one.daemon import Oned
from one.states import LcmState, VmState

THREADS, CALLS = 20, 10
ROUNDS = 10  # password/enable races: one administrator call among user updates, per round


def _together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in a client thread of its own, all started at the same moment."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(run, call) for call in calls]]


def _repeat(rpc: Caller, call: Callable[[Caller, int], Any]) -> Callable[[], Any]:
    """CALLS calls from one client thread, with a connection of its own."""
    def run() -> Any:
        own = rpc.as_user(rpc.session)
        return [call(own, c) for c in range(CALLS)]
    return run


def _appends(rpc: Caller, method: str, oid: int) -> list[Callable[[], Any]]:
    """THREADS callers, each appending CALLS attributes of its own."""
    def caller(t: int) -> Callable[[], Any]:
        return _repeat(rpc, lambda own, c: own.ok(method, oid, f'A_{t}_{c} = "{t}.{c}"', 1))
    return [caller(t) for t in range(THREADS)]


def _doc(rpc: Caller, method: str, oid: int) -> etree._Element:
    return etree.fromstring(rpc.ok(method, oid).encode())


def _missing(doc: etree._Element, template: str, threads: int = THREADS) -> list[str]:
    kept = {child.tag for child in doc.find(template)}
    return [f"A_{t}_{c}" for t in range(threads) for c in range(CALLS) if f"A_{t}_{c}" not in kept]


# kind -> (create it, returning its id; update method; info method; template element)
_UPDATABLE: dict[str, tuple[Callable[[Caller], int], str, str, str]] = {
    "vm": (lambda rpc: rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True),
           "one.vm.update", "one.vm.info", "USER_TEMPLATE"),
    "host": (lambda rpc: rpc.ok("one.host.allocate", "node0", "dummy", "dummy", -1),
             "one.host.update", "one.host.info", "TEMPLATE"),
    "image": (lambda rpc: rpc.ok("one.image.allocate", 'NAME = "i" TYPE = "DATABLOCK" SIZE = 1', 1),
              "one.image.update", "one.image.info", "TEMPLATE"),
    "vnet": (lambda rpc: rpc.ok("one.vn.allocate", 'NAME = "n" VN_MAD = "dummy"', -1),
             "one.vn.update", "one.vn.info", "TEMPLATE"),
    "group": (lambda rpc: rpc.ok("one.group.allocate", "g"), "one.group.update", "one.group.info",
              "TEMPLATE"),
    "cluster": (lambda rpc: rpc.ok("one.cluster.allocate", "c"), "one.cluster.update",
                "one.cluster.info", "TEMPLATE"),
    "datastore": (lambda rpc: 1, "one.datastore.update", "one.datastore.info", "TEMPLATE"),
}


@pytest.mark.parametrize("kind", sorted(_UPDATABLE))
def test_concurrent_update_appends_are_all_kept(rpc: Caller, kind: str) -> None:
    create, update, info, element = _UPDATABLE[kind]
    oid = create(rpc)
    _together(_appends(rpc, update, oid))
    assert _missing(_doc(rpc, info, oid), element) == []


def test_concurrent_user_update_appends_are_all_kept(rpc: Caller) -> None:
    uid = rpc.ok("one.user.allocate", "alice", "a", "core", [])
    user = rpc.as_user("alice:a")
    _together(_appends(user, "one.user.update", uid))
    assert _missing(_doc(rpc, "one.user.info", uid), "TEMPLATE") == []


def test_rename_and_chmod_racing_updates_lose_nothing(rpc: Caller) -> None:
    vid = rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
    chmod = _repeat(rpc, lambda own, c: own.ok("one.vm.chmod", vid, 1, 1, 0, 1, 0, 0, 0, 0, c % 2))
    rename = _repeat(rpc, lambda own, c: own.ok("one.vm.rename", vid, f"web{c}"))
    _together(_appends(rpc, "one.vm.update", vid)[:THREADS - 2] + [chmod, rename])
    doc = _doc(rpc, "one.vm.info", vid)
    assert _missing(doc, "USER_TEMPLATE", THREADS - 2) == []
    assert doc.findtext("NAME") == f"web{CALLS - 1}"
    assert doc.findtext("PERMISSIONS/OTHER_A") == str((CALLS - 1) % 2)


def _admin_among_user_updates(rpc: Caller, round_: int, admin: Callable[[Caller, int], Any]) -> int:
    """One administrator call racing THREADS - 1 threads of the user's own updates.

    The user signs in with a login token, which a new password leaves valid; a
    thread stops at its first refused call (the user was disabled)."""
    name = f"u{round_}"
    uid = rpc.ok("one.user.allocate", name, "old", "core", [])
    user = rpc.as_user(f"{name}:{rpc.ok('one.user.login', name, '', 3600, -1)}")

    def updates(t: int) -> Callable[[], Any]:
        def run() -> None:
            own = user.as_user(user.session)
            for c in range(CALLS):
                if not own("one.user.update", uid, f'T{t} = "{c}"', 1)[0]:
                    return
        return run

    _together([updates(t) for t in range(THREADS - 1)] + [lambda: admin(rpc.as_user(rpc.session), uid)])
    return uid


def test_admin_password_change_holds_against_the_users_own_updates(rpc: Caller) -> None:
    reverted = []
    for round_ in range(ROUNDS):
        _admin_among_user_updates(rpc, round_, lambda own, u: own.ok("one.user.passwd", u, "new"))
        if not rpc.as_user(f"u{round_}:new")("one.user.info", -1)[0]:
            reverted.append(round_)
    assert reverted == [], f"password change reverted in {len(reverted)}/{ROUNDS} rounds"


def test_admin_disable_holds_against_the_users_own_updates(rpc: Caller) -> None:
    reverted = []
    for round_ in range(ROUNDS):
        uid = _admin_among_user_updates(rpc, round_, lambda own, u: own.ok("one.user.enable", u, False))
        if _doc(rpc, "one.user.info", uid).findtext("ENABLED") != "0":
            reverted.append(round_)
    assert reverted == [], f"disable reverted in {len(reverted)}/{ROUNDS} rounds"


# -- VM updates racing the life cycle -----------------------------------------------
ENGINE = "SCHED_INTERVAL = 1\nMONITORING_INTERVAL = 1\n"
VMS = THREADS // 2
_CYCLE = ("poweroff", "resume", "suspend", "resume", "reboot")
_STABLE_LCM = {LcmState.LCM_INIT, LcmState.RUNNING, LcmState.UNKNOWN}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Oned]:
    import one_dummy
    one_dummy.reset()
    oned = start_oned(tmp_path, config_text=ENGINE)
    oned.start_engine()
    yield oned
    oned.stop()
    one_dummy.reset()


def _wait_for(what: Callable[[], list[int]], seconds: float = 20.0) -> list[int]:
    """Poll until `what` lists nothing (or the bounded wait ends); the last listing."""
    deadline = time.monotonic() + seconds
    while (left := what()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _phases(rpc: Caller, vids: list[int]) -> dict[int, tuple[int, int]]:
    docs = {vid: _doc(rpc, "one.vm.info", vid) for vid in vids}
    return {vid: (int(d.findtext("STATE")), int(d.findtext("LCM_STATE"))) for vid, d in docs.items()}


def _unsettled(rpc: Caller, vids: list[int]) -> list[int]:
    """VMs still in a transitional phase (a driver operation under way, or lost)."""
    return [vid for vid, (state, lcm) in _phases(rpc, vids).items()
            if state == VmState.ACTIVE and lcm not in _STABLE_LCM and "FAILURE" not in LcmState(lcm).name]


def test_vm_updates_racing_life_cycle_actions_leave_no_vm_stuck(live: Oned) -> None:
    rpc = Caller(live.endpoint)
    hid = rpc.ok("one.host.allocate", "node0", "dummy", "dummy", -1)
    rpc.ok("one.host.update", hid, 'DUMMY_DELAY = "0.01"', 1)
    vids = [rpc.ok("one.vm.allocate", "CPU = 0.1 MEMORY = 16", True) for _ in range(VMS)]
    for vid in vids:
        rpc.ok("one.vm.deploy", vid, hid)
    assert _wait_for(lambda: [v for v, p in _phases(rpc, vids).items()
                              if p != (VmState.ACTIVE, LcmState.RUNNING)]) == []

    def updates(vid: int) -> Callable[[], Any]:
        return _repeat(rpc, lambda own, c: own.ok("one.vm.update", vid, f'U{c} = "{c}"', 1))

    def actions(vid: int) -> Callable[[], Any]:  # refused in the wrong phase, as they may be
        return _repeat(rpc, lambda own, c: own("one.vm.action", _CYCLE[c % len(_CYCLE)], vid))

    _together([updates(v) for v in vids] + [actions(v) for v in vids])
    assert _wait_for(lambda: _unsettled(rpc, vids)) == []
    for vid in vids:
        rpc.ok("one.vm.action", "terminate", vid)
    assert _wait_for(lambda: [v for v, p in _phases(rpc, vids).items() if p[0] != VmState.DONE]) == []
    for vid in vids:
        kept = {child.tag for child in _doc(rpc, "one.vm.info", vid).find("USER_TEMPLATE")}
        assert {f"U{c}" for c in range(CALLS)} <= kept
