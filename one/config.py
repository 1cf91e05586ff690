"""oned.conf: OpenNebula's template syntax, defaults, environment overrides.

Precedence, lowest first: built-in defaults, the config file, ONE_* environment
variables, command-line flags (applied by the daemon).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from one.errors import OneError
from one.pool.template import DEFAULT_LIMITS, Limits, Template, parse_text

_ENV = {"ONE_LISTEN": "LISTEN_ADDRESS", "ONE_PORT": "PORT", "ONE_DB": "DB",
        "ONE_VAR": "VAR_LOCATION"}


# OpenNebula 7.x's oned.conf defaults, plus what a NIC or a disk without an image could
# otherwise point at (the network driver and device, a front-end file, an image's file).
VM_RESTRICTED_ATTR = (
    "CONTEXT/FILES", "NIC/MAC", "NIC/VLAN_ID", "NIC/BRIDGE", "NIC/VN_MAD", "NIC/PHYDEV",
    "NIC_DEFAULT/MAC", "NIC_DEFAULT/VLAN_ID", "NIC_DEFAULT/BRIDGE", "DISK/TOTAL_BYTES_SEC",
    "DISK/READ_BYTES_SEC", "DISK/WRITE_BYTES_SEC", "DISK/TOTAL_IOPS_SEC", "DISK/READ_IOPS_SEC",
    "DISK/WRITE_IOPS_SEC", "DISK/ORIGINAL_SIZE", "DISK/SOURCE", "DISK/SAVE_AS",
    "DISK/SAVE_AS_SOURCE", "DISK/SAVE_AS_SNAPSHOT_ID", "CPU_COST", "MEMORY_COST", "DISK_COST",
    "PCI", "USER_INPUTS")
IMAGE_RESTRICTED_ATTR = ("SOURCE",)
VNET_RESTRICTED_ATTR = ("VN_MAD", "PHYDEV", "VLAN_ID", "BRIDGE", "AR/VN_MAD", "AR/PHYDEV",
                        "AR/VLAN_ID", "AR/BRIDGE")


def default_var_dir() -> str:
    return str(Path.home() / ".one" / "var")


@dataclass
class Config:
    listen_address: str = "127.0.0.1"
    port: int = 2633
    var_location: str = field(default_factory=default_var_dir)
    db: str = ""                      # URL or path; empty: <var>/one.db
    mac_prefix: str = "02:00"
    vnc_base_port: int = 5900
    default_umask: int = 0o177
    network_size: int = 254
    vlan_start: int = 2               # first VLAN_ID handed out automatically
    sched: str = "yes"                # "no": deployment only through one.vm.deploy
    datastore_location: str = "/var/lib/one/datastores"  # VM directories on hosts
    tm_mad_system: str = "dummy"      # transfer driver of the system datastore (at bootstrap)
    default_tm_mad: str = "dummy"     # transfer driver of the image datastores (at bootstrap)
    default_vn_mad: str = "dummy"     # network driver of NICs whose network names none
    sched_interval: int = 15          # seconds between scheduler cycles (also woken on demand)
    monitoring_interval: int = 60     # seconds between host probes
    host_monitoring_expiration_time: int = 43200  # seconds host samples are kept (0: none)
    vm_monitoring_expiration_time: int = 14400    # seconds VM samples are kept (0: none)
    sched_action_interval: int = 30   # seconds between runs of due scheduled actions
    driver_timeout: int = 600         # seconds a driver operation may take
    driver_retries: int = 0           # retries of a failed driver operation
    driver_threads: int = 16          # threads per driver
    plugin_block: str = ""            # space-separated plugin names not to load
    # Attributes only the oneadmin group may set (one value per line in oned.conf).
    vm_restricted_attr: tuple[str, ...] = VM_RESTRICTED_ATTR
    image_restricted_attr: tuple[str, ...] = IMAGE_RESTRICTED_ATTR
    vnet_restricted_attr: tuple[str, ...] = VNET_RESTRICTED_ATTR
    template_max_size: int = DEFAULT_LIMITS.text    # characters of a user's template
    template_max_value: int = DEFAULT_LIMITS.value  # characters of one attribute value
    keepalive_timeout: int = 15       # seconds an idle XML-RPC connection stays open
    message_size: int = 256 * 1024 * 1024  # bytes an authenticated request body may have
    auth_user_failures: int = 10      # failed logins per user name in the window (0: no limit)
    auth_source_failures: int = 30    # failed logins per source address in the window (0: none)
    auth_failure_window: int = 300    # seconds failures are remembered, and the longest lockout
    auth_throttle_exempt: str = "127.0.0.0/8 ::1"  # sources not throttled per source
    template: Template = field(default_factory=Template)  # everything, for one.system.config

    @property
    def db_url(self) -> str:
        return self.db or os.path.join(self.var_location, "one.db")

    @property
    def template_limits(self) -> Limits:
        try:
            return Limits(self.template_max_size, self.template_max_value)
        except ValueError as exc:
            raise OneError(f"Configuration: TEMPLATE_MAX_SIZE/TEMPLATE_MAX_VALUE: {exc}") from None

    def apply(self, values: Mapping[str, str]) -> None:
        """Set known keys from strings, checking their types."""
        for key, value in values.items():
            attr = key.lower()
            if attr in ("template",) or not hasattr(self, attr):
                continue
            current = getattr(self, attr)
            try:
                if isinstance(current, tuple):
                    setattr(self, attr, tuple(value.upper().split()))
                elif attr == "default_umask":
                    setattr(self, attr, int(value, 8))
                elif isinstance(current, int):
                    setattr(self, attr, int(value))
                else:
                    setattr(self, attr, os.path.expanduser(value))
            except ValueError:
                raise OneError(f"Configuration: {key} = '{value}' is not a valid value") from None


_DRIVER_VECTORS = {"VM_MAD": "vmm", "IM_MAD": "im", "TM_MAD": "tm", "VN_MAD": "vnm"}


def driver_settings(template: Template) -> dict[str, dict[str, dict[str, str]]]:
    """`VM_MAD = [ NAME = "dummy", DELAY = "0.1" ]` and its kin: settings per driver."""
    settings: dict[str, dict[str, dict[str, str]]] = {kind: {} for kind in _DRIVER_VECTORS.values()}
    for key, kind in _DRIVER_VECTORS.items():
        for vector in template.vectors(key):
            name = vector.get("NAME")
            if name:
                settings[kind][name] = {k: v for k, v in vector.items() if k != "NAME"}
    return settings


def _db_url(template: Template) -> str | None:
    """`DB = [ BACKEND = postgresql, SERVER = ..., ... ]` or a plain string."""
    vector = template.vector("DB")
    if vector is None:
        return template.get("DB")
    backend = vector.get("BACKEND", "sqlite").lower()
    if backend == "sqlite":
        return vector.get("PATH", "")
    auth = f"{vector.get('USER', '')}:{vector.get('PASSWD', '')}@" if "USER" in vector else ""
    return (f"postgresql://{auth}{vector.get('SERVER', 'localhost')}:"
            f"{vector.get('PORT', '5432')}/{vector.get('DB_NAME', 'opennebula')}")


def _value(config: Config, name: str) -> str | None:
    """The key's value; for a list key (VM_RESTRICTED_ATTR), every line of it."""
    if not isinstance(getattr(config, name.lower(), None), tuple):
        return config.template.get(name)
    return " ".join(value for value in config.template.values(name) if isinstance(value, str))


def load_config(path: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    config = Config()
    if path:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise OneError(f"Cannot read configuration file {path}: {exc.strerror}") from None
        config.template = parse_text(text)
        values = {name: _value(config, name) for name in config.template.names()}
        values["DB"] = _db_url(config.template)
        config.apply({k: v for k, v in values.items() if v is not None})
    env = os.environ if environ is None else environ
    config.apply({attr: env[var] for var, attr in _ENV.items() if env.get(var)})
    return config
