"""Hosts and VMs made of network namespaces, for the network drivers' tests and bench.

A host is a namespace whose sshd listens on a loopback address of this
machine while every session runs inside the namespace (SshHost's `netns`):
the drivers' commands go through the executor and run "on the host", as in
production. Two hosts are joined by veth pairs made directly inside them
(their PHYDEVs), with private addresses there only. A VM is a namespace too,
joined to its host by a veth whose host end is named like its tap; the test,
playing the hypervisor, plugs that end into the bridge after `pre`.

Namespaces are made by name and deleted by name (which deletes every device
and ebtables rule in them); nothing is configured in this machine's own
namespace but sshds listening on 127.0.0.x.
"""
from __future__ import annotations

import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from one.plugins import HostView, TemplateView, VmView
from one.plugins.testing import make_vm_view
from one.states import HostState
from sshd import SshHost, terminate

ADDRESSES = ("127.0.0.2", "127.0.0.3")
FIRST_PORT = 2222           # both sshds share one port: SSH_PORT is one driver setting
UNDERLAY = "eth1"           # PHYDEV of VXLAN networks: with addresses, multicast flows on it
TRUNK = "eth2"              # PHYDEV of plain bridges: no address, it only joins the bridges
UNDERLAY_NET = "192.168.77"
ECHO_PORT = 7
# A VM's service: answer every connection with "ok", after saying it listens.
ECHO = ("import socket,sys\n"
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(); print('up', flush=True)\n"
        "while True:\n c, _ = s.accept(); c.sendall(b'ok'); c.close()\n")
KNOCK = ("import socket,sys\n"
         "address, timeout = (sys.argv[1], int(sys.argv[2])), float(sys.argv[3])\n"
         "sys.exit(0 if socket.create_connection(address, timeout).recv(2) == b'ok' else 1)\n")


class LabError(RuntimeError):
    """The lab could not be built; the message says which command the kernel refused."""


def ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode:
        raise LabError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def free_shared_port(addresses: tuple[str, ...], first: int = FIRST_PORT) -> int:
    """The first port from `first` that nothing listens on at any of the addresses."""
    for port in range(first, first + 200):
        try:
            for address in addresses:
                with socket.socket() as probe:
                    probe.bind((address, port))
        except OSError:
            continue
        return port
    raise LabError(f"no port from {first} is free on all of {addresses}")


@dataclass(frozen=True)
class NetHost:
    """A host the drivers reach as `name` (its sshd's address); `ns` is where it lives."""

    name: str
    ns: str

    @property
    def view(self) -> HostView:
        return HostView(id=0, name=self.name, state=HostState.MONITORED, im_mad="dummy",
                        vm_mad="dummy")

    def sh(self, command: str) -> str:
        """A look at the host from outside the drivers, as root on it."""
        done = subprocess.run(["ip", "netns", "exec", self.ns, "sh", "-c", command],
                              capture_output=True, text=True)
        if done.returncode:
            raise LabError(f"{self.name}: {command}: {done.stderr.strip()}")
        return done.stdout

    def devices(self) -> set[str]:
        return set(self.sh("ls /sys/class/net").split())

    def master(self, device: str) -> str:
        """The bridge `device` is a port of, "" for none."""
        target = self.sh(f"readlink /sys/class/net/{device}/master || true")
        return target.strip().rpartition("/")[2]

    def rules(self) -> list[str]:
        return [line for line in self.sh("ebtables -L FORWARD").splitlines()
                if line.startswith("-")]


@dataclass
class Guest:
    """A VM's NIC: a namespace with `eth0`, and its tap end on the host."""

    ns: str
    host: NetHost
    tap: str
    ip: str
    service: subprocess.Popen[bytes] | None = None

    def plug(self, bridge: str) -> None:
        """What the hypervisor does once `pre` made the bridge."""
        ip("-n", self.host.ns, "link", "set", "dev", self.tap, "master", bridge, "up")

    def unplug(self) -> None:
        """What the hypervisor does when the VM stops: its tap vanishes."""
        ip("-n", self.host.ns, "link", "del", self.tap)

    def serve(self) -> None:
        self.service = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, sys.executable, "-c", ECHO, str(ECHO_PORT)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.service.stdout is not None
        with self.service.stdout as said:   # it says nothing after this line
            if said.readline() != b"up\n":
                raise LabError(f"the service of VM namespace {self.ns} did not start")

    def reaches(self, other: Guest, timeout: float = 1.5) -> bool:
        """Whether a TCP connection to the other VM's service gets its answer."""
        return subprocess.run(
            ["ip", "netns", "exec", self.ns, sys.executable, "-c", KNOCK, other.ip,
             str(ECHO_PORT), str(timeout)], capture_output=True).returncode == 0


class Lab:
    """Every namespace and sshd of one test session or bench run, undone by name."""

    def __init__(self, workdir: Path) -> None:
        self.suffix = secrets.token_hex(3)
        self.key = workdir / "front_end_ed25519"
        self.known_hosts = workdir / "known_hosts"
        self.port = 0
        self.hosts: list[NetHost] = []
        self.namespaces: list[str] = []
        self.sshds: list[SshHost] = []
        self.guests: list[Guest] = []

    @property
    def settings(self) -> dict[str, str]:
        """The drivers' settings (as in a VN_MAD vector) that reach this lab's hosts."""
        return {"SSH_PORT": str(self.port), "SSH_KEY": str(self.key),
                "KNOWN_HOSTS": str(self.known_hosts)}

    def namespace(self, role: str) -> str:
        name = f"one-{role}-{self.suffix}"
        ip("netns", "add", name)
        self.namespaces.append(name)
        ip("-n", name, "link", "set", "dev", "lo", "up")
        return name

    def start(self) -> None:
        """Two hosts, on 127.0.0.2 and .3, joined by an underlay and a trunk."""
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key)],
                       check=True, capture_output=True)
        self.port = free_shared_port(ADDRESSES)
        self.hosts = hosts = [self._host(f"h{n + 1}", address)
                              for n, address in enumerate(ADDRESSES)]
        for first, second in zip(hosts, hosts[1:]):
            for device in (UNDERLAY, TRUNK):
                ip("link", "add", "name", device, "netns", first.ns, "type", "veth",
                   "peer", "name", device, "netns", second.ns)
        for number, host in enumerate(hosts, 1):
            ip("-n", host.ns, "addr", "add", f"{UNDERLAY_NET}.{number}/24", "dev", UNDERLAY)
            for device in (UNDERLAY, TRUNK):
                ip("-n", host.ns, "link", "set", "dev", device, "up")

    def _host(self, role: str, address: str) -> NetHost:
        ns = self.namespace(role)
        sshd = SshHost(address, self.port, netns=ns)
        self.sshds.append(sshd)
        sshd.start()
        with sshd.authorized_keys.open("a") as keys:
            keys.write(self.key.with_suffix(".pub").read_text())
        with self.known_hosts.open("a") as known:
            known.write(sshd.known_hosts.read_text())
        return NetHost(address, ns)

    def guest(self, host: NetHost, tap: str, mac: str, cidr: str) -> Guest:
        """A VM NIC with `mac` and address `cidr` behind the tap `tap` on `host`."""
        ns = self.namespace(f"vm{len(self.guests)}")
        ip("link", "add", "name", tap, "netns", host.ns, "type", "veth",
           "peer", "name", "eth0", "netns", ns)
        ip("-n", ns, "link", "set", "dev", "eth0", "address", mac, "up")
        ip("-n", ns, "addr", "add", cidr, "dev", "eth0")
        guest = Guest(ns, host, tap, cidr.partition("/")[0])
        self.guests.append(guest)
        return guest

    @contextmanager
    def scope(self) -> Iterator[Lab]:
        """What the block adds (VMs) goes when it ends, however it ends; hosts stay."""
        guests, namespaces = len(self.guests), len(self.namespaces)
        try:
            yield self
        finally:
            self._remove(guests, namespaces)

    def close(self) -> None:
        """sshds, VMs' services, then every namespace: by PID or by name, whatever failed."""
        for sshd in self.sshds:
            sshd.stop()
        self._remove(0, 0)

    def _remove(self, guests: int, namespaces: int) -> None:
        for guest in self.guests[guests:]:
            if guest.service is not None:
                terminate(guest.service)
        failures = []
        for name in reversed(self.namespaces[namespaces:]):
            done = subprocess.run(["ip", "netns", "del", name], capture_output=True, text=True)
            if done.returncode and "No such file" not in done.stderr:
                failures.append(f"{name}: {done.stderr.strip()}")
        del self.guests[guests:], self.namespaces[namespaces:]
        if failures:
            raise LabError(f"namespaces not deleted: {failures}")


@contextmanager
def lab(workdir: Path) -> Iterator[Lab]:
    """A started lab, closed however the block ends (also when starting it failed)."""
    built = Lab(workdir)
    try:
        built.start()
        yield built
    finally:
        built.close()


def vm_view(vm_id: int, *nics: Mapping[str, str]) -> VmView:
    """A VM as the core hands it to network drivers: its NICs numbered as the core does."""
    vm = make_vm_view(vm_id)
    return replace(vm, template=TemplateView.of(
        [("NAME", vm.name)] + [("NIC", {"NIC_ID": str(n), **nic}) for n, nic in enumerate(nics)]))
