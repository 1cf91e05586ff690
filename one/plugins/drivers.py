"""The driver contracts: one documented base class per kind.

A driver implements the actions it can do by overriding them; every other
action raises `ActionNotSupported`, which the core turns into a failure of
that operation (or an ACTION error before anything starts, through
`supports`). Methods run in a driver thread pool, may block, and report
failure by raising; the core handles timeouts, retries and state.

Every action is idempotent: oned may ask again for work that already
finished, because it died before hearing the answer (a restart resumes every
operation caught mid-way) or because the operator retries. An action whose
work is done succeeds without doing it twice; each class below says what
that means for its actions, and the conformance suites
(`one.plugins.testing`) run every action twice to check it.
"""
from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import ClassVar, Mapping, Sequence

from one.errors import ActionNotSupported
from one.plugins.views import HostView, VmView


class Driver:
    """Base of every driver: a name hosts refer to and its settings.

    `config` holds the driver's own vector from oned.conf (`VM_MAD = [ NAME =
    "kvm", ... ]`) over the settings oned hands every driver: `VAR_LOCATION`,
    oned's state directory, under which a driver may keep what must outlive
    an oned process.
    """

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        self.config = dict(config or {})
        # Lines logged here go to the VM's log while the core runs a VM action.
        self.log = logging.getLogger(f"one.driver.{self.kind}.{self.name}")

    @classmethod
    def supports(cls, action: str) -> bool:
        """Whether this driver overrides `action` (capabilities follow the code)."""
        for klass in cls.__mro__:
            if action in vars(klass):
                return klass not in _BASES
        return False

    def _unsupported(self, action: str) -> ActionNotSupported:
        return ActionNotSupported(f"{self.kind} driver '{self.name}' does not support {action}")


class PollState(enum.Enum):
    """What the hypervisor says of a VM (OpenNebula's a / p / e / d / -)."""

    RUNNING = "a"
    PAUSED = "p"
    ERROR = "e"
    GONE = "d"
    UNKNOWN = "-"


@dataclass(frozen=True)
class VmPoll:
    """One VM as the hypervisor sees it: its state and usage counters."""

    state: PollState
    cpu: float = 0.0            # percent of one CPU
    memory: int = 0             # KiB
    netrx: int = 0              # bytes
    nettx: int = 0
    extra: Mapping[str, str] = field(default_factory=dict)   # stored in the VM template


# Keys every IM driver reports: the core derives capacity and MONITORING from them
# (USEDCPU, USEDMEMORY, NETRX, NETTX are optional and count as 0 when missing).
REQUIRED_PROBE_KEYS = ("HYPERVISOR", "TOTALCPU", "TOTALMEMORY", "FREECPU", "FREEMEMORY")


@dataclass(frozen=True)
class HostProbe:
    """One monitoring answer: KEY=VALUE facts and, when known, the VMs seen."""

    values: Mapping[str, str]   # TOTALCPU, TOTALMEMORY, FREECPU, FREEMEMORY, USEDCPU, ...
    vms: Mapping[str, VmPoll] | None = None   # by deploy id; None: not reported


class VMMDriver(Driver):
    """Virtualization: boots, stops and moves VMs on a host.

    Idempotence, action by action: `deploy` of a guest already running with
    the VM's id returns its id; `shutdown` and `cancel` of a guest that is
    gone succeed; `save` of a guest gone whose checkpoint is there succeeds;
    `restore` of a guest already running on the host returns its id;
    `migrate` of a guest already on the target (gone from the source)
    succeeds. Before it resumes an operation after a restart, the core polls
    the guest and skips the step whose result the poll shows (RUNNING after
    deploy, restore and migrate, on the target; GONE after shutdown, cancel
    and save), so `poll` must answer GONE only for a guest that is really
    gone (raise when it cannot tell), and `save` must stop the guest only once
    its checkpoint is complete.
    """

    kind = "vmm"

    def deploy(self, vm: VmView, host: HostView) -> str:
        """Create and boot the VM; return its hypervisor id (DEPLOY_ID)."""
        raise self._unsupported("deploy")

    def shutdown(self, vm: VmView, host: HostView) -> None:
        """Graceful shutdown; return once the VM is gone (or was), raise on timeout."""
        raise self._unsupported("shutdown")

    def cancel(self, vm: VmView, host: HostView) -> None:
        """Destroy at once; a VM already gone is success."""
        raise self._unsupported("cancel")

    def reboot(self, vm: VmView, host: HostView) -> None:
        raise self._unsupported("reboot")

    def reset(self, vm: VmView, host: HostView) -> None:
        raise self._unsupported("reset")

    def save(self, vm: VmView, host: HostView, checkpoint: str) -> None:
        """Suspend the VM to the checkpoint file and stop it."""
        raise self._unsupported("save")

    def restore(self, vm: VmView, host: HostView, checkpoint: str) -> str:
        """Resume from the checkpoint file; return the hypervisor id."""
        raise self._unsupported("restore")

    def migrate(self, vm: VmView, source: HostView, target: HostView) -> None:
        """Live migration from source to target."""
        raise self._unsupported("migrate")

    def poll(self, vm: VmView, host: HostView) -> VmPoll:
        raise self._unsupported("poll")

    # Hotplug on a running guest. The device is the DISK or NIC vector (with its
    # DISK_ID or NIC_ID) as it is in vm.template; a disk's file is already on the
    # host, at disk.<DISK_ID> in the VM's directory. Attaching a device the guest
    # has, or detaching one it lacks, succeeds.
    def attach_disk(self, vm: VmView, host: HostView, disk: Mapping[str, str]) -> None:
        raise self._unsupported("attach_disk")

    def detach_disk(self, vm: VmView, host: HostView, disk: Mapping[str, str]) -> None:
        raise self._unsupported("detach_disk")

    def attach_nic(self, vm: VmView, host: HostView, nic: Mapping[str, str]) -> None:
        raise self._unsupported("attach_nic")

    def detach_nic(self, vm: VmView, host: HostView, nic: Mapping[str, str]) -> None:
        raise self._unsupported("detach_nic")
    # -- changes to a VM in place (one/core/lifecycle/changes.py) ---------------------------
    # Each may run again after it finished: a snapshot already taken, reverted to or gone,
    # a disk already at the size, a VM already at its capacity succeed without redoing it.
    def snapshot_create(self, vm: VmView, host: HostView, snap_id: int, name: str) -> str:
        """System snapshot (memory and disks) of a running VM; return its hypervisor id."""
        raise self._unsupported("snapshot_create")

    def snapshot_revert(self, vm: VmView, host: HostView, hypervisor_id: str) -> None:
        raise self._unsupported("snapshot_revert")

    def snapshot_delete(self, vm: VmView, host: HostView, hypervisor_id: str) -> None:
        raise self._unsupported("snapshot_delete")

    def disk_snapshot_create(self, vm: VmView, host: HostView, disk_id: int, snap_id: int) -> None:
        """Snapshot of one disk, running or powered off (`vm.state` says which)."""
        raise self._unsupported("disk_snapshot_create")

    def disk_snapshot_revert(self, vm: VmView, host: HostView, disk_id: int, snap_id: int) -> None:
        """Roll a disk of a powered-off VM back to a snapshot."""
        raise self._unsupported("disk_snapshot_revert")

    def disk_snapshot_delete(self, vm: VmView, host: HostView, disk_id: int, snap_id: int) -> None:
        raise self._unsupported("disk_snapshot_delete")

    def disk_resize(self, vm: VmView, host: HostView, disk_id: int, size_mb: int) -> None:
        """Grow a disk to `size_mb`, live when the VM runs."""
        raise self._unsupported("disk_resize")

    def resize(self, vm: VmView, host: HostView) -> None:
        """Apply VCPU and MEMORY of `vm.template` to the running guest (HOTPLUG_RESIZE)."""
        raise self._unsupported("resize")

    def update_conf(self, vm: VmView, host: HostView) -> None:
        """Apply a running VM's changed configuration (CONTEXT...) as far as it can live."""
        raise self._unsupported("update_conf")


class IMDriver(Driver):
    """Information: monitors hosts (and, when it can, their VMs)."""

    kind = "im"

    def monitor(self, host: HostView) -> HostProbe:
        raise self._unsupported("monitor")


@dataclass(frozen=True)
class Location:
    """A path on a host; host None is the front-end."""

    path: str
    host: str | None = None

    def __str__(self) -> str:
        return f"{self.host or 'frontend'}:{self.path}"


@dataclass(frozen=True)
class TransferStep:
    """One line of a transfer plan (OpenNebula's CLONE/LN/MKSWAP/... commands)."""

    op: str                          # CLONE LN MKSWAP MKIMAGE CONTEXT MV CPDS RESIZE DELETE
    dst: Location
    src: Location | None = None
    size_mb: int = 0
    fstype: str = ""
    snapshot: int = -1               # CPDS: the disk snapshot to copy (-1: the disk as it is)

    def __str__(self) -> str:
        parts = [self.op] + ([str(self.src)] if self.src else []) + [str(self.dst)]
        return " ".join(parts + ([str(self.size_mb)] if self.size_mb else [])
                        + ([str(self.snapshot)] if self.snapshot >= 0 else []))


class TMDriver(Driver):
    """Transfer: executes the plans the core composes from a VM's disks."""

    kind = "tm"

    def execute(self, vm: VmView, steps: Sequence[TransferStep]) -> None:
        """Run every step in order; raise at the first that fails, naming it.

        A step may run again after it finished (a resumed plan runs whole):
        CLONE, LN, MKSWAP, MKIMAGE and CONTEXT replace their target, an MV
        whose source is gone and whose target is there succeeds, a DELETE of
        a missing path succeeds.
        """
        raise self._unsupported("execute")


class VNMDriver(Driver):
    """Networking on the host around VMM actions; each may run again after it finished."""

    kind = "vnm"

    def pre(self, vm: VmView, host: HostView) -> None:
        """Before boot and migration: create bridges, VLANs, tunnels."""
        raise self._unsupported("pre")

    def post(self, vm: VmView, host: HostView) -> None:
        """After boot: filtering rules on the VM's taps."""
        raise self._unsupported("post")

    def clean(self, vm: VmView, host: HostView) -> None:
        """After shutdown, cancel and migration away: undo pre and post."""
        raise self._unsupported("clean")


_BASES = (Driver, VMMDriver, IMDriver, TMDriver, VNMDriver)
DRIVER_KINDS: dict[str, type[Driver]] = {
    "vmm": VMMDriver, "im": IMDriver, "tm": TMDriver, "vnm": VNMDriver}
