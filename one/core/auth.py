"""Who is calling: sessions, password hashes, login tokens and the dialect.

A session string is `user:secret`. Classic (1.4-3.0) clients send the SHA1 hex
of the password, modern ones the password itself or a login token. A caller
whose secret *is* the stored SHA1 speaks the classic dialect and gets classic
documents; everyone else gets the 7.4 API.
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field

from one.errors import AuthenticationError
from one.pool.models import User

ONEADMIN_GROUP = 0


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """An authenticated caller, as the request layer passes it to managers."""

    uid: int
    gid: int
    uname: str
    gname: str
    groups: frozenset[int] = field(default_factory=frozenset)
    classic: bool = False

    @property
    def is_admin(self) -> bool:
        return self.uid == 0 or ONEADMIN_GROUP in self.groups


def _secret_matches(user: User, secret: str) -> bool | None:
    """True for a modern match, False for a classic one, None for no match."""
    now = time.time()
    for token in user.tokens:
        if hmac.compare_digest(token["TOKEN"], secret) and (
                token["EXPIRATION_TIME"] < 0 or token["EXPIRATION_TIME"] > now):
            return True
    if user.sha1 and hmac.compare_digest(user.sha1, secret):
        return False
    if user.sha256 and hmac.compare_digest(user.sha256, sha256_hex(secret)):
        return True
    if user.sha1 and hmac.compare_digest(user.sha1, sha1_hex(secret)):
        return True
    return None


class Authenticator:
    """Checks session strings, with a cache that user changes clear."""

    def __init__(self, cache_seconds: float = 60.0) -> None:
        self._cache: dict[str, tuple[Session, float]] = {}
        self._lock = threading.Lock()
        self.cache_seconds = cache_seconds

    def forget(self) -> None:
        """Drop every cached session: called after any change to users."""
        with self._lock:
            self._cache.clear()

    def authenticate(self, session: str) -> Session:
        cached = self._cache.get(session)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        result = self._check(session)
        with self._lock:
            self._cache[session] = (result, time.monotonic() + self.cache_seconds)
        return result

    @staticmethod
    def _check(session: str) -> Session:
        name, sep, secret = session.partition(":")
        user = User.get_or_none(User.name == name) if sep and name else None
        modern = _secret_matches(user, secret) if user is not None else None
        if user is None or modern is None or not user.enabled:
            raise AuthenticationError("User couldn't be authenticated, aborting call.")
        return Session(uid=user.oid, gid=user.gid, uname=user.name, gname=user.gname,
                       groups=frozenset(user.groups), classic=not modern)
