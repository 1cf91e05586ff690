"""A pretend hypervisor per host, shared by the dummy VMM and IM drivers.

The dummy drivers need something that outlives one driver call, so that a
VM deployed by the VMM is seen by the IM's monitoring and can be killed by a
test "behind oned's back". A `Datacenter` stands for the machines outside
oned: one `Hypervisor` per host name and the checkpoint files saved VMs leave
behind (datacenter-wide, because a stopped VM may be resumed on another host).
Given a `StateDir`, every change is written there before the action returns,
so the guests outlive the oned process as real ones would.

Actions are idempotent, as the driver contract asks: each says whether it
changed anything (`applied`), and one whose work is already done succeeds
without applying it again.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from one_dummy.state import StateDir


class DomainError(RuntimeError):
    """What a real hypervisor answers for a domain that is not where asked."""


@dataclass(frozen=True)
class Domain:
    """A running guest: what `poll` and `monitor` report of it."""

    deploy_id: str
    memory_kib: int
    cpu: float = 1.0                       # percent of one CPU: an idle guest
    started: float = field(default_factory=time.monotonic)
    devices: frozenset[str] = frozenset()  # hotplugged: "disk:<DISK_ID>", "nic:<NIC_ID>"
    snapshots: tuple[str, ...] = ()        # system snapshots, by hypervisor id
    vcpu: int = 1

    def network_bytes(self) -> int:
        """Traffic that grows with uptime, so counters look alive between polls."""
        return int((time.monotonic() - self.started) * 1024)

    def stored(self) -> dict[str, Any]:
        return {"deploy_id": self.deploy_id, "memory_kib": self.memory_kib, "cpu": self.cpu,
                "devices": sorted(self.devices), "snapshots": list(self.snapshots),
                "vcpu": self.vcpu}

    @classmethod
    def loaded(cls, value: dict[str, Any]) -> Domain:
        return cls(str(value["deploy_id"]), int(value["memory_kib"]), float(value["cpu"]),
                   devices=frozenset(value.get("devices", ())),
                   snapshots=tuple(value.get("snapshots", ())), vcpu=int(value.get("vcpu", 1)))


class Hypervisor:
    """The domains of one host; every method is safe from any driver thread."""

    def __init__(self, host: str, datacenter: Datacenter) -> None:
        self.host = host
        self._datacenter = datacenter
        self._lock = datacenter.lock
        self._domains: dict[str, Domain] = {}
        self._stored: str | None = None    # its part of guests.json, until it changes

    def domains(self) -> dict[str, Domain]:
        """A snapshot by deploy id (domains are frozen, so it cannot drift)."""
        with self._lock:
            return dict(self._domains)

    def get(self, deploy_id: str) -> Domain | None:
        with self._lock:
            return self._domains.get(deploy_id)

    def create(self, domain: Domain) -> bool:
        """Boot a domain; False (nothing done) when one with that id already runs here."""
        with self._lock:
            if domain.deploy_id in self._domains:
                return False
            self._domains[domain.deploy_id] = domain
            self._changed()
            return True

    def require(self, deploy_id: str) -> Domain:
        domain = self.get(deploy_id)
        if domain is None:
            raise DomainError(f"dummy: no domain {deploy_id!r} on host {self.host}")
        return domain

    def destroy(self, deploy_id: str) -> Domain:
        """Remove a domain that must be there."""
        with self._lock:
            domain = self.require(deploy_id)
            del self._domains[deploy_id]
            self._changed()
            return domain

    def discard(self, deploy_id: str) -> bool:
        """Remove a domain if it is there: destroying what is gone is success (False)."""
        with self._lock:
            if deploy_id not in self._domains:
                return False
            self.destroy(deploy_id)
            return True

    def plug(self, deploy_id: str, device: str, present: bool) -> bool:
        """Hotplug (`present`) or unplug a device of a domain that must be there;
        False (nothing done) when it already is as asked."""
        with self._lock:
            devices = self.require(deploy_id).devices
            return self.change(deploy_id, devices=devices | {device} if present
                               else devices - {device})

    def change(self, deploy_id: str, **fields: Any) -> bool:
        """Change a domain that must be there; False when it already is so."""
        with self._lock:
            domain = self.require(deploy_id)
            changed = replace(domain, **fields)
            if changed == domain:
                return False
            self._domains[deploy_id] = changed
            self._changed()
            return True

    def kill(self, deploy_id: str) -> None:
        """For tests: the guest dies without oned asking (it should notice on poll)."""
        self.destroy(deploy_id)

    def adopt(self, domains: dict[str, Domain]) -> None:
        """Domains read back from a StateDir: already stored, so not written again."""
        with self._lock:
            self._domains.update(domains)
            self._stored = None

    def stored(self) -> str:
        """This host's domains as JSON; kept between writes of a datacenter of many hosts."""
        with self._lock:
            if self._stored is None:
                self._stored = json.dumps({i: d.stored() for i, d in self._domains.items()},
                                          separators=(",", ":"))
            return self._stored

    def _changed(self) -> None:
        self._stored = None
        self._datacenter.changed()


class Datacenter:
    """Every pretend host and the checkpoints of saved domains.

    One lock serves all hosts, so that a migration or a save is seen at once
    by every thread: the domain is never on two hosts, nor on none. With a
    `StateDir`, the datacenter starts from what it holds and writes each
    change there under that lock.
    """

    def __init__(self, state: StateDir | None = None) -> None:
        self.lock = threading.RLock()
        self.state = state
        self._hosts: dict[str, Hypervisor] = {}
        self._checkpoints: dict[str, Domain] = {}
        self._batching = 0
        self._dirty = False
        self._applied = 0           # applied lines of the journal that the state includes
        # Disks' sizes and snapshots by "<vm>/<disk id>" (one_dummy.changes; not persisted).
        self.disks: dict[str, dict[str, Any]] = {}
        if state is not None:
            self._load(state)

    def hypervisor(self, host: str) -> Hypervisor:
        """The host's hypervisor, created empty the first time it is named."""
        with self.lock:
            if host not in self._hosts:
                self._hosts[host] = Hypervisor(host, self)
            return self._hosts[host]

    def checkpoints(self) -> dict[str, str]:
        """Saved domains not restored yet: checkpoint path -> deploy id."""
        with self.lock:
            return {path: domain.deploy_id for path, domain in self._checkpoints.items()}

    def save(self, host: str, deploy_id: str, checkpoint: str) -> bool:
        """Stop the domain, keeping its state in the checkpoint.

        False when that is already done: the domain gone, its checkpoint there.
        """
        with self.lock:
            saved = self._checkpoints.get(checkpoint)
            if self.hypervisor(host).get(deploy_id) is None and saved is not None \
                    and saved.deploy_id == deploy_id:
                return False
            with self.batch():
                self._checkpoints[checkpoint] = self.hypervisor(host).destroy(deploy_id)
            return True

    def restore(self, host: str, deploy_id: str, checkpoint: str) -> bool:
        """Boot a saved domain again as `deploy_id`, on whichever host the VM now is.

        False when it already runs there: it was restored before.
        """
        with self.lock:
            if self.hypervisor(host).get(deploy_id) is not None:
                return False
            saved = self._checkpoints.get(checkpoint)
            if saved is None:
                raise DomainError(f"dummy: no checkpoint {checkpoint!r} to restore")
            with self.batch():
                del self._checkpoints[checkpoint]
                self.hypervisor(host).create(
                    replace(saved, deploy_id=deploy_id, started=time.monotonic()))
            return True

    def migrate(self, deploy_id: str, source: str, target: str) -> bool:
        """Move a domain; False when it is already on the target and gone from the source."""
        with self.lock:
            if self.hypervisor(source).get(deploy_id) is None \
                    and self.hypervisor(target).get(deploy_id) is not None:
                return False
            with self.batch():
                self.hypervisor(target).create(self.hypervisor(source).destroy(deploy_id))
            return True

    def reset(self) -> None:
        """Forget every host and checkpoint (a StateDir's files until the next change)."""
        with self.lock:
            self._hosts.clear()
            self._checkpoints.clear()

    # -- persistence ------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Write the state once, at the end, for changes made together."""
        with self.lock:
            self._batching += 1
            try:
                yield
            finally:
                self._batching -= 1
                if not self._batching and self._dirty:
                    self._write()

    def changed(self) -> None:
        """Called under the lock after every change: written now, or at the batch's end."""
        self._dirty = True
        if not self._batching:
            self._write()

    def act(self, action: str, host: str, deploy_id: str, vm: int,
            change: Callable[[], bool]) -> bool:
        """Make a change (it says whether it applied anything) and journal it, as one.

        The journal line is written before the state that counts it, so a
        process killed between the two leaves a line the next load drops
        (`StateDir.trim`): the journal never shows a change the state lacks.
        """
        with self.batch():
            applied = change()
            if self.state is not None:
                self.state.append(action, host, deploy_id, vm, applied)
                self._applied += applied
            return applied

    def _write(self) -> None:
        self._dirty = False
        if self.state is not None:
            hosts = ",".join(f"{json.dumps(name)}:{hv.stored()}" for name, hv in self._hosts.items())
            checkpoints = {path: d.stored() for path, d in self._checkpoints.items()}
            self.state.save(f'{{"applied":{self._applied},"hosts":{{{hosts}}},'
                            f'"checkpoints":{json.dumps(checkpoints)}}}')

    def _load(self, state: StateDir) -> None:
        stored = state.load()
        self._applied = state.trim(int(stored.get("applied", 0)))
        for name, domains in stored.get("hosts", {}).items():
            self.hypervisor(name).adopt(
                {deploy_id: Domain.loaded(value) for deploy_id, value in domains.items()})
        self._checkpoints.update({path: Domain.loaded(value)
                                  for path, value in stored.get("checkpoints", {}).items()})
