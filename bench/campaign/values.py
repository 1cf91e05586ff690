"""Hypothesis strategies for hostile XML-RPC arguments, and a wire that can send them:
xmlrpc.client refuses ints beyond 32 bits, so ints are marshalled here as <i8> of
any width (as a client in another language may send them)."""
from __future__ import annotations

import math
import xmlrpc.client
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import strategies as st

HUGE = 10 * 2**20 + 1  # one past libxml2's 10 MB limit on a text node
_TEMPLATE_KEYS = ("NAME", "CPU", "VCPU", "MEMORY", "NIC", "DISK", "PATH", "SOURCE", "TYPE",
                  "VN_MAD", "BRIDGE", "AR", "SCHED_REQUIREMENTS", "CONTEXT", "SIZE", "IP")


def _dump_wide_int(_: xmlrpc.client.Marshaller, value: Any, write: Callable[[str], object]) -> None:
    tag = "int" if -2**31 <= value < 2**31 else "i8"
    write(f"<value><{tag}>{value}</{tag}></value>\n")


class WideMarshaller(xmlrpc.client.Marshaller):
    """A Marshaller whose ints may be of any size: <int> when they fit, else <i8>."""

    def __init__(self) -> None:
        super().__init__("utf-8", allow_none=False)
        self.dispatch = {**xmlrpc.client.Marshaller.dispatch, int: _dump_wide_int}


def request(method: str, params: list[Any]) -> bytes:
    body = WideMarshaller().dumps(tuple(params))
    return (f"<?xml version='1.0'?>\n<methodCall>\n<methodName>{escape(method)}</methodName>\n"
            f"{body}</methodCall>\n").encode()


def _xml_char(char: str) -> bool:
    """Characters XML 1.0 can carry at all; everything else cannot reach oned."""
    code = ord(char)
    return char in "\t\n\r" or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code > 0xFFFF


def short(value: Any) -> str:
    """A repr that stays readable when a value is megabytes long."""
    if isinstance(value, str) and len(value) > 60:
        return f"<{len(value):,}-char string {value[:20]!r}...>"
    if isinstance(value, list):
        return "[" + ", ".join(map(short, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, xmlrpc.client.Binary):
        return f"Binary({value.data[:20]!r})"
    return repr(value)


@dataclass(frozen=True)
class Values:
    """The leaf strategies, by XML-RPC type, and arbitrary nested values."""

    ints: st.SearchStrategy[int]
    strings: st.SearchStrategy[str]
    any: st.SearchStrategy[Any]

    def of_type(self, kind: str) -> st.SearchStrategy[Any]:
        return {"int": self.ints, "i4": self.ints, "i8": self.ints, "string": self.strings,
                "boolean": st.booleans(), "double": _doubles()}.get(kind, self.any)


def _doubles() -> st.SearchStrategy[float]:
    return st.one_of(st.floats(), st.sampled_from([math.inf, -math.inf, math.nan, 1e308]))


def values(protected: Collection[int]) -> Values:
    """Ints never name a `protected` id (the sessions the campaign itself relies on),
    so the fuzz cannot lock itself out by changing oneadmin's password."""
    small = st.integers(-3, 12)
    wide = st.one_of(st.integers(-2**31, 2**31 - 1), st.integers(2**63 - 2, 2**80),
                     st.integers(-2**80, -2**63 + 2))
    ints = st.one_of(small, small, wide).filter(lambda i: i not in protected)
    text = st.text(st.characters().filter(_xml_char), max_size=40)
    odd = st.sampled_from(["Ã©tÃ©", "\u202eevil", "\ufffd\ufffd", "\x7f\x85\x9f",
                           "caf\u00e9" * 3, "../../etc/passwd", "%s%n", "-1", "1e999"])
    huge = st.integers(0, 99).flatmap(lambda n: st.just("x" * HUGE) if n == 57 else text)
    strings = st.one_of(odd, huge, _templates(text), _templates(huge))
    leaf = st.one_of(ints, _doubles(), strings, st.booleans(),
                     st.binary(max_size=16).map(xmlrpc.client.Binary))
    nested = st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=3)), max_leaves=6)
    return Values(ints, strings, nested)


def arguments(signatures: list[list[str]], leaves: Values) -> st.SearchStrategy[list[Any]]:
    """Mostly argument lists of a declared signature (so calls get past binding and
    reach the code behind it), with hostile values; sometimes any list at all.
    A signature is [return type, session type, parameter types...]."""
    typed = [st.tuples(*map(leaves.of_type, signature[2:])).map(list)
             for signature in signatures if len(signature) >= 2]
    shorter = [st.tuples(*map(leaves.of_type, signature[2:-1])).map(list)
               for signature in signatures if len(signature) > 2]
    return st.one_of(*typed, *typed, *typed, *shorter, st.lists(leaves.any, max_size=6))


def _templates(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Template text that parses, with values that should not pass."""
    number = st.one_of(st.integers(-2**70, 2**70).map(str),
                       st.sampled_from(["inf", "nan", "1e308", "-0", "0x10", ""]))
    attr = st.tuples(st.sampled_from(_TEMPLATE_KEYS), st.one_of(number, text))
    vector = st.tuples(st.sampled_from(("NIC", "DISK", "AR", "CONTEXT")),
                       st.lists(attr, max_size=3))

    def render(attrs: list[tuple[str, str]], vectors: list[tuple[str, list]]) -> str:
        quoted = [f'{k} = "{v.replace(chr(34), "")}"' for k, v in attrs]
        quoted += [f"{name} = [ " + ", ".join(f'{k} = "{v.replace(chr(34), "")}"'
                                              for k, v in inner) + " ]"
                   for name, inner in vectors if inner]
        return "\n".join(quoted)

    return st.builds(render, st.lists(attr, max_size=4), st.lists(vector, max_size=2))
