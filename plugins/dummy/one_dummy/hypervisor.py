"""A pretend hypervisor per host, shared by the dummy VMM and IM drivers.

The dummy drivers need something that outlives one driver call, so that a
VM deployed by the VMM is seen by the IM's monitoring and can be killed by a
test "behind oned's back". A `Datacenter` stands for the machines outside
oned: one `Hypervisor` per host name and the checkpoint files saved VMs leave
behind (datacenter-wide, because a stopped VM may be resumed on another host).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace


class DomainError(RuntimeError):
    """What a real hypervisor answers for a domain that is not where asked."""


@dataclass(frozen=True)
class Domain:
    """A running guest: what `poll` and `monitor` report of it."""

    deploy_id: str
    memory_kib: int
    cpu: float = 1.0                       # percent of one CPU: an idle guest
    started: float = field(default_factory=time.monotonic)

    def network_bytes(self) -> int:
        """Traffic that grows with uptime, so counters look alive between polls."""
        return int((time.monotonic() - self.started) * 1024)


class Hypervisor:
    """The domains of one host; every method is safe from any driver thread."""

    def __init__(self, host: str, lock: threading.RLock) -> None:
        self.host = host
        self._lock = lock
        self._domains: dict[str, Domain] = {}

    def domains(self) -> dict[str, Domain]:
        """A snapshot by deploy id (domains are frozen, so it cannot drift)."""
        with self._lock:
            return dict(self._domains)

    def get(self, deploy_id: str) -> Domain | None:
        with self._lock:
            return self._domains.get(deploy_id)

    def create(self, domain: Domain) -> None:
        """Boot a domain; one left by an earlier oned with the same id is replaced."""
        with self._lock:
            self._domains[domain.deploy_id] = domain

    def require(self, deploy_id: str) -> Domain:
        domain = self.get(deploy_id)
        if domain is None:
            raise DomainError(f"dummy: no domain {deploy_id!r} on host {self.host}")
        return domain

    def destroy(self, deploy_id: str) -> Domain:
        """Remove a domain that must be there (a shutdown of nothing is an error)."""
        with self._lock:
            domain = self.require(deploy_id)
            del self._domains[deploy_id]
            return domain

    def discard(self, deploy_id: str) -> None:
        """Remove a domain if it is there: destroying what is gone is success."""
        with self._lock:
            self._domains.pop(deploy_id, None)

    def kill(self, deploy_id: str) -> None:
        """For tests: the guest dies without oned asking (it should notice on poll)."""
        self.destroy(deploy_id)


class Datacenter:
    """Every pretend host and the checkpoints of saved domains.

    One lock serves all hosts, so that a migration or a save is seen at once
    by every thread: the domain is never on two hosts, nor on none.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._hosts: dict[str, Hypervisor] = {}
        self._checkpoints: dict[str, Domain] = {}

    def hypervisor(self, host: str) -> Hypervisor:
        """The host's hypervisor, created empty the first time it is named."""
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = Hypervisor(host, self._lock)
            return self._hosts[host]

    def checkpoints(self) -> dict[str, str]:
        """Saved domains not restored yet: checkpoint path -> deploy id."""
        with self._lock:
            return {path: domain.deploy_id for path, domain in self._checkpoints.items()}

    def save(self, host: str, deploy_id: str, checkpoint: str) -> None:
        """Stop the domain, keeping its state in the checkpoint."""
        with self._lock:
            self._checkpoints[checkpoint] = self.hypervisor(host).destroy(deploy_id)

    def restore(self, host: str, checkpoint: str) -> Domain:
        """Boot a saved domain again, on whichever host the VM now is."""
        with self._lock:
            saved = self._checkpoints.pop(checkpoint, None)
            if saved is None:
                raise DomainError(f"dummy: no checkpoint {checkpoint!r} to restore")
            domain = replace(saved, started=time.monotonic())
            self.hypervisor(host).create(domain)
            return domain

    def migrate(self, deploy_id: str, source: str, target: str) -> None:
        with self._lock:
            self.hypervisor(target).create(self.hypervisor(source).destroy(deploy_id))

    def reset(self) -> None:
        """Forget every host and checkpoint, as a test isolating itself wants."""
        with self._lock:
            self._hosts.clear()
            self._checkpoints.clear()


# The machines outside oned, one set per process like real ones: they outlive
# an oned stopped and started again in the same test, as real guests would.
DATACENTER = Datacenter()
