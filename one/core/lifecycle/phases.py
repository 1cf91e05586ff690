"""Phases (STATE, LCM_STATE) and the tables that move VMs between them.

Three tables, as data: what each user action does from each phase, what a
phase becomes when its driver operation succeeds or fails, and what a failure
phase retries. The engine applies them; nothing here has behaviour.
"""
from __future__ import annotations

from one.states import HistoryAction as H
from one.states import LcmState as L
from one.states import VmState as S

Phase = tuple[int, int]


def _active(lcm: L) -> Phase:
    return (S.ACTIVE, lcm)


INIT, PENDING, HOLD = (S.INIT, 0), (S.PENDING, 0), (S.HOLD, 0)
STOPPED, SUSPENDED, DONE = (S.STOPPED, 0), (S.SUSPENDED, 0), (S.DONE, 0)
POWEROFF, UNDEPLOYED = (S.POWEROFF, 0), (S.UNDEPLOYED, 0)
(PROLOG, BOOT, RUNNING, MIGRATE, SAVE_STOP, SAVE_SUSPEND, SAVE_MIGRATE, PROLOG_MIGRATE,
 PROLOG_RESUME, EPILOG_STOP, EPILOG, SHUTDOWN, CLEANUP_RESUBMIT, UNKNOWN, SHUTDOWN_POWEROFF,
 BOOT_UNKNOWN, BOOT_POWEROFF, BOOT_SUSPENDED, BOOT_STOPPED, CLEANUP_DELETE, SHUTDOWN_UNDEPLOY,
 EPILOG_UNDEPLOY, PROLOG_UNDEPLOY, BOOT_UNDEPLOY, BOOT_MIGRATE, PROLOG_MIGRATE_POWEROFF,
 PROLOG_MIGRATE_SUSPEND) = (_active(x) for x in (
    L.PROLOG, L.BOOT, L.RUNNING, L.MIGRATE, L.SAVE_STOP, L.SAVE_SUSPEND, L.SAVE_MIGRATE,
    L.PROLOG_MIGRATE, L.PROLOG_RESUME, L.EPILOG_STOP, L.EPILOG, L.SHUTDOWN, L.CLEANUP_RESUBMIT,
    L.UNKNOWN, L.SHUTDOWN_POWEROFF, L.BOOT_UNKNOWN, L.BOOT_POWEROFF, L.BOOT_SUSPENDED,
    L.BOOT_STOPPED, L.CLEANUP_DELETE, L.SHUTDOWN_UNDEPLOY, L.EPILOG_UNDEPLOY, L.PROLOG_UNDEPLOY,
    L.BOOT_UNDEPLOY, L.BOOT_MIGRATE, L.PROLOG_MIGRATE_POWEROFF, L.PROLOG_MIGRATE_SUSPEND))

# Transitional phase -> (phase on success, phase on failure) of its driver operation.
REPLIES: dict[Phase, tuple[Phase, Phase]] = {
    PROLOG: (BOOT, _active(L.PROLOG_FAILURE)),
    BOOT: (RUNNING, _active(L.BOOT_FAILURE)),
    SHUTDOWN: (EPILOG, RUNNING),
    EPILOG: (DONE, _active(L.EPILOG_FAILURE)),
    SHUTDOWN_POWEROFF: (POWEROFF, RUNNING),
    BOOT_POWEROFF: (RUNNING, POWEROFF),
    BOOT_UNKNOWN: (RUNNING, UNKNOWN),
    BOOT_SUSPENDED: (RUNNING, SUSPENDED),
    SHUTDOWN_UNDEPLOY: (EPILOG_UNDEPLOY, RUNNING),
    EPILOG_UNDEPLOY: (UNDEPLOYED, _active(L.EPILOG_UNDEPLOY_FAILURE)),
    PROLOG_UNDEPLOY: (BOOT_UNDEPLOY, _active(L.PROLOG_UNDEPLOY_FAILURE)),
    BOOT_UNDEPLOY: (RUNNING, _active(L.BOOT_UNDEPLOY_FAILURE)),
    SAVE_STOP: (EPILOG_STOP, RUNNING),
    EPILOG_STOP: (STOPPED, _active(L.EPILOG_STOP_FAILURE)),
    PROLOG_RESUME: (BOOT_STOPPED, _active(L.PROLOG_RESUME_FAILURE)),
    BOOT_STOPPED: (RUNNING, _active(L.BOOT_STOPPED_FAILURE)),
    SAVE_SUSPEND: (SUSPENDED, RUNNING),
    SAVE_MIGRATE: (PROLOG_MIGRATE, RUNNING),
    PROLOG_MIGRATE: (BOOT_MIGRATE, _active(L.PROLOG_MIGRATE_FAILURE)),
    BOOT_MIGRATE: (RUNNING, _active(L.BOOT_MIGRATE_FAILURE)),
    PROLOG_MIGRATE_POWEROFF: (POWEROFF, _active(L.PROLOG_MIGRATE_POWEROFF_FAILURE)),
    PROLOG_MIGRATE_SUSPEND: (SUSPENDED, _active(L.PROLOG_MIGRATE_SUSPEND_FAILURE)),
    MIGRATE: (RUNNING, RUNNING),
    CLEANUP_DELETE: (DONE, DONE),
    CLEANUP_RESUBMIT: (PENDING, PENDING),
}

# Failure phase -> the transitional phase `recover --retry` runs again.
RETRY: dict[Phase, Phase] = {fail: phase for phase, (_, fail) in REPLIES.items()
                             if L(fail[1]).name.endswith("_FAILURE")}
FAILURES = frozenset(RETRY)

# Phases that leave the host: the VM's history record closes and its capacity is freed.
OFF_HOST = frozenset({DONE, STOPPED, UNDEPLOYED, PENDING})

# User action -> [(from phases, to phase, HISTORY/ACTION recorded)].
ACTIONS: dict[str, list[tuple[frozenset[Phase], Phase, int]]] = {
    "hold": [(frozenset({PENDING}), HOLD, H.HOLD)],
    "release": [(frozenset({HOLD}), PENDING, H.RELEASE)],
    "terminate": [
        (frozenset({RUNNING, UNKNOWN}), SHUTDOWN, H.TERMINATE),
        (frozenset({POWEROFF, SUSPENDED}), EPILOG, H.TERMINATE),
        (frozenset({INIT, PENDING, HOLD, STOPPED, UNDEPLOYED}), DONE, H.TERMINATE),
        (FAILURES, CLEANUP_DELETE, H.TERMINATE)],
    "terminate-hard": [
        (frozenset({RUNNING, UNKNOWN, SHUTDOWN}), SHUTDOWN, H.TERMINATE_HARD),
        (frozenset({POWEROFF, SUSPENDED}), EPILOG, H.TERMINATE_HARD),
        (frozenset({INIT, PENDING, HOLD, STOPPED, UNDEPLOYED}), DONE, H.TERMINATE_HARD),
        (FAILURES, CLEANUP_DELETE, H.TERMINATE_HARD)],
    "undeploy": [(frozenset({RUNNING, UNKNOWN}), SHUTDOWN_UNDEPLOY, H.UNDEPLOY),
                 (frozenset({POWEROFF}), EPILOG_UNDEPLOY, H.UNDEPLOY)],
    "undeploy-hard": [(frozenset({RUNNING, UNKNOWN, SHUTDOWN_UNDEPLOY}), SHUTDOWN_UNDEPLOY,
                       H.UNDEPLOY_HARD),
                      (frozenset({POWEROFF}), EPILOG_UNDEPLOY, H.UNDEPLOY_HARD)],
    "poweroff": [(frozenset({RUNNING, UNKNOWN}), SHUTDOWN_POWEROFF, H.POWEROFF)],
    "poweroff-hard": [(frozenset({RUNNING, UNKNOWN, SHUTDOWN_POWEROFF}), SHUTDOWN_POWEROFF,
                       H.POWEROFF_HARD)],
    "stop": [(frozenset({RUNNING}), SAVE_STOP, H.STOP)],
    "suspend": [(frozenset({RUNNING}), SAVE_SUSPEND, H.SUSPEND)],
    "resume": [
        (frozenset({STOPPED, UNDEPLOYED}), PENDING, H.RESUME),
        (frozenset({SUSPENDED}), BOOT_SUSPENDED, H.RESUME),
        (frozenset({POWEROFF}), BOOT_POWEROFF, H.RESUME),
        (frozenset({UNKNOWN}), BOOT_UNKNOWN, H.RESUME)],
    "reboot": [(frozenset({RUNNING}), RUNNING, H.REBOOT)],
    "reboot-hard": [(frozenset({RUNNING}), RUNNING, H.REBOOT_HARD)],
    "resched": [(frozenset({RUNNING, UNKNOWN, POWEROFF}), RUNNING, H.RESCHED)],
    "unresched": [(frozenset({RUNNING, UNKNOWN, POWEROFF}), RUNNING, H.UNRESCHED)],
}
# Actions that only set a flag or run a driver call: the phase does not change.
IN_PLACE = frozenset({"reboot", "reboot-hard", "resched", "unresched"})

# Where one.vm.deploy may start, and the phase it enters.
DEPLOY_FROM: dict[Phase, Phase] = {
    PENDING: PROLOG, HOLD: PROLOG, STOPPED: PROLOG_RESUME, UNDEPLOYED: PROLOG_UNDEPLOY}
# A pending VM whose last placement ended this way deploys through its resume prolog.
REDEPLOY_AFTER: dict[int, Phase] = {H.STOP: PROLOG_RESUME, H.UNDEPLOY: PROLOG_UNDEPLOY,
                                    H.UNDEPLOY_HARD: PROLOG_UNDEPLOY}
# Where one.vm.migrate may start: (live?) -> {from: to}.
MIGRATE_FROM: dict[bool, dict[Phase, Phase]] = {
    True: {RUNNING: MIGRATE},
    False: {RUNNING: SAVE_MIGRATE, UNKNOWN: PROLOG_MIGRATE, POWEROFF: PROLOG_MIGRATE_POWEROFF,
            SUSPENDED: PROLOG_MIGRATE_SUSPEND},
}
# Phases a migration starts in (the source record keeps the running times).
MIGRATION_STARTS = frozenset(MIGRATE_FROM[True].values()) | frozenset(MIGRATE_FROM[False].values())

# The driver operation each transitional phase runs on entry.
OPERATIONS: dict[Phase, str] = {
    PROLOG: "prolog", PROLOG_RESUME: "prolog_resume", PROLOG_UNDEPLOY: "prolog_resume",
    PROLOG_MIGRATE: "prolog_migrate", PROLOG_MIGRATE_POWEROFF: "prolog_migrate",
    PROLOG_MIGRATE_SUSPEND: "prolog_migrate",
    BOOT: "boot", BOOT_UNDEPLOY: "boot", BOOT_POWEROFF: "boot", BOOT_UNKNOWN: "boot",
    BOOT_STOPPED: "restore", BOOT_SUSPENDED: "restore", BOOT_MIGRATE: "restore",
    SHUTDOWN: "shutdown", SHUTDOWN_POWEROFF: "shutdown", SHUTDOWN_UNDEPLOY: "shutdown",
    SAVE_STOP: "save", SAVE_SUSPEND: "save", SAVE_MIGRATE: "save",
    EPILOG: "epilog", EPILOG_STOP: "epilog_stop", EPILOG_UNDEPLOY: "epilog_stop",
    MIGRATE: "migrate", CLEANUP_DELETE: "cleanup", CLEANUP_RESUBMIT: "cleanup",
}
# Phases in which a VM holds its source and its target host: the source record stays
# open until the guest is saved (cold) or has moved (live), or the migration is undone.
TWO_HOSTS = frozenset({SAVE_MIGRATE, MIGRATE})
HARD_ACTIONS = frozenset({H.TERMINATE_HARD, H.UNDEPLOY_HARD, H.POWEROFF_HARD})

# Hotplug of disks and NICs (one.core.hotplug): the device in flight carries ATTACH or
# DETACH = YES; success and failure both go back where the VM was, the device kept or
# dropped by one.core.devices.
HOTPLUG, HOTPLUG_NIC = _active(L.HOTPLUG), _active(L.HOTPLUG_NIC)
HOTPLUG_PROLOG_POWEROFF = _active(L.HOTPLUG_PROLOG_POWEROFF)
HOTPLUG_EPILOG_POWEROFF = _active(L.HOTPLUG_EPILOG_POWEROFF)
HOTPLUG_PHASES = frozenset({HOTPLUG, HOTPLUG_NIC, HOTPLUG_PROLOG_POWEROFF, HOTPLUG_EPILOG_POWEROFF})
REPLIES.update({HOTPLUG: (RUNNING, RUNNING), HOTPLUG_NIC: (RUNNING, RUNNING),
                HOTPLUG_PROLOG_POWEROFF: (POWEROFF, POWEROFF),
                HOTPLUG_EPILOG_POWEROFF: (POWEROFF, POWEROFF)})
OPERATIONS.update({HOTPLUG: "hotplug_disk", HOTPLUG_NIC: "hotplug_nic",
                   HOTPLUG_PROLOG_POWEROFF: "hotplug_disk_files",
                   HOTPLUG_EPILOG_POWEROFF: "hotplug_disk_files"})
# -- changes in place: snapshots, disk resize, live resize (see changes.py) -------------------
(HOTPLUG_SNAPSHOT, DISK_SNAPSHOT, DISK_SNAPSHOT_DELETE, DISK_SNAPSHOT_POWEROFF,
 DISK_SNAPSHOT_REVERT_POWEROFF, DISK_SNAPSHOT_DELETE_POWEROFF, DISK_SNAPSHOT_SUSPENDED,
 DISK_SNAPSHOT_DELETE_SUSPENDED, DISK_RESIZE, DISK_RESIZE_POWEROFF, DISK_RESIZE_UNDEPLOYED,
 HOTPLUG_RESIZE) = (
    _active(x) for x in (
        L.HOTPLUG_SNAPSHOT, L.DISK_SNAPSHOT, L.DISK_SNAPSHOT_DELETE, L.DISK_SNAPSHOT_POWEROFF,
        L.DISK_SNAPSHOT_REVERT_POWEROFF, L.DISK_SNAPSHOT_DELETE_POWEROFF,
        L.DISK_SNAPSHOT_SUSPENDED, L.DISK_SNAPSHOT_DELETE_SUSPENDED, L.DISK_RESIZE,
        L.DISK_RESIZE_POWEROFF, L.DISK_RESIZE_UNDEPLOYED, L.HOTPLUG_RESIZE))
# Change -> {phase it may start from: the phase it runs in}; it returns to where it started,
# whether the driver succeeds or fails (the change is then undone and the error recorded).
CHANGES: dict[str, dict[Phase, Phase]] = {
    "snapshot_create": {RUNNING: HOTPLUG_SNAPSHOT},
    "snapshot_revert": {RUNNING: HOTPLUG_SNAPSHOT},
    "snapshot_delete": {RUNNING: HOTPLUG_SNAPSHOT},
    "disk_snapshot_create": {RUNNING: DISK_SNAPSHOT, POWEROFF: DISK_SNAPSHOT_POWEROFF,
                             SUSPENDED: DISK_SNAPSHOT_SUSPENDED},
    "disk_snapshot_revert": {POWEROFF: DISK_SNAPSHOT_REVERT_POWEROFF},
    "disk_snapshot_delete": {RUNNING: DISK_SNAPSHOT_DELETE, POWEROFF: DISK_SNAPSHOT_DELETE_POWEROFF,
                             SUSPENDED: DISK_SNAPSHOT_DELETE_SUSPENDED},
    "disk_resize": {RUNNING: DISK_RESIZE, POWEROFF: DISK_RESIZE_POWEROFF,
                    UNDEPLOYED: DISK_RESIZE_UNDEPLOYED},
    "resize": {RUNNING: HOTPLUG_RESIZE},
}
CHANGE_PHASES = frozenset(to for starts in CHANGES.values() for to in starts.values())
REPLIES.update({to: (frm, frm) for starts in CHANGES.values() for frm, to in starts.items()})
OPERATIONS.update({to: "change" for to in CHANGE_PHASES})
