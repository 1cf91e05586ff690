"""``$VARIABLE`` substitution, as OpenNebula does for CONTEXT and REQUIREMENTS.

Users refer to the VM's own attributes (``$NAME``, ``$NIC[IP]``) and to virtual
networks (``$NETWORK[GATEWAY, NAME="net"]``) from inside its template; the core
expands them once, when the VM is created, so drivers see plain values.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Optional

from one.errors import TemplateLimitError
from one.pool.template import Template, Value, error_at

NetworkLookup = Callable[[str, str], Optional[Template]]

_VARIABLE = re.compile(r"\$([A-Za-z][A-Za-z0-9_]*)(\[?)")
_BLANKS = re.compile(r"\s*")
_NAME = re.compile(r"\s*([A-Za-z0-9_]+)\s*")
_VALUE = re.compile(r'"([^"]*)"|([^\s\]",=\[]+)')
# Conditions of $NETWORK[...] that name a virtual network rather than a VM vector.
_NETWORK_KEYS = frozenset({"NAME", "NETWORK_ID"})

_Condition = Optional[tuple[str, str]]


def substitute(
    text: str,
    vm: Template,
    networks: NetworkLookup | None = None,
    extra: Mapping[str, str] | None = None,
    limit: int | None = None,
) -> str:
    """Expand every ``$`` variable of ``text``; unknown ones become empty strings.

    A value may name a long variable many times over: past ``limit`` characters
    the expansion stops with TemplateLimitError instead of filling the memory.
    """
    if "$" not in text:
        return text
    extras = {key.upper(): value for key, value in (extra or {}).items()}
    out = []
    pos = size = 0
    while match := _VARIABLE.search(text, pos):
        out.append(text[pos:match.start()])
        name = match.group(1).upper()
        if match.group(2):
            attr, condition, pos = _bracket(text, match.end(), match.group(1))
            out.append(_vector_value(name, attr, condition, vm, networks))
        else:
            out.append(extras[name] if name in extras else vm.get(name) or "")
            pos = match.end()
        size += len(out[-2]) + len(out[-1])
        _check_size(size, limit)
    out.append(text[pos:])
    _check_size(size + len(out[-1]), limit)
    return "".join(out)


def _check_size(size: int, limit: int | None) -> None:
    if limit is not None and size > limit:
        raise TemplateLimitError(f"Variables expand to more than {limit} characters "
                                 f"(TEMPLATE_MAX_VALUE).")


def _skip_blanks(text: str, pos: int) -> int:
    """The index after the blanks at ``pos``."""
    match = _BLANKS.match(text, pos)
    assert match is not None  # ``\s*`` matches anywhere, if only the empty string
    return match.end()


def _bracket(text: str, pos: int, var: str) -> tuple[str, _Condition, int]:
    """Parse ``ATTR]`` or ``ATTR, KEY = value]`` after ``$VAR[`` at ``pos``.

    Returns the attribute, the optional condition and the index after ``]``.
    """
    opening = pos - 1

    def fail(at: int, what: str) -> Exception:
        if at >= len(text):
            return error_at(text, opening, f"unterminated variable '${var}['")
        return error_at(text, at, f"{what} in variable '${var}['")

    match = _NAME.match(text, pos)
    if not match:
        raise fail(_skip_blanks(text, pos), "expected an attribute name")
    attr, pos = match.group(1).upper(), match.end()
    condition: _Condition = None
    if text.startswith(",", pos):
        match = _NAME.match(text, pos + 1)
        if not match:
            raise fail(_skip_blanks(text, pos + 1), "expected an attribute name")
        key, pos = match.group(1).upper(), match.end()
        if not text.startswith("=", pos):
            raise fail(pos, f"expected '=' after {key!r}")
        pos = _skip_blanks(text, pos + 1)
        match = _VALUE.match(text, pos)
        if not match:
            quoted = text.startswith('"', pos)
            raise fail(pos, "unterminated quoted string" if quoted else "expected a value")
        value = match.group(1) if match.group(1) is not None else match.group(2)
        condition, pos = (key, value), _skip_blanks(text, match.end())
    if not text.startswith("]", pos):
        raise fail(pos, "expected ']'")
    return attr, condition, pos + 1


def _vector_value(
    name: str, attr: str, condition: _Condition, vm: Template, networks: NetworkLookup | None
) -> str:
    """``$NAME[ATTR]``: from the first matching VM vector, or from a virtual network."""
    if name == "NETWORK" and condition and condition[0] in _NETWORK_KEYS:
        network = networks(*condition) if networks else None
        return (network.get(attr) or "") if network else ""
    for vector in vm.vectors(name):
        if condition is None or vector.get(condition[0]) == condition[1]:
            return vector.get(attr, "")
    return ""


def substitute_template(
    t: Template,
    names: Iterable[str],
    vm: Template | None = None,
    networks: NetworkLookup | None = None,
    extra: Mapping[str, str] | None = None,
    limit: int | None = None,
) -> None:
    """Substitute every value (singles and each vector value) of the attributes called
    ``names`` in place; variables refer to ``vm``, by default ``t`` itself as it was
    before any substitution.  No value may grow beyond ``limit`` characters."""
    source = t if vm is None else vm
    wanted = {name.upper() for name in names}
    attrs: list[tuple[str, Value]] = []
    for name, value in t.attrs:
        if name in wanted:
            if isinstance(value, str):
                value = substitute(value, source, networks, extra, limit)
            else:
                value = {k: substitute(v, source, networks, extra, limit)
                         for k, v in value.items()}
        attrs.append((name, value))
    t.attrs = attrs
