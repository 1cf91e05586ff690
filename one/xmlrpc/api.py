"""The method table: typed signatures, overloads, authentication, replies.

Every ONE method is registered with its parameters after the session. Calls
are bound by XML-RPC type; optional trailing parameters take OpenNebula's
defaults and extra trailing ones are ignored, as oned does. A name may have
several signatures (classic and modern forms); the first that fits wins.
This module is the one place where errors become `[False, message, code]`.

Over HTTP a call is admitted in two steps (see `one.xmlrpc.http`): `admit`
authenticates the session found in the head of the body, and only an
authenticated caller's body is read in full (up to MESSAGE_SIZE) and parsed
by `serve`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from one.core.auth import Session
from one.errors import ApiError, OneError
from one.xmlrpc import preview, wire
from one.xmlrpc.http import HEAD_LIMIT, Admission

log = logging.getLogger(__name__)
_REQUIRED = object()
_TYPE_NAMES = {int: "an integer", str: "a string", bool: "a boolean", list: "an array"}
_XMLRPC_TYPES = {int: "int", str: "string", bool: "boolean", list: "array"}
# OpenNebula reads every integer parameter as an XML-RPC i4: ids, flags and times
# beyond it cannot name anything, and would overflow the database columns.
I4_RANGE = range(-2**31, 2**31)
FAULT_NO_METHOD = -506
FAULT_PARSE = -32700


@dataclass(frozen=True)
class Param:
    name: str
    kind: type
    default: Any = _REQUIRED

    def accepts(self, value: Any) -> bool:
        if self.kind is int:
            return type(value) is int
        if self.kind is bool:
            return isinstance(value, bool) or (type(value) is int and value in (0, 1))
        return isinstance(value, self.kind)

    def convert(self, value: Any) -> Any:
        return bool(value) if self.kind is bool else value


def I(name: str, default: Any = _REQUIRED) -> Param:  # noqa: E743 - OpenNebula's type letters
    return Param(name, int, default)


def S(name: str, default: Any = _REQUIRED) -> Param:
    return Param(name, str, default)


def B(name: str, default: Any = _REQUIRED) -> Param:
    return Param(name, bool, default)


def A(name: str, default: Any = _REQUIRED) -> Param:
    return Param(name, list, default)


class OutOfRange(ApiError):
    """An integer of the right type beyond i4: final, no other signature is tried
    (one that ignores the parameter would silently drop it)."""


def _beyond_i4(value: Any) -> bool:
    """An integer, or an array holding one, that no i4 can carry."""
    if type(value) is int:
        return value not in I4_RANGE
    return isinstance(value, list) and any(_beyond_i4(item) for item in value)


@dataclass
class Signature:
    params: tuple[Param, ...]
    handler: Callable[..., Any]
    help: str = ""

    def bind(self, args: Sequence[Any]) -> list[Any]:
        bound = []
        for position, param in enumerate(self.params):
            if position >= len(args):
                if param.default is _REQUIRED:
                    raise ApiError(f"Missing parameter {position + 2} ({param.name}), "
                                   f"{_TYPE_NAMES[param.kind]}.")
                bound.append(param.default)
            elif param.accepts(args[position]):
                if _beyond_i4(args[position]):
                    raise OutOfRange(f"Parameter {position + 2} ({param.name}) is out of range: "
                                   f"integers are 32-bit (i4).")
                bound.append(param.convert(args[position]))
            else:
                raise ApiError(f"Parameter {position + 2} ({param.name}) must be "
                               f"{_TYPE_NAMES[param.kind]}, not {type(args[position]).__name__}.")
        return bound


@dataclass(frozen=True)
class _Ticket:
    """What `admit` learnt: who is calling (if it could tell) and from where."""

    peer: str
    secret: str | None = None
    session: Session | None = None


@dataclass
class Api:
    authenticate: Callable[[str, str], Session]
    message_size: int = 256 * 1024 * 1024  # MESSAGE_SIZE: largest authenticated body
    methods: dict[str, list[Signature]] = field(default_factory=dict)

    def add(self, name: str, params: Sequence[Param], handler: Callable[..., Any],
            help: str = "") -> None:
        self.methods.setdefault(name, []).append(Signature(tuple(params), handler, help))

    def admit(self, head: bytes, length: int, peer: str) -> Admission:
        """Authenticate from the head of the body, before the rest is read.

        A body that fits in the head may also be parsed anonymously (that is
        how parse errors, introspection and odd-but-valid encodings are
        answered); a longer one must show its method and session up front.
        """
        found = preview.peek(head)
        complete = length <= len(head)
        if found is None or found[0].startswith("system."):
            if complete:
                return Admission(ticket=_Ticket(peer))
            named = preview.method(head)
            if named in self.methods:  # a call of ours whose session cannot be read there
                return Admission(refusal=wire.reply(False, (
                    f"[{named}] User couldn't be authenticated: a request over {HEAD_LIMIT} "
                    "bytes must have the session string, as plain text, as its first "
                    "parameter."), 0x100))
            return Admission(refusal=wire.fault(FAULT_PARSE, (
                f"A request over {HEAD_LIMIT} bytes must start with its methodName and "
                "the session string as its first parameter.")))
        method, secret = found
        if method not in self.methods:
            return Admission(refusal=wire.fault(FAULT_NO_METHOD, f"Method '{method}' not defined"))
        try:
            session = self.authenticate(secret, peer)
        except OneError as exc:
            return Admission(refusal=wire.reply(False, f"[{method}] {exc.message}", exc.code))
        if length > self.message_size:
            return Admission(refusal=wire.reply(False, (
                f"[{method}] Request of {length} bytes exceeds MESSAGE_SIZE "
                f"({self.message_size} bytes)."), 0x1000))
        return Admission(ticket=_Ticket(peer, secret, session))

    def serve(self, body: bytes, ticket: _Ticket) -> list[bytes]:
        try:
            method, params = wire.parse_request(body)
        except wire.WireError as exc:
            return wire.fault(FAULT_PARSE, str(exc))
        known = ticket.session if params and params[0] == ticket.secret else None
        return self.call(method, params, ticket.peer, known)

    def call(self, method: str, params: Sequence[Any], source: str = "",
             known: Session | None = None) -> list[bytes]:
        """Run one call; `known` is the caller when `admit` already authenticated params[0]."""
        if method.startswith("system."):
            return self._introspect(method, params)
        variants = self.methods.get(method)
        if variants is None:
            return wire.fault(FAULT_NO_METHOD, f"Method '{method}' not defined")
        try:
            if not params or not isinstance(params[0], str):
                raise ApiError("Parameter 1 (session) must be a string 'user:password'.")
            session = known or self.authenticate(params[0], source)
            signature, args = self._bind(variants, params[1:])
            value = signature.handler(session, *args)
        except OneError as exc:
            return wire.reply(False, f"[{method}] {exc.message}", exc.code)
        except Exception as exc:  # a bug must not become a traceback or a 500
            log.exception("internal error in %s", method)
            return wire.reply(False, f"[{method}] Internal error: {exc}", 0x2000)
        return wire.reply(True, value, 0)

    @staticmethod
    def _bind(variants: list[Signature], args: Sequence[Any]) -> tuple[Signature, list[Any]]:
        first_error: ApiError | None = None
        for signature in variants:
            try:
                return signature, signature.bind(args)
            except OutOfRange:
                raise
            except ApiError as exc:
                first_error = first_error or exc
        assert first_error is not None
        raise first_error

    def _introspect(self, method: str, params: Sequence[Any]) -> list[bytes]:
        if method == "system.listMethods":
            return wire.raw_reply(sorted(self.methods) + [
                "system.listMethods", "system.methodHelp", "system.methodSignature"])
        name = params[0] if params and isinstance(params[0], str) else ""
        if name not in self.methods:
            return wire.fault(FAULT_NO_METHOD, f"Method '{name}' not defined")
        if method == "system.methodHelp":
            return wire.raw_reply(self.methods[name][0].help)
        if method == "system.methodSignature":
            return wire.raw_reply([
                ["array", "string"] + [_XMLRPC_TYPES[p.kind] for p in s.params]
                for s in self.methods[name]])
        return wire.fault(FAULT_NO_METHOD, f"Method '{method}' not defined")


def returns_id(action: Callable[..., Any]) -> Callable[..., int]:
    """Wrap a manager verb `(session, oid, ...)` so the reply is the object id,
    as oned answers every action."""
    def call(session: Session, oid: int, *args: Any) -> int:
        action(session, oid, *args)
        return oid
    call.__doc__ = action.__doc__
    return call
