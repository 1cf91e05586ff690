"""The method name and session of an XML-RPC call, read from the head of its body.

oned authenticates a caller before it parses (or even receives) the whole
request, so an anonymous client cannot make it read and parse megabytes. This
reads just the leading `<methodName>` and the first `<param>`'s string from
the first bytes of the body. It only has to agree with the real parser on
ordinary requests: whatever it returns is checked again against the fully
parsed call, and anything unusual yields None (the caller then falls back to
the parser, on a body small enough to parse unauthenticated).
"""
from __future__ import annotations

import re

_CALL = re.compile(
    rb"\A\s*(?:<\?xml[^>]*\?>)?\s*<methodCall>\s*<methodName>([^<]*)</methodName>\s*"
    rb"<params>\s*<param>\s*<value>(?:\s*<string>([^<]*)</string>|\s*(<string/>)|([^<]*)</value>)")
_METHOD = re.compile(rb"\A\s*(?:<\?xml[^>]*\?>)?\s*<methodCall>\s*<methodName>([^<]*)</methodName>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _entity(found: re.Match[str]) -> str:
    name = found[1]
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    return _NAMED[name]


def _text(raw: bytes) -> str | None:
    """XML character data with its entities replaced; None for anything unusual."""
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return None
    if "&" not in text:
        return text
    if "&" in _ENTITY.sub("", text):
        return None  # an entity XML does not define: the parser will say so
    try:
        return _ENTITY.sub(_entity, text)
    except (ValueError, OverflowError):  # a character reference beyond Unicode
        return None


def peek(head: bytes) -> tuple[str, str] | None:
    """(method name, session string), or None when the head is not that simple."""
    found = _CALL.match(head)
    if found is None:
        return None
    raw = found[2] if found[2] is not None else b"" if found[3] is not None else found[4]
    method, session = _text(found[1].strip()), _text(raw)
    if method is None or session is None:
        return None
    return method, session


def method(head: bytes) -> str | None:
    """Just the method name, for a head whose session `peek` cannot read."""
    found = _METHOD.match(head)
    return None if found is None else _text(found[1].strip())
