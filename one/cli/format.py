"""How values look in tables, as OpenNebula's Ruby helpers print them.

Operators compare our output with OpenNebula's, so sizes, durations and
permissions follow `OpenNebulaHelper.unit_to_str` and `period_to_str`.
"""
from __future__ import annotations

import argparse
import re
import time
from enum import IntEnum
from typing import Mapping, TypeVar

from one.cli.errors import USAGE, CliError

E = TypeVar("E", bound=IntEnum)
_UNITS = ("K", "M", "G", "T")
_OCTAL = re.compile(r"[0-7]{3}")
_MEGABYTES = re.compile(r"(\d+(?:\.\d+)?)\s*(m|mb|g|gb|t|tb)?", re.IGNORECASE)
_SCALE = {"": 1, "m": 1, "g": 1024, "t": 1024 ** 2}


def size(value: str | int | float | None, unit: str = "K") -> str:
    """`128M`, `1.5G`: divide by 1024 while above 1024, one decimal kept."""
    try:
        number = float(value if value is not None else "")
    except ValueError:
        return "-"
    if number < 0:
        return "-"
    index = _UNITS.index(unit)
    while number > 1024 and index < len(_UNITS) - 1:
        number /= 1024.0
        index += 1
    number = round(number * 10) / 10
    shown = str(int(number)) if number == int(number) else str(number)
    return shown + _UNITS[index]


def period(seconds: int) -> str:
    """`0d 01h02`: the TIME column of `onevm list`."""
    minutes, _ = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h{minutes:02d}"


def short_period(seconds: int) -> str:
    """`0h00m05s`: the PROLOG column of a VM's history, as `short_period_to_str`."""
    minutes, secs = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s"


def span(start: str, end: str) -> int:
    """Seconds from a start stamp to an end stamp; an end of 0 means still going: now."""
    begin, finish = int(start or 0), int(end or 0)
    return (finish or int(time.time())) - begin


def elapsed(start: str, end: str) -> str:
    """Running time from STIME, up to ETIME once the VM is done (ETIME 0 = still on)."""
    return period(span(start, end))


def timestamp(value: str) -> str:
    """Epoch seconds as OpenNebula's `show` prints them; 0 means never."""
    seconds = int(value or 0)
    return time.strftime("%m/%d %H:%M:%S", time.localtime(seconds)) if seconds else "-"


def enum_name(kind: type[IntEnum], text: str | None) -> str:
    """A state number as its name; a number this client does not know stays a number."""
    number = int(text or 0)
    return kind(number).name if number in kind._value2member_map_ else str(number)


def short_state(kind: type[E], words: Mapping[E, str], text: str | None) -> str:
    """A state number as its STAT word; `unkn` for one a newer server may send."""
    number = int(text or 0)
    return words.get(kind(number), "unkn") if number in kind._value2member_map_ else "unkn"


def rights(use: str, manage: str, admin: str) -> str:
    """`um-`: the three bits of one owner class, as `show` prints PERMISSIONS."""
    return "".join(flag if bit == "1" else "-" for flag, bit in zip("uma", (use, manage, admin)))


def octal_bits(text: str) -> list[int]:
    """`640` to the nine 0/1 arguments of one.*.chmod (owner, group, other: u m a)."""
    if not _OCTAL.fullmatch(text):
        raise CliError(f"Permissions must be three octal digits like 640, not '{text}'", USAGE)
    return [(int(digit) >> shift) & 1 for digit in text for shift in (2, 1, 0)]


def megabytes(text: str) -> int:
    """--size, --memory: MB, or with a unit as OpenNebula takes it (`512`, `10G`, `1.5gb`)."""
    found = _MEGABYTES.fullmatch(text.strip())
    if not found:
        raise argparse.ArgumentTypeError(f"expected a size such as 512, 512M or 10G, not '{text}'")
    return int(float(found[1]) * _SCALE[(found[2] or "")[:1].lower()])


def quote(value: str) -> str:
    """A template string value, quoted so commas, spaces and quotes survive."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pairs(attrs: Mapping[str, str], separator: str = "\n") -> str:
    """`NAME="web"` lines, a template written from flags the operator gave."""
    return separator.join(f"{key}={quote(value)}" for key, value in attrs.items())


def vector(name: str, attrs: Mapping[str, str]) -> str:
    """`AR=[IP="10.0.0.1", SIZE="10"]` from flags the operator gave."""
    return f"{name}=[{pairs(attrs, ', ')}]"
