"""Capacities users write in templates (CPU, VCPU, MEMORY, disk SIZE): strict,
finite numbers within the ranges the books can hold.

``float()`` accepts ``inf``, ``nan``, ``1e308`` and ``1_000``; any of them in a VM's
CPU overflowed the scheduler's arithmetic (CPU x 100 as an integer) and stopped every
cycle.  Allocation checks each capacity here, with OpenNebula's messages, and the
scheduler reads stored values through the same parsers, so a bad value that is
already stored skips its VM instead of stopping the cycle.
"""
from __future__ import annotations

import math
import re
from typing import Callable, Union

from one.errors import AllocateError

Number = Union[int, float]

# Hosts book CPU in hundredths in a 32-bit integer (OpenNebula's MAX_CPU): no VM
# asking for more could ever be placed.
MAX_CPU = (2**31 - 1) // 100
# MEMORY is in MB and booked in KB as a 64-bit integer (OpenNebula's MAX_MEM).
MAX_MEMORY = (2**63 - 1) // 1024
MAX_VCPU = 2**31 - 1
# Disk SIZE is in MB; its size in bytes must fit in 64 bits.
MAX_DISK_SIZE = (2**63 - 1) // 2**20
_FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")
_INT = re.compile(r"[+-]?\d{1,19}")


def parse_float(text: str | None) -> float | None:
    """A finite decimal number, or None (missing, malformed, inf, nan, overflow)."""
    if text is None or not _FLOAT.fullmatch(text.strip()):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def parse_int(text: str | None) -> int | None:
    """A decimal integer of at most 19 digits, or None."""
    if text is None or not _INT.fullmatch(text.strip()):
        return None
    return int(text)


def _in_range(text: str | None, parse: Callable[[str | None], Number | None], low: Number,
             high: Number, strict: bool = True) -> Number | None:
    """The parsed value when ``low < value <= high`` (``<=`` when not strict), else None."""
    value = parse(text)
    if value is None or value > high or value < low or (strict and value == low):
        return None
    return value


def _word(parse: Callable[[str | None], Number | None]) -> str:
    return "float or integer" if parse is parse_float else "integer"


def capacity(text: str | None, name: str, parse: Callable[[str | None], Number | None],
            high: Number, positive: bool = True) -> Number:
    """The value of capacity ``name``, or OpenNebula's ALLOCATE error for it."""
    value = _in_range(text, parse, 0, high, strict=positive)
    if value is None:
        sign = "positive" if positive else "non-negative"
        message = f"{name} attribute must be a {sign} {_word(parse)} value"
        if text is None:  # OpenNebula's words for a missing MEMORY or CPU
            raise AllocateError(f"{message}.")
        shown = text[:64] + ("..." if len(text) > 64 else "")
        raise AllocateError(f"{message} (at most {high}), not '{shown}'.")
    return value
