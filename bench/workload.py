"""Fill the server with a realistic pool through the API, and time the filling.

Allocation goes through the same XML-RPC calls a real front-end makes, so the
pool holds what oned itself stores (leases, DISK_IDs, expanded CONTEXT), and
the load doubles as the allocate-rate measurement.
"""
from __future__ import annotations

import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Sequence

from bench.rpc import call
from bench.server import oned_conf

NETWORK = "bench-net"
NETWORK_TEMPLATE = f"NAME={NETWORK} VN_MAD=dummy AR=[TYPE=IP4, IP=10.0.0.1, SIZE=60000]"
# About 700 bytes, like the templates the figures were taken with.
VM_TEMPLATE = """NAME = "bench-vm-{index:05d}"
DESCRIPTION = "Benchmark VM {index:05d}: web front-end, system and data disk"
CPU = "0.5"
VCPU = "2"
MEMORY = "2048"
OS = [ ARCH = "x86_64", BOOT = "disk0", MACHINE = "q35" ]
DISK = [ TYPE = "fs", SIZE = "20480", FORMAT = "qcow2", TARGET = "vda", CACHE = "none" ]
DISK = [ TYPE = "fs", SIZE = "4096", FORMAT = "raw", TARGET = "vdb" ]
NIC = [ NETWORK = "{network}", MODEL = "virtio" ]
GRAPHICS = [ TYPE = "VNC", LISTEN = "0.0.0.0", KEYMAP = "en-us" ]
CONTEXT = [ NETWORK = "YES", SET_HOSTNAME = "$NAME", ETH0_IP = "$NIC[IP]",
  SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchOnlyKey bench@one" ]
ROLE = "frontend"
TIER = "web"
COST_CENTER = "cc-{index:05d}"
"""

# Dummy hosts as big as a current server, so that capacity never decides where a VM goes.
# Guests in memory (PERSIST = no): the engine benchmarks measure oned, not the dummy
# driver rewriting its state file after every action (see plugins/dummy/README.md).
ROOMY_HOSTS = ('IM_MAD = [ NAME = "dummy", TOTALCPU = "6400", TOTALMEMORY = "268435456", '
               'PERSIST = "no" ]\nVM_MAD = [ NAME = "dummy", PERSIST = "no" ]')
# Issue 3's scheduler settings: woken by each allocate, never by the clock, and no cap
# on how many VMs one cycle places.
SCHEDULED = oned_conf(ROOMY_HOSTS, SCHED_INTERVAL=3600, MAX_VM=20_000, MAX_DISPATCH=20_000,
                      MAX_HOST=100)


@dataclass
class LoadRates:
    """Calls per second of each allocation phase."""

    hosts: float
    vms_one_client: float
    vms_parallel: float


def vm_template(index: int) -> str:
    return VM_TEMPLATE.format(index=index, network=NETWORK)


def _run_stripe(url: str, method: str, calls: Sequence[tuple[Any, ...]]) -> None:
    """One client: its own proxy, hence its own keep-alive connection, as a real client has."""
    proxy = xmlrpc.client.ServerProxy(url)
    for params in calls:
        call(proxy, method, *params)


def timed_calls(url: str, method: str, calls: Sequence[tuple[Any, ...]], clients: int) -> float:
    """Spread `calls` over `clients` threads; calls per second over the whole batch."""
    stripes = [calls[i::clients] for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for finished in [pool.submit(_run_stripe, url, method, s) for s in stripes]:
            finished.result()
    return len(calls) / (time.perf_counter() - start)


def host_name(index: int) -> str:
    return f"bench-host-{index:04d}"


def add_network(url: str) -> None:
    """The network every VM template's NIC names."""
    call(xmlrpc.client.ServerProxy(url), "one.vn.allocate", NETWORK_TEMPLATE, -1)


def add_hosts(url: str, hosts: int, clients: int) -> float:
    """`hosts` dummy hosts; hosts allocated per second."""
    host_calls = [(host_name(i), "dummy", "dummy", -1) for i in range(hosts)]
    return timed_calls(url, "one.host.allocate", host_calls, clients)


def load_pool(url: str, vms: int, hosts: int, clients: int) -> LoadRates:
    """The network, `hosts` dummy hosts, then `vms` VMs: a tenth by one client, the rest in parallel.

    The one-client tenth is enough for a steady rate and keeps the load short.
    """
    add_network(url)
    host_rate = add_hosts(url, hosts, clients)
    vm_calls = [(vm_template(i), False) for i in range(vms)]
    serial = max(1, vms // 10)
    return LoadRates(
        hosts=host_rate,
        vms_one_client=timed_calls(url, "one.vm.allocate", vm_calls[:serial], 1),
        vms_parallel=timed_calls(url, "one.vm.allocate", vm_calls[serial:], clients),
    )
