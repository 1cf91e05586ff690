"""The leader killed with `kill -9` while a client runs VM life cycles: a follower takes
over within 5 s, resumes what was in flight exactly once, and nothing is lost or doubled."""
from __future__ import annotations

import json
import re
import signal
import threading
import time
from pathlib import Path
from typing import Iterator

import one_dummy
import pytest

from cluster import Client, Cluster, role, LEADER
from conftest import until

pytestmark = pytest.mark.slow
PENDING, ACTIVE, DONE = 1, 3, 6
RUNNING = 3  # LCM_STATE
WORKERS, PER_WORKER = 3, 4


@pytest.fixture
def cluster(tmp_path: Path, postgres: str) -> Iterator[Cluster]:
    started = Cluster(tmp_path, postgres)
    yield started
    started.stop()


def _states(client: Client) -> dict[str, list[tuple[int, int, int]]]:
    """name -> [(id, state, lcm_state)] of every VM, DONE ones included."""
    found: dict[str, list[tuple[int, int, int]]] = {}
    pool = client.ok("one.vmpool.info", -2, -1, -1, -2)
    for vm in re.findall(r"<VM>.*?</VM>", pool, re.S):
        vid, name = re.search(r"<ID>(\d+)</ID>.*?<NAME>([^<]*)</NAME>", vm, re.S).groups()
        state, lcm = re.search(r"<STATE>(\d+)</STATE><LCM_STATE>(\d+)</LCM_STATE>", vm).groups()
        found.setdefault(name, []).append((int(vid), int(state), int(lcm)))
    return found


def _state(client: Client, name: str) -> tuple[int, int, int] | None:
    found = _states(client).get(name)
    return found[0] if found else None


def _allocate(client: Client, name: str) -> int:
    """Once: after an unknown outcome, the VM is looked up by its name first."""
    while True:
        reply = client.call("one.vm.allocate", f'NAME = "{name}" CPU = 0.1 MEMORY = 16', False)
        if reply is not None:
            assert reply[0] is True, reply
            return reply[1]
        if (found := _state(client, name)) is not None:
            return found[0]


def _act(client: Client, name: str, method: str, args: tuple, until_state: int) -> None:
    """Send the action while the VM is not past it; wait for the state it leads to."""
    vid, state, lcm = _state(client, name)
    while state == (PENDING if method == "one.vm.deploy" else ACTIVE) and lcm in (0, RUNNING):
        reply = client.call(method, *args)
        assert reply is None or reply[0] is True or reply[2] == 0x800, reply
        vid, state, lcm = _state(client, name)
        if reply is not None and reply[0] is True:
            break
    until(lambda: (s := _state(client, name)) and s[1] == until_state
          and (s[2] == RUNNING or until_state == DONE), f"{name} in state {until_state}")


def _life_cycles(cluster: Cluster, worker: int, host: int, deploys: list[str]) -> None:
    client = Client(cluster, start=worker)  # each worker on another server, followers too
    for n in range(PER_WORKER):
        name = f"w{worker}-{n}"
        vid = _allocate(client, name)
        deploys.append(name)
        _act(client, name, "one.vm.deploy", (vid, host), ACTIVE)
        if n % 2:
            _act(client, name, "one.vm.action", ("terminate-hard", vid), DONE)


def test_kill_9_of_the_leader_mid_workload(cluster: Cluster) -> None:
    client = Client(cluster)
    host = client.ok("one.host.allocate", "node", "dummy", "dummy", -1)
    deploys: list[str] = []
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            _life_cycles(cluster, number, host, deploys)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    until(lambda: len(deploys) >= WORKERS + 2 or errors, "the workload under way")
    old = cluster.leader()
    killed = time.monotonic()
    cluster.servers[old].process.send_signal(signal.SIGKILL)
    new = until(lambda: next((i + 1 for i, e in enumerate(cluster.endpoints)
                              if i != old and role(e) == LEADER), 0), "a new leader") - 1
    takeover = time.monotonic() - killed
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert takeover < 5.0, f"a follower took over after {takeover:.1f} s"

    states = _states(Client(cluster))
    expected = {f"w{w}-{n}": (DONE if n % 2 else ACTIVE)
                for w in range(WORKERS) for n in range(PER_WORKER)}
    assert {name: [s[1] for s in found] for name, found in states.items()} == {
        name: [state] for name, state in expected.items()}  # each VM once, where it was asked
    assert all(found[0][2] == RUNNING for name, found in states.items() if expected[name] == ACTIVE)
    journal = [json.loads(line) for line in (cluster.dummy / "actions.jsonl").read_text().splitlines()]
    applied = [(line["vm"], line["action"]) for line in journal if line["applied"]]
    assert sorted(vm for vm, action in applied if action == "deploy") == sorted(
        found[0][0] for found in states.values())  # deployed exactly once each
    assert one_dummy.violations(cluster.dummy) == []
    assert cluster.roles()[old] is None and new != old
