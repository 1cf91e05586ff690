"""`onevm sched-add|sched-update|sched-delete`: a VM's scheduled actions.

As OpenNebula's CLI: the time is a date (`2026-03-05 14:30`, local time), epoch
seconds or `+N` seconds after the VM started; --weekly/--monthly/--yearly DAYS
and --hourly HOURS repeat it, --end N (runs) or --end DATE stops the repeats.
"""
from __future__ import annotations

import argparse

from one.cli.base import Command, Context, arg
from one.cli.errors import USAGE, CliError
from one.cli.format import vector
from one.cli.pools import VM
from one.cli.usage import moment

_REPEATS = {"weekly": 0, "monthly": 1, "yearly": 2, "hourly": 3}


def _time(text: str) -> str:
    """--time: `+N` as given, a date or epoch seconds as epoch seconds."""
    if text.startswith("+") and text[1:].isdigit():
        return text
    return str(moment(text))


def _end(text: str) -> tuple[int, int]:
    """--end: a number of runs (END_TYPE 1) or a date (END_TYPE 2)."""
    if text.isdigit() and len(text) < 6:
        return 1, int(text)
    return 2, moment(text)


def _action(ns: argparse.Namespace) -> str:
    attrs = {"ACTION": ns.action} if getattr(ns, "action", None) else {}
    if ns.time is not None:
        attrs["TIME"] = ns.time
    for name, code in _REPEATS.items():
        if getattr(ns, name) is not None:
            attrs.update(REPEAT=str(code), DAYS=getattr(ns, name), END_TYPE="0")
    if ns.end is not None:
        kind, value = ns.end
        attrs.update(END_TYPE=str(kind), END_VALUE=str(value))
    return vector("SCHED_ACTION", attrs)


def _add(ctx: Context, ns: argparse.Namespace) -> None:
    sid = ctx.call("one.vm.schedadd", ctx.one(VM, ns.id), _action(ns))
    ctx.say(f"Scheduled action ID: {sid}")


def _update(ctx: Context, ns: argparse.Namespace) -> None:
    if not any(getattr(ns, name) is not None for name in ("action", "time", "end", *_REPEATS)):
        raise CliError("sched-update: give --action, --time, a repeat or --end", USAGE)
    ctx.call("one.vm.schedupdate", ctx.one(VM, ns.id), ns.sched_id, _action(ns))


def _delete(ctx: Context, ns: argparse.Namespace) -> None:
    ctx.call("one.vm.scheddelete", ctx.one(VM, ns.id), ns.sched_id)


_WHEN = (
    arg("--weekly", metavar="DAYS", help="repeat on these weekdays (0 Sunday .. 6), e.g. 1,3"),
    arg("--monthly", metavar="DAYS", help="repeat on these days of the month (1 .. 31)"),
    arg("--yearly", metavar="DAYS", help="repeat on these days of the year (0 .. 365)"),
    arg("--hourly", metavar="HOURS", help="repeat every HOURS hours"),
    arg("--end", type=_end, help="stop repeating after N runs, or at a date"),
)
_VM = arg("id", help="VM id or name")
_SID = arg("sched_id", type=int, help="the scheduled action's ID")
COMMANDS = (
    Command("sched-add", _add, "Schedules an action on a VM (poweroff, terminate, hold...)", (
        _VM, arg("action", type=str.lower, help="a onevm action: poweroff, resume, terminate..."),
        arg("--time", type=_time, required=True,
            help="when: '2026-03-05 14:30', epoch seconds, or +SECONDS after the VM started"),
        *_WHEN)),
    Command("sched-update", _update, "Changes a VM's scheduled action", (
        _VM, _SID, arg("--action", type=str.lower, help="another action"),
        arg("--time", type=_time, help="another time"), *_WHEN)),
    Command("sched-delete", _delete, "Deletes a VM's scheduled action", (_VM, _SID)),
)
