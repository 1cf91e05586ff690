"""Signed-in browsers: the cookie carries a random id, oned's login token stays here.

The browser never sees the token (it would be a password for oned's API); each
login also gets the CSRF token its forms must send back. With a `SessionFile` the
logins are also on disk (0600), so a restarted one-web knows them.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import asdict, dataclass

from one.web.session_file import SessionFile


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
    """Logins by cookie id; an expired one is gone at its next use. Expiry is wall-clock
    time (epoch seconds): a login read back from the file after a restart keeps it."""

    def __init__(self, seconds: int, store: SessionFile | None = None) -> None:
        self.seconds, self._store = seconds, store
        self._logins = {sid: Login(**entry) for sid, entry in
                        (store.load() if store else {}).items()}
        self._lock = threading.Lock()

    def open(self, user: str, token: str) -> str:
        sid = secrets.token_urlsafe(32)
        login = Login(user, token, secrets.token_urlsafe(32), time.time() + self.seconds)
        with self._lock:
            now = time.time()  # forgotten logins go with the next sign-in
            self._logins = {key: old for key, old in self._logins.items() if old.expires >= now}
            self._logins[sid] = login
            self._save()
        return sid

    def get(self, sid: str) -> Login | None:
        with self._lock:
            login = self._logins.get(sid)
            if login is not None and login.expires < time.time():
                del self._logins[sid]
                return None
        return login

    def close(self, sid: str) -> Login | None:
        with self._lock:
            login = self._logins.pop(sid, None)
            if login is not None:
                self._save()
            return login

    def _save(self) -> None:
        """Under the lock: the file follows every sign-in and sign-out, in order."""
        if self._store is not None:
            self._store.save({sid: asdict(login) for sid, login in self._logins.items()})


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
