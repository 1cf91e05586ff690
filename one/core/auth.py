"""Who is calling: sessions, passwords, login tokens, the dialect, the cache.

A session string is `user:secret`. Classic (1.4-3.0) clients send the SHA1 hex
of the password, modern ones the password itself or a login token. A caller
whose secret is the password's SHA1 speaks the classic dialect and gets
classic documents; everyone else gets the 7.4 API. What is stored is neither
(see `one.pool.credentials`), so verifying costs a slow hash: the cache below
keeps the hot path (thousands of calls per second on one session) to a dict
lookup.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from dataclasses import dataclass, field

from one.core.acl_rules import RuleSet
from one.core.throttle import Throttle
from one.errors import AuthenticationError
from one.pool.credentials import sha1_hex, token_digest, verify_password
from one.pool.models import User

ONEADMIN_GROUP = 0
_SHA1_LENGTH = 40
CACHE_ENTRIES = 10_000  # sessions cached at most
_REFUSED = "User couldn't be authenticated, aborting call."


def is_sha1(text: str) -> bool:
    return len(text) == _SHA1_LENGTH and all(c in "0123456789abcdef" for c in text.lower())


@dataclass(frozen=True)
class Session:
    """An authenticated caller, as the request layer passes it to managers."""

    uid: int
    gid: int
    uname: str
    gname: str
    groups: frozenset[int] = field(default_factory=frozenset)
    classic: bool = False
    rules: RuleSet = field(default_factory=RuleSet, compare=False, repr=False)  # the ACL rules

    @property
    def is_admin(self) -> bool:
        return self.uid == 0 or ONEADMIN_GROUP in self.groups


@dataclass(frozen=True)
class _Match:
    classic: bool
    expires: float  # wall-clock time the secret stops being valid (inf: never)


def _secret_matches(user: User, secret: str) -> _Match | None:
    """Tokens first (one SHA256), then the password as classic SHA1, then as itself."""
    now, digest = time.time(), token_digest(secret)
    for token in user.tokens:
        expires = token["EXPIRATION_TIME"]
        if hmac.compare_digest(token["DIGEST"], digest) and (expires < 0 or expires > now):
            return _Match(False, math.inf if expires < 0 else expires)
    if is_sha1(secret) and verify_password(user.password, secret.lower()):
        return _Match(True, math.inf)
    if verify_password(user.password, sha1_hex(secret)):
        return _Match(False, math.inf)
    return None


class Authenticator:
    """Checks session strings, with a cache that user changes clear.

    Entries are keyed by a digest of the session string, never the secret
    itself, and live at most `cache_seconds` and never past the expiry of the
    token they were checked against. `forget` (after any change to users)
    bumps a generation, so a check that read the old row while the change
    committed cannot put its stale result back into the cache.
    """

    def __init__(self, throttle: Throttle, cache_seconds: float = 60.0,
                 rules: RuleSet | None = None) -> None:
        self.rules = RuleSet() if rules is None else rules  # shared with the ACL manager
        self._cache: dict[bytes, tuple[Session, float]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self.throttle = throttle
        self.cache_seconds = cache_seconds

    def forget(self) -> None:
        """Drop every cached session: called after any change to users."""
        with self._lock:
            self._generation += 1
            self._cache.clear()

    def authenticate(self, session: str, source: str = "") -> Session:
        """The caller of a session string; `source` is its peer address, for throttling."""
        key = hashlib.sha256(session.encode()).digest()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        generation = self._generation
        result, expires = self._check(session, source)
        lifetime = min(self.cache_seconds, expires - time.time())
        with self._lock:
            if generation == self._generation:
                if len(self._cache) >= CACHE_ENTRIES:
                    self._drop_expired()
                self._cache[key] = (result, time.monotonic() + lifetime)
        return result

    def _drop_expired(self) -> None:
        """Keep the cache bounded: expired entries go, and all of them if none has."""
        now = time.monotonic()
        live = {key: entry for key, entry in self._cache.items() if entry[1] > now}
        self._cache = live if len(live) < CACHE_ENTRIES else {}

    def _check(self, session: str, source: str) -> tuple[Session, float]:
        name, sep, secret = session.partition(":")
        self.throttle.check(name, source)
        user = User.get_or_none(User.name == name) if sep and name else None
        match = _secret_matches(user, secret) if user is not None else None
        if user is None or match is None or not user.enabled:
            self.throttle.failed(name, source)
            raise AuthenticationError(_REFUSED)
        return Session(uid=user.oid, gid=user.gid, uname=user.name, gname=user.gname,
                       groups=frozenset(user.groups), classic=match.classic,
                       rules=self.rules), match.expires
