"""Scheduled actions: SCHED_ACTION vectors of a VM, run by the core at their time.

As oned 7: each has an ID, an ACTION (a `one.vm.action` verb), a TIME (epoch
seconds, or `+N`: N seconds after the VM's start), and may repeat: REPEAT 0
weekly on DAYS (0 Sunday .. 6), 1 monthly on DAYS (1 .. 31), 2 yearly on DAYS
(0 .. 365, day of the year), 3 every DAYS hours; END_TYPE 0 never ends, 1 after
END_VALUE runs, 2 at the date END_VALUE. After a run DONE holds its time and
MESSAGE its error, if any; a repeating action's TIME moves to its next
occurrence. Days are read in the server's local time, as oned does.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from one.core.lifecycle import records
from one.errors import ApiError, OneError
from one.pool.models import Vm
from one.pool.pools import Pools
from one.pool.template import Template
from one.states import VmState

log = logging.getLogger(__name__)
ACTIONS = frozenset({"terminate", "terminate-hard", "undeploy", "undeploy-hard", "hold",
                     "release", "stop", "suspend", "resume", "reboot", "reboot-hard",
                     "poweroff", "poweroff-hard", "resched", "unresched"})
NONE, WEEKLY, MONTHLY, YEARLY, HOURLY = -1, 0, 1, 2, 3
_DAY_RANGES = {WEEKLY: (0, 6), MONTHLY: (1, 31), YEARLY: (0, 365), HOURLY: (1, 168)}
Perform = Callable[[int, str], None]


def _int(vector: dict[str, str], key: str, default: int) -> int:
    text = vector.get(key, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ApiError(f"SCHED_ACTION {key} must be an integer, not '{text[:40]}'.") from None


def _time(text: str, stime: int) -> int:
    relative = text.strip().startswith("+")
    try:
        value = int(text.strip().lstrip("+"))
    except ValueError:
        raise ApiError(f"SCHED_ACTION TIME must be epoch seconds or +seconds, "
                       f"not '{text[:40]}'.") from None
    return stime + value if relative else value


def _days(text: str, repeat: int) -> list[int]:
    low, high = _DAY_RANGES[repeat]
    try:
        days = sorted({int(day) for day in text.split(",") if day.strip()})
    except ValueError:
        days = []
    if not days or not all(low <= d <= high for d in days) or (repeat == HOURLY and len(days) > 1):
        what = "one number" if repeat == HOURLY else "numbers"
        raise ApiError(f"SCHED_ACTION DAYS '{text[:40]}' must be {what} from {low} to {high} "
                       f"for REPEAT {repeat}.")
    return days


def checked(vector: dict[str, str], sid: int, stime: int) -> dict[str, str]:
    """A SCHED_ACTION as given, checked and completed with every field (schema order)."""
    action = vector.get("ACTION", "").strip().lower()
    if action not in ACTIONS:
        raise ApiError(f"SCHED_ACTION ACTION '{action[:40]}' is not a VM action this oned "
                       f"schedules ({', '.join(sorted(ACTIONS))}).")
    if not vector.get("TIME", "").strip():
        raise ApiError("SCHED_ACTION needs a TIME.")
    when = _time(vector["TIME"], stime)
    repeat = _int(vector, "REPEAT", NONE)
    if repeat not in (NONE, *_DAY_RANGES):
        raise ApiError(f"SCHED_ACTION REPEAT {repeat}: -1 none, 0 weekly, 1 monthly, 2 yearly, "
                       "3 hourly.")
    days = ",".join(map(str, _days(vector.get("DAYS", ""), repeat))) if repeat != NONE else ""
    end_type = _int(vector, "END_TYPE", NONE if repeat == NONE else 0)
    end_value = _int(vector, "END_VALUE", -1)
    if end_type not in (NONE, 0, 1, 2) or (end_type in (1, 2) and end_value <= 0):
        raise ApiError("SCHED_ACTION END_TYPE: 0 never, 1 after END_VALUE runs, 2 at the date "
                       "END_VALUE (both positive).")
    return {"ID": str(sid), "PARENT_ID": "-1", "TYPE": "VM", "ACTION": action,
            "ARGS": vector.get("ARGS", ""), "TIME": str(when), "REPEAT": str(repeat),
            "DAYS": days, "END_TYPE": str(end_type), "END_VALUE": str(end_value),
            "DONE": "-1", "MESSAGE": "", "WARNING": "0"}


def _matches(stamp: int, repeat: int, days: list[int]) -> bool:
    day = time.localtime(stamp)
    return {WEEKLY: (day.tm_wday + 1) % 7, MONTHLY: day.tm_mday,
            YEARLY: day.tm_yday - 1}[repeat] in days


def next_time(action: dict[str, str], now: int) -> int | None:
    """When a repeating action runs next after `now`, or None when it has ended."""
    repeat, start = int(action["REPEAT"]), int(action["TIME"])
    if repeat == NONE:
        return None
    days = [int(day) for day in action["DAYS"].split(",")]
    if repeat == HOURLY:
        step = days[0] * 3600
        found: int | None = start + ((max(now - start, 0) // step) + 1) * step
    else:
        first = max(1, (now - start) // 86400)
        found = next((start + k * 86400 for k in range(first, first + 400)
                      if start + k * 86400 > now and _matches(start + k * 86400, repeat, days)),
                     None)
    end_type, end_value = int(action["END_TYPE"]), int(action["END_VALUE"])
    if found is None or (end_type == 2 and found > end_value) or (end_type == 1 and end_value <= 0):
        return None
    return found


def due(action: dict[str, str], now: int) -> bool:
    """Whether the action is to run now: its time has come and it has not finished."""
    return int(action["TIME"]) <= now and (action["DONE"] == "-1" or action["REPEAT"] != "-1") \
        and not (action["END_TYPE"] == "1" and int(action["END_VALUE"]) <= 0)


def ran(action: dict[str, str], now: int, error: str) -> dict[str, str]:
    """The action after a run at `now`: DONE, MESSAGE, and its next TIME if it repeats."""
    after = dict(action, DONE=str(now), MESSAGE=error)
    if after["END_TYPE"] == "1":
        after["END_VALUE"] = str(int(after["END_VALUE"]) - 1)
    following = next_time(after, now)
    if following is not None:
        after["TIME"] = str(following)
    elif after["REPEAT"] != "-1":
        after["REPEAT"], after["END_TYPE"] = "-1", "-1"  # finished: runs no more
    return after


def add_checked(template: Template, given: list[dict[str, str]], stime: int) -> list[str]:
    """Check `given` actions and append them with new IDs; returns those IDs."""
    used = [int(a["ID"]) for a in template.vectors("SCHED_ACTION") if a.get("ID", "").isdigit()]
    first = max(used, default=-1) + 1
    added = [checked(vector, first + i, stime) for i, vector in enumerate(given)]
    for action in added:
        template.add("SCHED_ACTION", action)
    return [action["ID"] for action in added]


def replace(template: Template, actions: list[dict[str, str]]) -> None:
    template.remove("SCHED_ACTION")
    for action in actions:
        template.add("SCHED_ACTION", action)


class Runner:
    """Runs the due actions of every VM each `interval` seconds (or on `tick()`)."""

    def __init__(self, pools: Pools, perform: Perform, interval: float) -> None:
        self.pools, self.perform, self.interval = pools, perform, interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        """Run what is due now; returns how many actions ran."""
        now, count = records.now(), 0
        query = (Vm.state != VmState.DONE) & Vm.template.contains("<SCHED_ACTION>")
        for vm in self.pools.vms.each(query):
            for action in vm.template.vectors("SCHED_ACTION"):
                if due(action, now):
                    self._run(vm.oid, action, now)
                    count += 1
        return count

    def _run(self, vid: int, action: dict[str, str], now: int) -> None:
        """Perform the action (its own write), then record the run in the VM as it is then."""
        try:
            self.perform(vid, action["ACTION"])
            error = ""
        except OneError as exc:
            error = str(exc)
        log.info("VM %d: scheduled action %s %s%s", vid, action["ID"], action["ACTION"],
                 f" failed: {error}" if error else "")
        with self.pools.vms.modify(vid) as vm:
            actions = vm.template.vectors("SCHED_ACTION")
            replace(vm.template, [ran(a, now, error) if a["ID"] == action["ID"] else a
                                  for a in actions])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sched-actions", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.tick()
            except Exception:
                log.exception("scheduled actions: a tick failed")

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

