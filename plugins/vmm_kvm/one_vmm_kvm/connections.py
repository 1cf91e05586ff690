"""libvirt connections per host, reopened when libvirtd went away.

The front-end's own host is reached at `qemu:///system`, others at
`qemu+ssh://<host>/system`; a host's TEMPLATE `LIBVIRT_URI`, or the driver
setting `URI` (with `{host}`), overrides that.
"""
from __future__ import annotations

import socket
import threading
from typing import Callable, Mapping, TypeVar

import libvirt

from one.plugins.views import HostView

T = TypeVar("T")
# libvirt prints every error on stderr by default; the driver reports them itself.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}
# Errors that mean the connection itself is gone: retry once on a new one.
_CONNECTION_ERRORS = {libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_INTERNAL_ERROR,
                      libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_ERR_INVALID_CONN,
                      libvirt.VIR_ERR_RPC}


def host_uri(host: HostView, settings: Mapping[str, str]) -> str:
    explicit = host.template.get("LIBVIRT_URI")
    if explicit:
        return explicit
    if host.name in LOCAL_NAMES or host.name == socket.gethostname():
        return settings.get("LOCAL_URI", "qemu:///system")
    return settings.get("URI", "qemu+ssh://{host}/system").format(host=host.name)


class Connections:
    def __init__(self, settings: Mapping[str, str]) -> None:
        self.settings = settings
        self._open: dict[str, libvirt.virConnect] = {}
        self._lock = threading.Lock()

    def uri(self, host: HostView) -> str:
        return host_uri(host, self.settings)

    def get(self, uri: str) -> libvirt.virConnect:
        with self._lock:
            conn = self._open.get(uri)
            if conn is None or not _alive(conn):
                conn = self._open[uri] = libvirt.open(uri)
            return conn

    def forget(self, uri: str) -> None:
        with self._lock:
            conn = self._open.pop(uri, None)
        if conn is not None:
            try:
                conn.close()
            except libvirt.libvirtError:
                pass

    def run(self, host: HostView, call: Callable[[libvirt.virConnect], T]) -> T:
        """Run `call` on the host's connection; one found dead after a failure is
        reopened and the call made again. An error a live connection relays is
        the call's own, even of a connection kind (a migration target's
        unreachable libvirtd is a SYSTEM_ERROR): the call is not repeated."""
        uri = self.uri(host)
        conn = self.get(uri)
        try:
            return call(conn)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in _CONNECTION_ERRORS or _alive(conn):
                raise
            self.forget(uri)
            return call(self.get(uri))


def _alive(conn: libvirt.virConnect) -> bool:
    try:
        return bool(conn.isAlive())
    except libvirt.libvirtError:
        return False
