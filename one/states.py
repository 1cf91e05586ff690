"""OpenNebula's state numbers, as they travel on the wire.

No imports on purpose: drivers, the CLI and the core all share these.
"""
from enum import IntEnum


class VmState(IntEnum):
    INIT = 0
    PENDING = 1
    HOLD = 2
    ACTIVE = 3
    STOPPED = 4
    SUSPENDED = 5
    DONE = 6
    FAILED = 7
    POWEROFF = 8
    UNDEPLOYED = 9
    CLONING = 10
    CLONING_FAILURE = 11


class LcmState(IntEnum):
    LCM_INIT = 0
    PROLOG = 1
    BOOT = 2
    RUNNING = 3
    MIGRATE = 4
    SAVE_STOP = 5
    SAVE_SUSPEND = 6
    SAVE_MIGRATE = 7
    PROLOG_MIGRATE = 8
    PROLOG_RESUME = 9
    EPILOG_STOP = 10
    EPILOG = 11
    SHUTDOWN = 12
    CANCEL = 13
    FAILURE = 14
    CLEANUP_RESUBMIT = 15
    UNKNOWN = 16
    HOTPLUG = 17
    SHUTDOWN_POWEROFF = 18
    BOOT_UNKNOWN = 19
    BOOT_POWEROFF = 20
    BOOT_SUSPENDED = 21
    BOOT_STOPPED = 22
    CLEANUP_DELETE = 23
    HOTPLUG_SNAPSHOT = 24
    HOTPLUG_NIC = 25
    HOTPLUG_SAVEAS = 26
    HOTPLUG_SAVEAS_POWEROFF = 27
    HOTPLUG_SAVEAS_SUSPENDED = 28
    SHUTDOWN_UNDEPLOY = 29
    EPILOG_UNDEPLOY = 30
    PROLOG_UNDEPLOY = 31
    BOOT_UNDEPLOY = 32
    HOTPLUG_PROLOG_POWEROFF = 33
    HOTPLUG_EPILOG_POWEROFF = 34
    BOOT_MIGRATE = 35
    BOOT_FAILURE = 36
    BOOT_MIGRATE_FAILURE = 37
    PROLOG_MIGRATE_FAILURE = 38
    PROLOG_FAILURE = 39
    EPILOG_FAILURE = 40
    EPILOG_STOP_FAILURE = 41
    EPILOG_UNDEPLOY_FAILURE = 42
    PROLOG_MIGRATE_POWEROFF = 43
    PROLOG_MIGRATE_POWEROFF_FAILURE = 44
    PROLOG_MIGRATE_SUSPEND = 45
    PROLOG_MIGRATE_SUSPEND_FAILURE = 46
    BOOT_UNDEPLOY_FAILURE = 47
    BOOT_STOPPED_FAILURE = 48
    PROLOG_RESUME_FAILURE = 49
    PROLOG_UNDEPLOY_FAILURE = 50
    DISK_SNAPSHOT_POWEROFF = 51
    DISK_SNAPSHOT_REVERT_POWEROFF = 52
    DISK_SNAPSHOT_DELETE_POWEROFF = 53
    DISK_SNAPSHOT_SUSPENDED = 54
    DISK_SNAPSHOT_DELETE_SUSPENDED = 56
    DISK_SNAPSHOT = 57
    DISK_SNAPSHOT_DELETE = 59
    PROLOG_MIGRATE_UNKNOWN = 60
    PROLOG_MIGRATE_UNKNOWN_FAILURE = 61
    DISK_RESIZE = 62
    DISK_RESIZE_POWEROFF = 63
    DISK_RESIZE_UNDEPLOYED = 64
    HOTPLUG_NIC_POWEROFF = 65
    HOTPLUG_RESIZE = 66
    HOTPLUG_SAVEAS_UNDEPLOYED = 67
    HOTPLUG_SAVEAS_STOPPED = 68
    BACKUP = 69
    BACKUP_POWEROFF = 70
    RESTORE = 71


class HostState(IntEnum):
    INIT = 0
    MONITORING_MONITORED = 1
    MONITORED = 2
    ERROR = 3
    DISABLED = 4
    MONITORING_ERROR = 5
    MONITORING_INIT = 6
    MONITORING_DISABLED = 7
    OFFLINE = 8


class HostStatus(IntEnum):
    """Argument of one.host.status."""

    ENABLED = 0
    DISABLED = 1
    OFFLINE = 2


class VnetState(IntEnum):
    INIT = 0
    READY = 1
    LOCK_CREATE = 2
    LOCK_DELETE = 3
    DONE = 4
    ERROR = 5
    UPDATE_FAILURE = 6


class HistoryAction(IntEnum):
    """HISTORY/ACTION numbers of OpenNebula 7 (what ended a history record)."""

    NONE = 0
    MIGRATE = 1
    LIVE_MIGRATE = 2
    SHUTDOWN = 3
    SHUTDOWN_HARD = 4
    UNDEPLOY = 5
    UNDEPLOY_HARD = 6
    HOLD = 7
    RELEASE = 8
    STOP = 9
    SUSPEND = 10
    RESUME = 11
    BOOT = 12
    DELETE = 13
    DELETE_RECREATE = 14
    REBOOT = 15
    REBOOT_HARD = 16
    RESCHED = 17
    UNRESCHED = 18
    POWEROFF = 19
    POWEROFF_HARD = 20
    DISK_ATTACH = 21
    DISK_DETACH = 22
    NIC_ATTACH = 23
    NIC_DETACH = 24
    TERMINATE = 27
    TERMINATE_HARD = 28
    DEPLOY = 30
    CHOWN = 31
    CHMOD = 32
    RENAME = 34
    UPDATE = 36
    RECOVER = 42
    # Changes in place (one/core/lifecycle/changes.py).
    DISK_SNAPSHOT_CREATE = 25
    DISK_SNAPSHOT_DELETE = 26
    DISK_RESIZE = 29
    RESIZE = 35
    SNAPSHOT_CREATE = 37
    SNAPSHOT_DELETE = 38
    SNAPSHOT_REVERT = 39
    DISK_SNAPSHOT_REVERT = 41


# Short names the CLI shows, as OpenNebula's onevm does.
VM_SHORT: dict[int, str] = {
    VmState.INIT: "init", VmState.PENDING: "pend", VmState.HOLD: "hold",
    VmState.ACTIVE: "actv", VmState.STOPPED: "stop", VmState.SUSPENDED: "susp",
    VmState.DONE: "done", VmState.FAILED: "fail", VmState.POWEROFF: "poff",
    VmState.UNDEPLOYED: "unde", VmState.CLONING: "clon", VmState.CLONING_FAILURE: "fail",
}

LCM_SHORT: dict[int, str] = {
    LcmState.LCM_INIT: "init", LcmState.PROLOG: "prol", LcmState.BOOT: "boot",
    LcmState.RUNNING: "runn", LcmState.MIGRATE: "migr", LcmState.SAVE_STOP: "save",
    LcmState.SAVE_SUSPEND: "save", LcmState.SAVE_MIGRATE: "save",
    LcmState.PROLOG_MIGRATE: "migr", LcmState.PROLOG_RESUME: "prol",
    LcmState.EPILOG_STOP: "epil", LcmState.EPILOG: "epil", LcmState.SHUTDOWN: "shut",
    LcmState.CLEANUP_RESUBMIT: "clea", LcmState.UNKNOWN: "unkn", LcmState.HOTPLUG: "hotp",
    LcmState.SHUTDOWN_POWEROFF: "shut", LcmState.BOOT_UNKNOWN: "boot",
    LcmState.BOOT_POWEROFF: "boot", LcmState.BOOT_SUSPENDED: "boot",
    LcmState.BOOT_STOPPED: "boot", LcmState.CLEANUP_DELETE: "clea",
    LcmState.SHUTDOWN_UNDEPLOY: "shut", LcmState.EPILOG_UNDEPLOY: "epil",
    LcmState.PROLOG_UNDEPLOY: "prol", LcmState.BOOT_UNDEPLOY: "boot",
    LcmState.BOOT_MIGRATE: "boot",
    **{state: "snap" for state in LcmState if "SNAPSHOT" in state.name},
    **{state: "drsz" for state in LcmState if state.name.startswith("DISK_RESIZE")},
    LcmState.HOTPLUG_RESIZE: "hotp",
}

HOST_SHORT = {
    HostState.INIT: "init", HostState.MONITORING_MONITORED: "update",
    HostState.MONITORED: "on", HostState.ERROR: "err", HostState.DISABLED: "dsbl",
    HostState.MONITORING_ERROR: "retry", HostState.MONITORING_INIT: "init",
    HostState.MONITORING_DISABLED: "dsbl", HostState.OFFLINE: "off",
}


_FAILED_LCM = frozenset(s for s in LcmState if s.name.endswith("FAILURE"))


def vm_short_state(state: int, lcm_state: int) -> str:
    """The four-letter STAT column: the LCM name while ACTIVE, else the VM one."""
    if state == VmState.ACTIVE:
        return "fail" if lcm_state in _FAILED_LCM else LCM_SHORT.get(lcm_state, "actv")
    return VM_SHORT.get(state, "unkn")


class ImageState(IntEnum):
    INIT = 0
    READY = 1
    USED = 2
    DISABLED = 3
    LOCKED = 4
    ERROR = 5
    CLONE = 6
    DELETE = 7
    USED_PERS = 8
    LOCKED_USED = 9
    LOCKED_USED_PERS = 10


class ImageType(IntEnum):
    OS = 0
    CDROM = 1
    DATABLOCK = 2
    KERNEL = 3
    RAMDISK = 4
    CONTEXT = 5
    BACKUP = 6
    FILESYSTEM = 7


class DatastoreType(IntEnum):
    IMAGE = 0
    SYSTEM = 1
    FILE = 2


class DatastoreState(IntEnum):
    READY = 0
    DISABLED = 1


class ServiceState(IntEnum):
    """OneFlow's service (and role) states, as its REST API and documents carry them."""

    PENDING = 0
    DEPLOYING = 1
    RUNNING = 2
    UNDEPLOYING = 3
    WARNING = 4
    DONE = 5
    FAILED_UNDEPLOYING = 6
    FAILED_DEPLOYING = 7
    SCALING = 8
    FAILED_SCALING = 9
    COOLDOWN = 10
