"""The VM template options `onevm create` and `onetemplate create|instantiate` share.

As OpenNebula's CLI: --cpu, --vcpu, --memory (MB, or 2g), --disk and --nic
taking comma lists of images / networks (an id, a name, `user[name]` for
another user's, `:KEY=VALUE` for more disk/NIC attributes; `auto` lets the
scheduler pick the network), --name. The options become template text.
"""
from __future__ import annotations

import argparse
import math
import re

from one.cli.base import Arg, arg
from one.cli.commands import positive
from one.cli.errors import USAGE, CliError
from one.cli.format import megabytes, pairs, vector

_ITEM = re.compile(r"(?:(?P<user>[^\[\]:]+)\[(?P<owned>[^\]]+)\]|(?P<plain>[^:\[\]]+))(?::(?P<rest>.*))?")


def cpu(text: str) -> str:
    """--cpu: a positive number of physical CPUs, fractions allowed (0.5)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number of CPUs above 0, not '{text}'")
    return text


TEMPLATE_ARGS: tuple[Arg, ...] = (
    arg("--name", help="name of the VM (of the template, for onetemplate create)"),
    arg("--cpu", type=cpu, help="physical CPUs reserved for the VM (0.5 is half of one)"),
    arg("--vcpu", type=positive, help="virtual CPUs the guest sees"),
    arg("--memory", type=megabytes, help="memory: MB, or with a unit (512m, 2g)"),
    arg("--disk", help="images to attach: id, name or user[name], comma separated, "
                       ":KEY=VALUE adds attributes (img:size=2048)"),
    arg("--nic", help="networks to attach: id, name, user[name] or auto, comma separated, "
                      ":KEY=VALUE adds attributes"),
)
MULTIPLE_ARG = arg("-m", "--multiple", type=positive, default=1, help="create this many VMs")
HOLD_ARG = arg("--hold", action="store_true", help="create them on hold")


def _attached(kind: str, item: str) -> dict[str, str]:
    """One --disk/--nic item as the vector naming the image or network."""
    found = _ITEM.fullmatch(item.strip())
    if found is None:
        raise CliError(f"Wrong --{kind.lower()} item '{item}': id, name or user[name]", USAGE)
    key = "IMAGE" if kind == "DISK" else "NETWORK"
    name = found["owned"] or found["plain"]
    if kind == "NIC" and name == "auto" and not found["user"]:
        attrs = {"NETWORK_MODE": "auto"}
    elif name.isdigit() and not found["user"]:
        attrs = {f"{key}_ID": name}
    else:
        attrs = {key: name, **({f"{key}_UNAME": found["user"]} if found["user"] else {})}
    for extra in filter(None, (found["rest"] or "").split(":")):
        attr, equals, value = extra.partition("=")
        if not equals or not attr.strip():
            raise CliError(f"Wrong attribute '{extra}' in --{kind.lower()}: KEY=VALUE", USAGE)
        attrs[attr.strip().upper()] = value
    return attrs


def template_text(ns: argparse.Namespace, name: bool = True) -> str | None:
    """The template the options describe (NAME only when `name`); None when none was given."""
    singles = {"NAME": ns.name if name else None, "CPU": ns.cpu, "VCPU": ns.vcpu,
               "MEMORY": ns.memory}
    lines = [pairs({key: str(value) for key, value in singles.items() if value is not None})]
    for kind, given in (("DISK", ns.disk), ("NIC", ns.nic)):
        lines.extend(vector(kind, _attached(kind, item)) for item in (given or "").split(",")
                     if item.strip())
    text = "\n".join(line for line in lines if line)
    return text or None
