"""An oned process that can be killed with SIGKILL and started again over the same
var directory, and the XML-RPC client the campaigns talk to it with."""
from __future__ import annotations

import contextlib
import xmlrpc.client
from pathlib import Path
from typing import Any

from bench.campaign.findings import Findings
from bench.rpc import SESSION, BenchError
from bench.server import Server, running_server

# Faults and transport errors a call may meet while oned is being killed.
CALL_ERRORS = (OSError, xmlrpc.client.ProtocolError, xmlrpc.client.Fault)
TRACEBACK = "traceback in oned's output"


class Client:
    """One keep-alive connection with one session; thread-confined like its socket."""

    def __init__(self, url: str, session: str = SESSION) -> None:
        self.url = url
        self.session = session
        self.proxy = xmlrpc.client.ServerProxy(url)

    def call(self, method: str, *args: Any) -> list[Any]:
        """The `[ok, value, code]` triple of a call with this session."""
        return list(getattr(self.proxy, method)(self.session, *args))

    def ok(self, method: str, *args: Any) -> Any:
        reply = self.call(method, *args)
        if not reply[0]:
            raise BenchError(f"{method}{args!r:.200} failed: {reply[1]}")
        return reply[1]

    def introspect(self, name: str, *args: Any) -> Any:
        """system.<name>, which takes no session."""
        return getattr(self.proxy.system, name)(*args)


class Oned:
    """`oned -f` over `var`, restartable: the crash campaign's server."""

    def __init__(self, var: Path, config: str, scheduler: bool = True) -> None:
        self.var = var
        self.config = config
        self.scheduler = scheduler
        self._stack = contextlib.ExitStack()
        self.server: Server | None = None
        self.tracebacks: list[str] = []  # the last line of each, from every life's output

    def start(self) -> Client:
        self.server = self._stack.enter_context(running_server(self.var, self.config,
                                                               self.scheduler))
        return Client(self.server.url)

    def kill(self) -> None:
        """SIGKILL, as a power cut would: nothing of oned's shutdown runs."""
        if self.server is not None:
            self.server.process.kill()
            self.server.process.wait()
        self.stop()

    def stop(self) -> None:
        self._stack.close()
        self.server = None
        self._read_output()

    def _read_output(self) -> None:
        """Keep what each life printed of its tracebacks: the next start overwrites it."""
        output = self.var / "oned.out"
        lines = output.read_text(errors="replace").splitlines() if output.exists() else []
        for number, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                ending = next((later for later in lines[number + 1:]
                               if later and not later.startswith(" ")), "?")
                self.tracebacks.append(ending)
        output.unlink(missing_ok=True)

    @property
    def alive(self) -> bool:
        return self.server is not None and self.server.process.poll() is None


def record_tracebacks(oned: Oned, findings: Findings) -> None:
    """A traceback is a bug even when the reply was fine: one finding per cause."""
    findings.declare(TRACEBACK)
    for ending in oned.tracebacks:
        findings.add(TRACEBACK, ending, ending)
