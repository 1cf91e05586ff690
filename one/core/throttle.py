"""Failed-login throttling, per user name and per source address.

Each key (a user name, a peer address) remembers the times of its last N
failures. Once N failures fall inside the window, further attempts under that
key are refused at once (no password hash is computed) until the oldest of
them leaves the window. Refused attempts are not counted, so once an attack
stops the real user waits at most one window; sessions already authenticated
are served from the auth cache and never reach the throttle.

Sources in the exempt list (by default the loopback addresses, where the
front-end's own services proxy many users) are not counted per source, so one
user's typos behind a local proxy cannot lock out everyone else; their user
names still are.
"""
from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from typing import Callable, Iterable

from one.errors import AuthenticationError, OneError

MAX_KEYS = 10_000  # keys remembered; the least recently failed go first


def _networks(specs: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)
    except ValueError as exc:
        raise OneError(f"Configuration: AUTH_THROTTLE_EXEMPT: {exc}") from None


class Throttle:
    def __init__(self, user_failures: int, source_failures: int, window: float,
                 exempt: Iterable[str] = ("127.0.0.0/8", "::1"),
                 clock: Callable[[], float] = time.monotonic) -> None:
        """A limit of 0 turns that half off."""
        self.limits = {"user": user_failures, "source": source_failures}
        self.window = window
        self.exempt = _networks(exempt)
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, name: str, source: str) -> list[tuple[str, str]]:
        keys = [("user", name)] if self.limits["user"] else []
        if source and self.limits["source"] and not self._exempt(source):
            keys.append(("source", source))
        return keys

    def _exempt(self, source: str) -> bool:
        try:
            address = ipaddress.ip_address(source)
        except ValueError:
            return False
        return any(address in network for network in self.exempt)

    def check(self, name: str, source: str) -> None:
        """Refuse (AUTHENTICATION) while either key is over its limit."""
        now = self._clock()
        with self._lock:
            for kind, value in self._keys(name, source):
                times = self._failures.get((kind, value))
                if times is None or len(times) < self.limits[kind]:
                    continue
                wait = self.window - (now - times[0])
                if wait > 0:
                    what = f"for user {value}" if kind == "user" else f"from {value}"
                    raise AuthenticationError(
                        f"Too many failed logins {what}; try again in {math.ceil(wait)} s.")

    def failed(self, name: str, source: str) -> None:
        now = self._clock()
        with self._lock:
            for kind, value in self._keys(name, source):
                times = self._failures.pop((kind, value), None)
                if times is None:
                    times = deque(maxlen=self.limits[kind])
                times.append(now)
                self._failures[(kind, value)] = times
            self._forget_old(now)

    def _forget_old(self, now: float) -> None:
        """Keys are ordered by last failure: drop expired ones and any beyond MAX_KEYS."""
        while self._failures:
            key, times = next(iter(self._failures.items()))
            if len(self._failures) <= MAX_KEYS and now - times[-1] < self.window:
                return
            del self._failures[key]
