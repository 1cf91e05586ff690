"""EC2 Query parameters: numbered lists (`InstanceId.1`) and structures (`Filter.1.Name`)."""
from __future__ import annotations

from typing import Mapping

from one.econe.errors import invalid, missing


def members(params: Mapping[str, str], prefix: str) -> list[dict[str, str]]:
    """`Prefix.N.Rest = value` as one dict {Rest: value} per N, in N's order."""
    found: dict[int, dict[str, str]] = {}
    for key, value in params.items():
        head, _, rest = key.partition(".")
        if head != prefix:
            continue
        number, _, field = rest.partition(".")
        if number.isdigit():
            found.setdefault(int(number), {})[field] = value
    return [found[n] for n in sorted(found)]


def listed(params: Mapping[str, str], prefix: str) -> list[str]:
    """`Prefix.N = value` in N's order."""
    return [m[""] for m in members(params, prefix) if "" in m]


def required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise missing(name)
    return value


def integer(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.strip().lstrip("-").isdigit() or not low <= int(text) <= high:
        raise invalid(name, text)
    return int(text)


def filters(params: Mapping[str, str]) -> dict[str, list[str]]:
    """`Filter.N.Name` / `Filter.N.Value.M`: name -> accepted values."""
    result: dict[str, list[str]] = {}
    for member in members(params, "Filter"):
        name = member.get("Name")
        if not name:
            raise missing("Filter.N.Name")
        result.setdefault(name, []).extend(listed(member, "Value"))
    return result


def tags(member: Mapping[str, str], prefix: str = "Tag") -> dict[str, str]:
    """`Tag.N.Key` / `Tag.N.Value` of a request or of one TagSpecification."""
    result = {}
    for tag in members(member, prefix):
        if not tag.get("Key"):
            raise missing(f"{prefix}.N.Key")
        result[tag["Key"]] = tag.get("Value", "")
    return result
