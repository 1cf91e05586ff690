"""Elasticity and scheduled policies: when a role's cardinality should change, and to what.

OneFlow's rules: an elasticity expression (`CPU > 80 && MEMORY < 1000`) is
evaluated every `period` seconds over the average of the role's running VMs'
values; after `period_number` true evaluations in a row the role is adjusted.
Scheduled policies fire at `start_time` or on a cron `recurrence` (UTC). The
adjustment is CHANGE, CARDINALITY or PERCENTAGE_CHANGE (at least
`min_adjust_step` VMs), and the result never leaves min_vms..max_vms.
"""
from __future__ import annotations

import math
import operator
import re
import time
from datetime import datetime, timezone
from typing import Any, Callable

from one.flow.errors import BadRequest

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
    ">": operator.gt, "<": operator.lt, "=": operator.eq}
_TERM = re.compile(r"^\s*([A-Za-z_][\w/]*)\s*(>=|<=|==|!=|>|<|=)\s*(-?[\d.]+)\s*$")
ADJUST_TYPES = ("CHANGE", "CARDINALITY", "PERCENTAGE_CHANGE")
MAX_CRON_MINUTES = 7 * 24 * 60  # how far back a missed recurrence is looked for


def evaluate(expression: str, values: dict[str, float]) -> tuple[bool, str]:
    """The expression's truth over `values` and how it read (OneFlow's expression_evaluated);
    `||` of `&&` of `NAME op NUMBER` terms. A name without value makes its term false."""
    shown_or, result = [], False
    for alternative in expression.split("||"):
        shown_and, every = [], True
        for term in alternative.split("&&"):
            found = _TERM.match(term)
            if found is None:
                raise BadRequest(f"Wrong elasticity expression '{expression}'")
            name, op, number = found.groups()
            value = values.get(name.upper())
            every = every and value is not None and _OPS[op](value, float(number))
            shown_and.append(f"{name}[{'-' if value is None else f'{value:.2f}'}] {op} {number}")
        result = result or every
        shown_or.append(" && ".join(shown_and))
    return result, " || ".join(shown_or)


def adjusted(role: dict[str, Any], policy: dict[str, Any]) -> int:
    """The cardinality the policy asks for, within the role's limits."""
    kind, adjust = policy.get("type", "CHANGE"), int(policy.get("adjust", 0))
    current = int(role["cardinality"])
    if kind == "CARDINALITY":
        wanted = adjust
    elif kind == "PERCENTAGE_CHANGE":
        step = current * adjust / 100
        step = math.floor(step) if step > 0 else math.ceil(step)
        least = int(policy.get("min_adjust_step", 0) or 0)
        if abs(step) < least:
            step = least if adjust > 0 else -least
        wanted = current + step
    else:
        wanted = current + adjust
    return clamp(role, wanted)


def clamp(role: dict[str, Any], wanted: int) -> int:
    low = int(role.get("min_vms", 0) or 0)
    high = role.get("max_vms")
    wanted = max(wanted, low, 0)
    return min(wanted, int(high)) if high is not None else wanted


def check_policies(role: dict[str, Any]) -> None:
    """Policies as OneFlow accepts them (a bad one is a 400 at create time)."""
    for policy in role.get("elasticity_policies", []) + role.get("scheduled_policies", []):
        if not isinstance(policy, dict) or policy.get("type", "CHANGE") not in ADJUST_TYPES:
            raise BadRequest(f"Role '{role['name']}': policy type must be one of "
                             f"{', '.join(ADJUST_TYPES)}")
        if not str(policy.get("adjust", "")).lstrip("-").isdigit():
            raise BadRequest(f"Role '{role['name']}': a policy needs an integer adjust")
    for policy in role.get("elasticity_policies", []):
        evaluate(str(policy.get("expression", "")), {})
    for policy in role.get("scheduled_policies", []):
        if "recurrence" in policy:
            cron_fields(str(policy["recurrence"]))
        else:
            start_time(policy)


def elastic_change(role: dict[str, Any], values: dict[str, float], now: float) -> int | None:
    """The new cardinality an elasticity policy asks for now, if one does."""
    for policy in role.get("elasticity_policies", []):
        if now - policy.get("last_eval", 0) < int(policy.get("period", 60) or 0):
            continue
        policy["last_eval"] = int(now)
        true, shown = evaluate(str(policy.get("expression", "")), values)
        policy["expression_evaluated"] = shown
        policy["true_evals"] = policy.get("true_evals", 0) + 1 if true else 0
        if policy["true_evals"] >= int(policy.get("period_number", 1) or 1):
            policy["true_evals"] = 0
            role["cooldown"] = int(policy.get("cooldown", role.get("cooldown", 300)))
            return adjusted(role, policy)
    return None


def scheduled_change(role: dict[str, Any], now: float) -> int | None:
    """The new cardinality a scheduled policy due since its last run asks for, if one is."""
    for policy in role.get("scheduled_policies", []):
        last = policy.get("last_eval", 0) or now - 60
        if "recurrence" in policy:
            due = _cron_due(cron_fields(str(policy["recurrence"])), last, now)
        else:
            due = last < start_time(policy) <= now
        policy["last_eval"] = int(now)
        if due:
            return adjusted(role, policy)
    return None


def start_time(policy: dict[str, Any]) -> float:
    text = str(policy.get("start_time", ""))
    if text.isdigit():
        return float(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Wrong start_time '{text}': an ISO 8601 time or epoch seconds") \
            from None
    return moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp()


_DAYS = {d: str((i + 1) % 7) for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def cron_fields(text: str) -> list[set[int]]:
    """minute hour day month weekday: numbers, names of days, `*`, ranges, lists, steps."""
    parts = text.lower().split()
    if len(parts) != 5:
        raise BadRequest(f"Wrong recurrence '{text}': five cron fields expected")
    try:
        return [_cron_field(part, low, high) for part, (low, high) in zip(parts, _RANGES)]
    except ValueError:
        raise BadRequest(f"Wrong recurrence '{text}'") from None


def _cron_field(part: str, low: int, high: int) -> set[int]:
    out: set[int] = set()
    for item in part.split(","):
        for name, number in _DAYS.items():
            item = item.replace(name, number)
        spec, _, step = item.partition("/")
        first, last = (low, high) if spec == "*" else map(int, (spec.split("-") * 2)[:2])
        if not (low <= first <= last <= high):
            raise ValueError(item)
        out |= set(range(first, last + 1, int(step or 1)))
    return out


def _cron_due(fields: list[set[int]], last: float, now: float) -> bool:
    """Whether a minute after `last`, up to `now`, matches (looking back a week at most)."""
    minute = max(int(last // 60) + 1, int(now // 60) - MAX_CRON_MINUTES)
    while minute <= now // 60:
        t = time.gmtime(minute * 60)
        if (t.tm_min in fields[0] and t.tm_hour in fields[1] and t.tm_mday in fields[2]
                and t.tm_mon in fields[3] and (t.tm_wday + 1) % 7 in fields[4]):
            return True
        minute += 1
    return False
