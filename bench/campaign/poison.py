"""Poison values aimed where random generation rarely lands: a template value one
past libxml2's 10 MB text limit through every allocate and every update of the
objects the fuzz made, and VMs asking for infinite or absurd CPU from a plain user.

They are sent like any fuzzed call; what they may break shows afterwards, in the
sweep (every object readable and deletable) and the scheduler probe.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.campaign.values import HUGE

Call = tuple[str, list[Any]]  # (method, parameters after the session)
HUGE_TEMPLATE = f'NAME = "poison" CPU = 0.1 MEMORY = 64 POISON = "{"x" * HUGE}"'
CPU_POISON = ("inf", "1e308", "-1e308", "nan")
_DEFAULTS: dict[str, Any] = {"int": -1, "i4": -1, "i8": -1, "boolean": False, "array": []}


def huge_calls(signatures: Mapping[str, list[list[str]]],
               targets: Mapping[str, int]) -> list[Call]:
    """Every allocate with the huge template in each string parameter; every update of
    a `targets` object (by the kind in its method name) appending it."""
    calls: list[Call] = []
    for method, variants in signatures.items():
        kind, verb = method.split(".")[1:3] if method.count(".") == 2 else ("", "")
        if verb == "allocate":
            calls += [(method, [_DEFAULTS.get(t, HUGE_TEMPLATE) for t in variant[2:]])
                      for variant in variants]
        elif verb == "update" and kind in targets:
            calls.append((method, [targets[kind], HUGE_TEMPLATE, 1]))
    return calls


def cpu_calls() -> list[Call]:
    """VMs a plain user may allocate, pending for the scheduler, with poisoned CPU."""
    return [("one.vm.allocate", [f'NAME = "cpu-{cpu}" CPU = "{cpu}" MEMORY = 64', False])
            for cpu in CPU_POISON]
