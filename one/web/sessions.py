"""Signed-in browsers: the cookie carries a random id, oned's login token stays here.

The browser never sees the token (it would be a password for oned's API); each
login also gets the CSRF token its forms must send back.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Login:
    user: str
    token: str
    csrf: str
    expires: float

    @property
    def session(self) -> str:
        """oned's session string for this user's calls."""
        return f"{self.user}:{self.token}"

    def csrf_ok(self, sent: str) -> bool:
        return bool(sent) and hmac.compare_digest(sent, self.csrf)


class Sessions:
    """Logins by cookie id; an expired one is gone at its next use."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._logins: dict[str, Login] = {}
        self._lock = threading.Lock()

    def open(self, user: str, token: str) -> str:
        sid = secrets.token_urlsafe(32)
        login = Login(user, token, secrets.token_urlsafe(32), time.monotonic() + self.seconds)
        with self._lock:
            now = time.monotonic()  # forgotten logins go with the next sign-in
            self._logins = {key: old for key, old in self._logins.items() if old.expires >= now}
            self._logins[sid] = login
        return sid

    def get(self, sid: str) -> Login | None:
        with self._lock:
            login = self._logins.get(sid)
            if login is not None and login.expires < time.monotonic():
                del self._logins[sid]
                return None
        return login

    def close(self, sid: str) -> Login | None:
        with self._lock:
            return self._logins.pop(sid, None)


class ConsoleTokens:
    """One-time tokens a console page gets for one VM and one login: its WebSocket must
    bring one back, so a page of another site cannot open a console with the cookie."""

    def __init__(self, seconds: float = 60.0) -> None:
        self.seconds = seconds
        self._tokens: dict[str, tuple[str, int, float]] = {}
        self._lock = threading.Lock()

    def issue(self, sid: str, vid: int) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._tokens = {key: held for key, held in self._tokens.items() if held[2] >= now}
            self._tokens[token] = (sid, vid, now + self.seconds)
        return token

    def take(self, token: str, sid: str, vid: int) -> bool:
        """Is `token` unused, unexpired and given to login `sid` for VM `vid`? It is spent."""
        with self._lock:
            held = self._tokens.pop(token, None)
        return (held is not None and held[2] >= time.monotonic() and held[1] == vid
                and hmac.compare_digest(held[0], sid))
