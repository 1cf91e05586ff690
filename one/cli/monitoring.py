"""`onevm monitoring` and `onehost monitoring`: the kept samples, plotted or tabled."""
from __future__ import annotations

import argparse

from one.cli.base import Command, Context, arg
from one.cli.errors import USAGE, CliError
from one.cli.format import timestamp
from one.cli.plot import plot
from one.cli.pools import PoolSpec
from one.cli.xmldoc import Element


def _number(sample: Element, name: str) -> float | None:
    text = sample.findtext(f".//{name}")
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def _render(ctx: Context, ns: argparse.Namespace, spec: PoolSpec, oid: int, root: Element) -> None:
    samples = root.findall("MONITORING")
    if not samples:
        ctx.say(f"{spec.kind} {oid}: no monitoring samples kept.")
        return
    names = [name.upper() for name in ns.attributes]
    if ns.table:
        header = "TIME".ljust(16) + "".join(name.rjust(14) for name in names)
        rows = [timestamp(s.findtext("TIMESTAMP", "0")).ljust(16)
                + "".join((s.findtext(f".//{name}") or "-").rjust(14) for name in names)
                for s in samples]
        ctx.say("\n".join([header, *rows]))
        return
    charts = []
    for name in names:
        points = [(int(s.findtext("TIMESTAMP", "0")), value) for s in samples
                  if (value := _number(s, name)) is not None]
        charts.append(plot(f"{spec.kind} {oid} {name}", points, ns.width))
    ctx.say("\n\n".join(charts))


def monitoring_command(spec: PoolSpec, defaults: tuple[str, ...]) -> Command:
    """`monitoring ID [ATTRIBUTE...]`: a plot per attribute (`defaults` if none), or --table."""
    def run(ctx: Context, ns: argparse.Namespace) -> None:
        if ns.width < 10:
            raise CliError("--width must be at least 10 columns", USAGE)
        oid = ctx.one(spec, ns.id)
        ns.attributes = ns.attributes or list(defaults)
        ctx.emit(ns, ctx.call(f"{spec.prefix}.monitoring", oid),
                 lambda root: _render(ctx, ns, spec, oid, root))

    return Command("monitoring", run, f"Plots a {spec.kind}'s monitoring history ("
                   f"{' and '.join(defaults)} unless attributes are named)", (
        arg("id", help=f"{spec.kind} id or name"),
        arg("attributes", nargs="*", help="monitoring attributes, e.g. CPU NETRX"),
        arg("--table", action="store_true", help="print the samples instead of plotting them"),
        arg("--width", type=int, default=60, help="plot width in columns"),
    ), document=True)
