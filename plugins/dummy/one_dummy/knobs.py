"""Delay and failure injection: how tests and benchmarks steer the dummy drivers.

Three places may ask for a delay or a failure, from the broadest to the most
specific: the driver settings (`DELAY`, `FAIL` in oned.conf), the host
TEMPLATE and the VM USER_TEMPLATE (`DUMMY_DELAY`, `DUMMY_FAIL`). An action
fails if any of them names it; it waits for the delay of the most specific
place that sets one. Values are checked when an action reads them, so a bad
one fails that action with an error naming the attribute and where it is.
"""
from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from one.plugins import Driver, HostView, TemplateView, VmView

ACTIONS = frozenset({
    "deploy", "shutdown", "cancel", "reboot", "reset", "save", "restore", "migrate", "poll",
    "monitor", "execute", "pre", "post", "clean",
    "attach_disk", "detach_disk", "attach_nic", "detach_nic",
    "snapshot_create", "snapshot_revert", "snapshot_delete", "disk_snapshot_create",
    "disk_snapshot_revert", "disk_snapshot_delete", "disk_resize", "resize", "update_conf",
})

N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Knobs:
    """The delay and failure settings found in one place, still as written."""

    where: str              # "in the driver settings", "in the USER_TEMPLATE of VM 3"
    delay_attr: str
    fail_attr: str
    delay: str | None
    fail: str | None

    def seconds(self) -> float | None:
        if self.delay is None:
            return None
        return number(self.delay, f"{self.delay_attr} {self.where}", float, "a number of seconds")

    def failing(self) -> frozenset[str]:
        names = frozenset((self.fail or "").lower().split())
        unknown = sorted(names - ACTIONS)
        if unknown:
            raise ValueError(
                f"dummy: {self.fail_attr} {self.where} names unknown actions {unknown} "
                f"(known: {' '.join(sorted(ACTIONS))})")
        return names


def number(value: str, what: str, kind: Callable[[str], N], meaning: str) -> N:
    """Parse a non-negative finite number, or say which attribute is wrong."""
    try:
        parsed = kind(value.strip())
    except ValueError:
        parsed = None
    if parsed is None or not math.isfinite(parsed) or parsed < 0:
        raise ValueError(f"dummy: {what} is {value!r}, not {meaning}")
    return parsed


F = TypeVar("F", bound=Callable[..., Any])


def steered(method: F) -> F:
    """Apply the knobs of the VM and hosts among the arguments, named by the method."""
    @functools.wraps(method)
    def run(self: Driver, *args: Any, **kwargs: Any) -> Any:
        given = list(args) + list(kwargs.values())
        vm = next((arg for arg in given if isinstance(arg, VmView)), None)
        hosts = [arg for arg in given if isinstance(arg, HostView)]
        inject(method.__name__, gather(self.config, vm, hosts))
        return method(self, *args, **kwargs)
    return cast(F, run)


def from_settings(config: Mapping[str, str]) -> Knobs:
    return Knobs("in the driver settings", "DELAY", "FAIL", config.get("DELAY"), config.get("FAIL"))


def from_template(template: TemplateView, where: str) -> Knobs:
    return Knobs(where, "DUMMY_DELAY", "DUMMY_FAIL",
                 template.get("DUMMY_DELAY"), template.get("DUMMY_FAIL"))


def gather(config: Mapping[str, str], vm: VmView | None,
           hosts: Iterable[HostView]) -> list[Knobs]:
    """Every place that may steer an action, broadest first."""
    found = [from_settings(config)]
    found += [from_template(host.template, f"in the TEMPLATE of host {host.name}")
              for host in hosts]
    if vm is not None:
        found.append(from_template(vm.user_template, f"in the USER_TEMPLATE of VM {vm.id}"))
    return found


def inject(action: str, knobs: Sequence[Knobs]) -> None:
    """Wait, then fail if asked to: a delayed failure is what a slow host looks like."""
    delay = 0.0
    fails = False
    for place in knobs:
        seconds = place.seconds()
        delay = delay if seconds is None else seconds
        fails = action in place.failing() or fails
    if delay:
        time.sleep(delay)
    if fails:
        raise RuntimeError(f"dummy: injected failure of {action}")
