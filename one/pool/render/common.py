"""Small string builders shared by the renderers.

Documents are built as strings, not trees: rendering runs on every change of
every object, and string building is several times faster than lxml here.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

_PERM_NAMES = ("OWNER_U", "OWNER_M", "OWNER_A", "GROUP_U", "GROUP_M",
               "GROUP_A", "OTHER_U", "OTHER_M", "OTHER_A")


def esc(value: Any) -> str:
    """Text content escaped for XML (fixed fields; templates use CDATA)."""
    text = str(value)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def el(name: str, value: Any) -> str:
    return f"<{name}>{esc(value)}</{name}>"


def fields(names: Sequence[str], values: Mapping[str, Any], optional: bool = False) -> str:
    """Elements in schema order; with `optional`, absent names are skipped."""
    out = []
    for name in names:
        if name in values:
            out.append(el(name, values[name]))
        elif not optional:
            out.append(f"<{name}>0</{name}>")
    return "".join(out)


def owner_fields(obj: Any) -> str:
    """ID, UID, GID, UNAME, GNAME, NAME: how every owned object's document starts."""
    return (f"<ID>{obj.oid}</ID><UID>{obj.uid}</UID><GID>{obj.gid}</GID>{el('UNAME', obj.uname)}"
            f"{el('GNAME', obj.gname)}{el('NAME', obj.name)}")


def permission_bits(perms: int) -> list[int]:
    """chmod-style octal (0o640) to OpenNebula's nine 0/1 flags."""
    return [(perms >> shift) & 1 for shift in (8, 7, 6, 5, 4, 3, 2, 1, 0)]


def permissions(perms: int) -> str:
    bits = permission_bits(perms)
    inner = "".join(f"<{n}>{b}</{n}>" for n, b in zip(_PERM_NAMES, bits))
    return f"<PERMISSIONS>{inner}</PERMISSIONS>"


def ids(name: str, values: Iterable[int | str]) -> str:
    return f"<{name}>{''.join(f'<ID>{v}</ID>' for v in values)}</{name}>"


def wrap(root: str, bodies: Iterable[str], tail: str = "") -> str:
    return f"<{root}>{''.join(bodies)}{tail}</{root}>"
