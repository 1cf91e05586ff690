"""Subcommands every tool shares, built from a pool spec and its declarations.

onevm, onevnet, onehost... differ in columns, show sections and a few
verbs; list, show, rename, update, chown, chmod and friends are the same
code here, parameterised by the object's method prefix.
"""
from __future__ import annotations

import argparse
import math
from typing import Any, Callable, Optional

from one.cli.base import Arg, Command, Context, arg
from one.cli.errors import USAGE, CliError
from one.cli.files import read_file
from one.cli.format import octal_bits
from one.cli.pools import ALL, GROUP, USER, PoolSpec, filter_flag
from one.cli.sections import Section, render_show
from one.cli.table import Column, build_table, render_table
from one.cli.xmldoc import parse

Invoke = Callable[[Context, argparse.Namespace, int], Any]
TOP_DELAY = 1.0
CLUSTER_ARG = arg("-c", "--cluster", help="cluster id or name (the default cluster if not given)")


def ids_arg(spec: PoolSpec, many: bool) -> Arg:
    """`1 2 5..7 web`, or one token `1,2,5..7` when more positionals follow."""
    if many:
        return arg("ids", nargs="+", metavar="ID", help=f"{spec.kind} ids, ranges 1..3 or names")
    return arg("ids", type=lambda text: [text], metavar="IDS",
               help=f"{spec.kind} ids: 1,2 or 1..3 or a name")


def id_action(spec: PoolSpec, name: str, help: str, invoke: Invoke,
              args: tuple[Arg, ...] = ()) -> Command:
    """A verb applied to each id given; several ids only where nothing else is positional."""
    many = not any(not item.flags[0].startswith("-") for item in args)

    def run(ctx: Context, ns: argparse.Namespace) -> int:
        return ctx.each(spec, ns.ids, lambda oid: invoke(ctx, ns, oid), name)

    return Command(name, run, help, (ids_arg(spec, many),) + args)


def calls(method: str, *extra: Any) -> Invoke:
    """`method(id, *extra)`: the shape of most per-object verbs."""
    return lambda ctx, ns, oid: ctx.call(method, oid, *extra)


def switch_commands(spec: PoolSpec, method: str, on: tuple[str, str],
                    off: tuple[str, str]) -> tuple[Command, Command]:
    """Two verbs, each `(name, help)`, calling `method(id, true)` and `method(id, false)`:
    enable/disable, persistent/nonpersistent."""
    return (id_action(spec, *on, calls(method, True)), id_action(spec, *off, calls(method, False)))


def _filter_args(spec: PoolSpec) -> tuple[Arg, ...]:
    if not spec.filtered:
        return ()
    return (arg("filter", nargs="?", help="a/all, m/mine, g/group, a user id or name"),)


def _listing(ctx: Context, spec: PoolSpec, ns: argparse.Namespace) -> Callable[[], str]:
    """Fetches the pool document; the filter word is resolved once, not on every refresh."""
    flag = filter_flag(ctx.call, ns.filter) if spec.filtered else ALL
    return lambda: ctx.call(spec.method, *spec.args(flag))


def list_command(spec: PoolSpec, columns: tuple[Column, ...]) -> Command:
    def run(ctx: Context, ns: argparse.Namespace) -> None:
        ctx.emit(ns, _listing(ctx, spec, ns)(),
                 lambda root: render_table(ctx.out, columns, root.iterfind(spec.item)), spec.item)

    return Command("list", run, f"Lists {spec.kind}s", _filter_args(spec), document=True)


def seconds(text: str) -> float:
    """--delay: a number of seconds, fractions allowed, never negative."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not '{text}'")
    return value


def positive(text: str) -> int:
    """--count: how many refreshes, at least one."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, not '{text}'")
    return int(text)


def top_command(spec: PoolSpec, columns: tuple[Column, ...]) -> Command:
    """The list table again every --delay seconds, as OpenNebula's `top`."""
    def run(ctx: Context, ns: argparse.Namespace) -> None:
        fetch = _listing(ctx, spec, ns)
        ctx.watch(lambda: build_table(columns, parse(fetch()).iterfind(spec.item)),
                  ns.delay, ns.count)

    args = _filter_args(spec) + (
        arg("-d", "--delay", type=seconds, default=TOP_DELAY,
            help=f"seconds between refreshes ({TOP_DELAY:g} by default)"),
        arg("-n", "--count", type=positive,
            help="print this many refreshes one after another, then exit"))
    return Command("top", run, f"Lists {spec.kind}s continuously", args)


def show_command(spec: PoolSpec, sections: tuple[Section, ...]) -> Command:
    def run(ctx: Context, ns: argparse.Namespace) -> None:
        document = ctx.call(f"{spec.prefix}.info", ctx.one(spec, ns.id))
        ctx.emit(ns, document, lambda root: render_show(ctx.out, sections, root))

    return Command("show", run, f"Shows a {spec.kind}", (arg("id"),), document=True)


Build = Callable[[argparse.Namespace], Optional[str]]


def create_command(spec: PoolSpec, help: str, args: tuple[Arg, ...] = (),
                   extra: Callable[[Context, argparse.Namespace], tuple[Any, ...]] = (
                       lambda ctx, ns: ()),
                   build: Build | None = None,
                   then: Invoke = lambda ctx, ns, oid: None,
                   count: Callable[[argparse.Namespace], int] = lambda ns: 1) -> Command:
    """Allocation from a template file, its text given inline, or the template `build`
    writes from the tool's own options (None: none given), `count` times (`onevm create
    -m 3`); `then` may follow each new object up, as `oneimage create --wait` does."""
    sources = "a template file, --template-text or the template options" if build else (
        "a template file or --template-text")

    def run(ctx: Context, ns: argparse.Namespace) -> int | None:
        given = [text for text in (ns.file, ns.template_text, build(ns) if build else None)
                 if text is not None]
        if len(given) != 1:
            raise CliError(f"Give either {sources}", USAGE)
        text = read_file(ns.file) if ns.file is not None else given[0]
        status = None
        for _ in range(count(ns)):
            oid = ctx.call(f"{spec.prefix}.allocate", text, *extra(ctx, ns))
            ctx.say(f"ID: {oid}")
            status = then(ctx, ns, oid) or status
        return status

    own = (arg("file", nargs="?", help="template file"),
           arg("--template-text", help="the template itself, instead of a file"))
    return Command("create", run, help, own + args)


def rename_command(spec: PoolSpec) -> Command:
    def run(ctx: Context, ns: argparse.Namespace) -> None:
        ctx.call(f"{spec.prefix}.rename", ctx.one(spec, ns.id), ns.name)

    return Command("rename", run, f"Renames a {spec.kind}", (arg("id"), arg("name")))


def update_command(spec: PoolSpec) -> Command:
    def run(ctx: Context, ns: argparse.Namespace) -> None:
        oid = ctx.one(spec, ns.id)
        ctx.call(f"{spec.prefix}.update", oid, read_file(ns.file), int(ns.append))

    args = (arg("id"), arg("file", help="template file"),
            arg("-a", "--append", action="store_true", help="merge instead of replacing"))
    return Command("update", run, f"Replaces (or merges) the template of a {spec.kind}", args)


def chown_command(spec: PoolSpec) -> Command:
    def invoke(ctx: Context, ns: argparse.Namespace, oid: int) -> Any:
        user, group = ctx.one(USER, ns.user), ctx.optional(GROUP, ns.group)
        return ctx.call(f"{spec.prefix}.chown", oid, user, group)

    return id_action(spec, "chown", f"Changes the owner (and group) of {spec.kind}s", invoke,
                     (arg("user"), arg("group", nargs="?")))


def chgrp_command(spec: PoolSpec) -> Command:
    return id_action(spec, "chgrp", f"Changes the group of {spec.kind}s",
                     lambda ctx, ns, oid: ctx.call(f"{spec.prefix}.chown", oid, -1,
                                                   ctx.one(GROUP, ns.group)),
                     (arg("group"),))


def chmod_command(spec: PoolSpec) -> Command:
    return id_action(spec, "chmod", f"Changes the permissions of {spec.kind}s (octal, 640)",
                     lambda ctx, ns, oid: ctx.call(f"{spec.prefix}.chmod", oid, *ns.octet),
                     (arg("octet", type=octal_bits),))


def delete_command(spec: PoolSpec) -> Command:
    return id_action(spec, "delete", f"Deletes {spec.kind}s", calls(f"{spec.prefix}.delete"))


LOCK_LEVELS = {"use": 1, "manage": 2, "admin": 3, "all": 4}


def lock_commands(spec: PoolSpec, noun: str) -> tuple[Command, Command]:
    """lock (--use by default, or --manage, --admin, --all) and unlock of `noun` (plural)."""
    levels = tuple(arg(f"--{name}", dest="level", action="store_const", const=level,
                       default=LOCK_LEVELS["use"], help=f"lock level {name.upper()}")
                   for name, level in LOCK_LEVELS.items())
    lock = id_action(spec, "lock", f"Locks {noun} against changes (--use: against use too)",
                     lambda ctx, ns, oid: ctx.call(f"{spec.prefix}.lock", oid, ns.level, False),
                     levels)
    return lock, id_action(spec, "unlock", f"Unlocks {noun}", calls(f"{spec.prefix}.unlock"))


def ownership_commands(spec: PoolSpec) -> tuple[Command, ...]:
    """What every owned object (VM, VNET) offers beyond list and show."""
    return (rename_command(spec), update_command(spec), chown_command(spec),
            chgrp_command(spec), chmod_command(spec))
