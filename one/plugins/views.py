"""What drivers see: frozen views of VMs, hosts and templates, never DB rows.

A driver runs in its own thread while the core goes on changing the objects;
a view is a snapshot taken when the work was submitted, so it cannot change
under the driver nor be written back by it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping, Union

ViewValue = Union[str, Mapping[str, str]]


@dataclass(frozen=True)
class TemplateView:
    """Read-only template: singles are strings, vectors read-only mappings."""

    attrs: tuple[tuple[str, ViewValue], ...] = ()

    @classmethod
    def of(cls, attrs: Iterable[tuple[str, ViewValue]]) -> "TemplateView":
        return cls(tuple((name, value if isinstance(value, str)
                          else MappingProxyType(dict(value)))
                         for name, value in attrs))

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first single value of that name."""
        name = name.upper()
        return next((v for n, v in self.attrs if n == name and isinstance(v, str)), default)

    def vectors(self, name: str) -> list[Mapping[str, str]]:
        name = name.upper()
        return [v for n, v in self.attrs if n == name and not isinstance(v, str)]

    def vector(self, name: str) -> Mapping[str, str] | None:
        found = self.vectors(name)
        return found[0] if found else None


@dataclass(frozen=True)
class HostView:
    id: int
    name: str
    state: int
    im_mad: str
    vm_mad: str
    cluster_id: int = 0
    template: TemplateView = field(default_factory=TemplateView)


@dataclass(frozen=True)
class VmView:
    """A VM as a driver gets it, with the paths of its current placement."""

    id: int
    name: str
    uid: int
    gid: int
    uname: str
    state: int
    lcm_state: int
    deploy_id: str
    template: TemplateView          # the system TEMPLATE (CPU, MEMORY, DISK, NIC, CONTEXT...)
    user_template: TemplateView
    host: str | None = None         # current host name, None before deployment
    previous_host: str | None = None
    system_dir: str = ""            # the VM's directory on its host (disks, checkpoint)
    local_dir: str = ""             # the VM's directory on the front-end
    xml: str = ""                   # the full VM document, as OpenNebula drivers receive it

    @property
    def checkpoint(self) -> str:
        return f"{self.system_dir}/checkpoint"


def disk_number(disk: Mapping[str, str], position: int) -> int:
    """N of the disk's file `disk.N` on its host: its DISK_ID, which hotplug keeps
    stable (a disk detached leaves a gap); its position for a vector without one."""
    value = disk.get("DISK_ID", "")
    return int(value) if value.isdigit() else position


def context_number(template: TemplateView) -> int:
    """N of the CONTEXT CD-ROM's `disk.N`: its DISK_ID once a hotplug fixed it,
    else the one after the last disk (as allocation numbers them)."""
    value = (template.vector("CONTEXT") or {}).get("DISK_ID", "")
    return int(value) if value.isdigit() else len(template.vectors("DISK"))
