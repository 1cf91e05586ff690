"""`python -m bench.vnm`: what the network drivers cost per NIC, on a real kernel.

100 VMs with one NIC each, all on one network of one host: each VM's `pre`,
its tap plugged into the bridge (untimed: the hypervisor's part), `post`;
then each VM's tap removed (untimed) and its `clean`, as oned calls them around
boot and shutdown. The host is a network namespace (tests/vnm/netns.py),
reached two ways: over SSH through the executor, as any host, and locally, as
the front-end's own host, by running this bench again inside that namespace
(so nothing is made in this machine's own namespace). Round trips count the
commands the executor ran, the state queries included.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests")]   # for netns, which imports the tests' sshd as they do

from tests.vnm import netns  # noqa: E402 - the tests' lab
from one_vnm import BridgedVNM, BridgeVNM, EbtablesVNM, Executor, VxlanVNM  # noqa: E402

from one.plugins import HostView  # noqa: E402
from one.drivers.remote import Remote, SshSettings  # noqa: E402

NICS = 100
BRIDGE = "onebr-bench"
PHASES = ("pre", "post", "clean")
DRIVERS: dict[str, tuple[type[BridgedVNM], dict[str, str]]] = {
    "bridge": (BridgeVNM, {}),
    "ebtables": (EbtablesVNM, {}),
    "vxlan": (VxlanVNM, {"PHYDEV": netns.UNDERLAY, "VLAN_ID": "90"}),
}
LOCAL = "localhost"     # how the front-end's own host is named: the executor runs it locally


class Counting:
    """The executor, counting the commands it runs."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.calls = 0

    def run(self, host: str | None, command: str) -> str:
        self.calls += 1
        return self.executor.run(host, command)


def _measure(name: str, executor: Executor, host: HostView,
             ip: Callable[..., str]) -> dict[str, float]:
    """Milliseconds per NIC for each phase, and round trips per NIC, for one driver."""
    driver_class, network = DRIVERS[name]
    counting = Counting(executor)
    driver = driver_class(executor=counting)
    views = [netns.vm_view(vid, {"VN_MAD": name, "BRIDGE": BRIDGE, "IP": f"10.9.{vid}.1",
                                 "MAC": f"02:00:0a:09:{vid:02x}:01", **network})
             for vid in range(NICS)]
    spent = dict.fromkeys(PHASES, 0.0)

    def timed(phase: str, vm: object) -> None:
        start = time.perf_counter()
        getattr(driver, phase)(vm, host)
        spent[phase] += time.perf_counter() - start

    for vm in views:
        timed("pre", vm)
        ip("link", "add", "name", f"one-{vm.id}-0", "type", "veth", "peer", "name", f"vm{vm.id}")
        ip("link", "set", "dev", f"one-{vm.id}-0", "master", BRIDGE, "up")
        timed("post", vm)
    for vm in views:
        ip("link", "del", f"one-{vm.id}-0")
        timed("clean", vm)
    return {**{phase: spent[phase] * 1000 / NICS for phase in PHASES},
            "trips": counting.calls / NICS}


def _inside(ns: str) -> list[dict[str, object]]:
    """Run in the host's namespace `ns`: the executor's local path, as on the front-end."""
    remote, host = Remote(), netns.NetHost(LOCAL, ns).view
    assert remote.is_local(LOCAL)
    return [{"driver": name, "reached": "locally", **_measure(name, remote, host, netns.ip)}
            for name in DRIVERS]


def _over_ssh(lab: netns.Lab) -> list[dict[str, object]]:
    host = lab.hosts[0]
    remote = Remote(SshSettings.from_config(lab.settings))
    try:
        return [{"driver": name, "reached": "over SSH",
                 **_measure(name, remote, host.view, lambda *a: netns.ip("-n", host.ns, *a))}
                for name in DRIVERS]
    finally:
        remote.close()


def _print(rows: list[dict[str, object]]) -> None:
    table = Table(title=f"one_vnm: {NICS} NICs of one network on one host (ms per NIC)")
    numbers = (*PHASES, "total", "round trips")
    for column in ("driver", "host reached", *numbers):
        table.add_column(column, justify="right" if column in numbers else "left")
    for row in sorted(rows, key=lambda r: (str(r["driver"]), str(r["reached"]))):
        times = [float(row[phase]) for phase in PHASES]  # type: ignore[arg-type]
        table.add_row(str(row["driver"]), str(row["reached"]), *(f"{t:.1f}" for t in times),
                      f"{sum(times):.1f}", f"{row['trips']:.2f}")
    Console().print(table)


def main() -> None:
    if sys.argv[1:2] == ["--inside"]:
        print(json.dumps(_inside(sys.argv[2])))
        return
    with tempfile.TemporaryDirectory(prefix="one-bench-vnm-") as work, \
            netns.lab(Path(work)) as lab:
        rows = _over_ssh(lab)
        ns = lab.hosts[0].ns
        inside = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-m", "bench.vnm",
                                 "--inside", ns], cwd=REPO, capture_output=True, text=True)
    if inside.returncode:
        raise SystemExit(f"the local run inside {ns} failed:\n{inside.stderr}")
    _print(rows + json.loads(inside.stdout))


if __name__ == "__main__":
    main()
