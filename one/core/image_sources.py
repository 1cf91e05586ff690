"""Where a plain user's image may come from, and reading it from there.

oned copies an image's PATH with its own rights, so for users outside the
oneadmin group a PATH must lie in one of the datastore's SAFE_DIRS when it lies in
one of its RESTRICTED_DIRS (OpenNebula's datastore attributes, default
RESTRICTED_DIRS = "/" and SAFE_DIRS = "/var/tmp"), and never in oned's own files
(VAR_LOCATION, the ONE_AUTH file). Paths are compared after realpath, and checked
again on the file actually opened, so symlinks and `..` cannot escape.

A URL must be http(s) to a host none of whose addresses is loopback, link-local,
unspecified or multicast, checked again at every connection (redirects included),
which goes to the very address checked. The datastore's SAFE_URL_HOSTS (host
names or addresses, set by an administrator) lifts the address check for them.
"""
from __future__ import annotations

import http.client
import ipaddress
import os
import shutil
import socket
import stat
import struct
import urllib.request
from dataclasses import dataclass
from typing import IO, Any, Callable, cast
from urllib.parse import urlsplit

from one.errors import AuthorizationError
from one.pool.template import Template

MB = 2**20
_QCOW2_MAGIC = b"QFI\xfb"


def _within(path: str, directory: str) -> bool:
    directory = os.path.realpath(directory)
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    ip = mapped or ip
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast


@dataclass(frozen=True)
class SourcePolicy:
    """The limits of one datastore for a caller outside the oneadmin group."""

    restricted_dirs: tuple[str, ...]
    safe_dirs: tuple[str, ...]
    forbidden: tuple[str, ...]
    safe_hosts: frozenset[str]

    @classmethod
    def of(cls, datastore: Template, forbidden: tuple[str, ...]) -> SourcePolicy:
        def words(name: str, default: str) -> tuple[str, ...]:
            return tuple((datastore.get(name) or default).split())

        return cls(words("RESTRICTED_DIRS", "/"), words("SAFE_DIRS", "/var/tmp"), forbidden,
                   frozenset(h.lower() for h in words("SAFE_URL_HOSTS", "")))

    def check_path(self, path: str) -> None:
        real = os.path.realpath(path)
        if any(_within(real, f) for f in self.forbidden):
            raise AuthorizationError(f"Image PATH '{path}' is one of oned's own files.")
        if any(_within(real, d) for d in self.restricted_dirs) and not any(
                _within(real, d) for d in self.safe_dirs):
            raise AuthorizationError(f"Image PATH '{path}' is not inside the datastore's SAFE_DIRS "
                                     f"({' '.join(self.safe_dirs) or 'none'}).")

    def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise AuthorizationError(f"Image URL '{url}' is refused: only http(s) URLs may be used.")
        self.address(parts.hostname, parts.port or (443 if parts.scheme.lower() == "https" else 80))

    def address(self, host: str, port: int) -> str:
        """The address to connect to, once every address of `host` is allowed."""
        if host.lower() in self.safe_hosts:
            return host
        try:
            # Only IPv4 and IPv6 answer for a host name: their first item is the address text.
            found = [cast(str, info[4][0])
                     for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except socket.gaierror as exc:
            raise AuthorizationError(f"Image URL host '{host}' cannot be resolved: {exc}") from None
        refused = [a for a in found if _refused_address(a)]
        if refused or not found:
            raise AuthorizationError(f"Image URL host '{host}' is refused: it resolves to "
                                     f"{', '.join(refused) or 'nothing'} (loopback, link-local, "
                                     "unspecified or multicast).")
        return found[0]


def copy_file(path: str, target: str, policy: SourcePolicy | None) -> None:
    """Copy the regular file `path` (a FIFO or device swapped in meanwhile cannot
    block or flood the copy); under a policy, the file actually opened is checked again."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    with open(fd, "rb") as source:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        if policy is not None:
            policy.check_path(os.readlink(f"/proc/self/fd/{fd}"))
        with open(target, "wb") as out:
            shutil.copyfileobj(source, out, MB)


def download(url: str, target: str, policy: SourcePolicy | None, timeout: float = 30) -> None:
    opener = urllib.request.build_opener() if policy is None else _guarded_opener(policy)
    with opener.open(url, timeout=timeout) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out, MB)


def _pinned(cls: type[http.client.HTTPConnection], policy: SourcePolicy) -> Callable[..., Any]:
    """A connection class whose sockets go only to addresses the policy checked
    (http.client's `_create_connection` is where both HTTP and HTTPS connect)."""
    def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        connection = cls(host, **kwargs)

        def connect(address: tuple[str, int], *args: Any) -> socket.socket:
            return socket.create_connection((policy.address(*address), address[1]), *args)

        # A private hook of http.client, absent from its stubs: hence the ignore.
        connection._create_connection = connect  # type: ignore[attr-defined]
        return connection
    return make


class _PinnedHandler(urllib.request.AbstractHTTPHandler):
    """http and https through connections pinned to checked addresses."""

    def __init__(self, policy: SourcePolicy) -> None:
        super().__init__()
        self.policy = policy

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_pinned(http.client.HTTPConnection, self.policy), req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_pinned(http.client.HTTPSConnection, self.policy), req)

    http_request = https_request = urllib.request.AbstractHTTPHandler.do_request_


class _Redirects(urllib.request.HTTPRedirectHandler):
    """A redirect is followed only to a URL the policy allows."""

    def __init__(self, policy: SourcePolicy) -> None:
        self.policy = policy

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        self.policy.check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _guarded_opener(policy: SourcePolicy) -> urllib.request.OpenerDirector:
    """http(s) only, no proxies from the environment, every hop checked."""
    opener = urllib.request.OpenerDirector()
    for handler in (_PinnedHandler(policy), _Redirects(policy),
                    urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def probe(path: str) -> tuple[str, int]:
    """(FORMAT, SIZE in MB) of an image file: a qcow2 header gives its virtual size,
    as `qemu-img info` tells OpenNebula; anything else is raw, sized by its bytes."""
    with open(path, "rb") as image:
        header = image.read(32)
    if len(header) == 32 and header[:4] == _QCOW2_MAGIC:
        (virtual,) = struct.unpack(">Q", header[24:32])
        return "qcow2", max(1, -(-virtual // MB))
    return "raw", max(1, -(-os.path.getsize(path) // MB))
