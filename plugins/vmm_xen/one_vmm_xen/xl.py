"""`xl` on a host, through the executor the transfer drivers use (one.drivers.remote).

Each action is one xl command line (golden lines in tests/xen); a failure
comes back as RemoteError with what xl printed, which the core stores in
the VM's ERROR. `XL` in the driver settings names the command (default
`xl`; `sudo xl` when the SSH user is not root).
"""
from __future__ import annotations

import shlex
from collections.abc import Mapping

from one.drivers.guests import wait_until
from one.drivers.remote import Remote, RemoteError, SshSettings, quote
from one.plugins import PollState
from one_vmm_xen import outputs

UNKNOWN_DOMAIN = "is an invalid domain identifier"   # xl's words for a name it does not know


class Xl:
    """The xl commands of OpenNebula's actions, on any host."""

    def __init__(self, config: Mapping[str, str]) -> None:
        self.command = config.get("XL", "xl")
        self.shutdown_timeout = float(config.get("SHUTDOWN_TIMEOUT", "300"))
        self.remote = Remote(SshSettings.from_config(config))

    def line(self, *args: str) -> str:
        """The shell command line of `xl args...` (the command itself may be several words)."""
        return " ".join([*map(quote, shlex.split(self.command)), *map(quote, args)])

    def run(self, host: str | None, *args: str) -> str:
        return self.remote.run(host, self.line(*args))

    def domain(self, host: str | None, name: str) -> outputs.Domain | None:
        """The domain of that name on the host, None when xl knows none."""
        try:
            table = self.run(host, "list", name)
        except RemoteError as exc:
            if UNKNOWN_DOMAIN in exc.detail:
                return None
            raise
        return outputs.domains(table).get(name)

    def alive(self, host: str | None, name: str) -> bool:
        found = self.domain(host, name)
        return found is not None and found.state != PollState.GONE

    def shutdown(self, host: str | None, name: str) -> None:
        """Graceful, and gone within SHUTDOWN_TIMEOUT s, or a failure.

        `-F`: an HVM guest without PV drivers gets an ACPI power button press instead."""
        self.run(host, "shutdown", "-F", name)
        wait_until(lambda: not self.alive(host, name), self.shutdown_timeout,
                   f"{name} did not shut down in {self.shutdown_timeout:g} s")

    def close(self) -> None:
        self.remote.close()
