"""Hooks: VM_HOOK and HOST_HOOK commands from oned.conf, and plugin notifications.

Both run after the change is committed, in a small pool of their own, so a
slow or failing hook never holds up the life cycle. A hook is
`VM_HOOK = [ NAME = "x", ON = "RUNNING", COMMAND = "/path", ARGUMENTS = "$ID $TEMPLATE" ]`;
$ID is the object id, $TEMPLATE its XML document in base64, $PREV_STATE and
$PREV_LCM_STATE the state it left.
"""
from __future__ import annotations

import base64
import logging
import os
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from one.config import Config
from one.core.lifecycle.phases import EPILOG, FAILURES, RUNNING, SHUTDOWN, Phase
from one.core.views import host_view, vm_view
from one.plugins.manager import PluginManager
from one.pool.models import Host, Vm
from one.states import HostState, VmState

log = logging.getLogger(__name__)
HOOK_TIMEOUT = 120
_VM_STATES = {VmState.DONE: "DONE", VmState.STOPPED: "STOP", VmState.POWEROFF: "POWEROFF",
              VmState.SUSPENDED: "SUSPENDED", VmState.UNDEPLOYED: "UNDEPLOYED"}
_HOST_STATES = {HostState.ERROR: "ERROR", HostState.DISABLED: "DISABLE",
                HostState.MONITORED: "MONITORED", HostState.OFFLINE: "OFFLINE"}


@dataclass(frozen=True)
class Hook:
    name: str
    on: str
    command: str
    arguments: str


def vm_event(previous: Phase, current: Phase) -> str | None:
    """The classic ON name of a VM transition (CREATE, RUNNING, SHUTDOWN, ...)."""
    if previous[0] == VmState.INIT:
        return "CREATE"
    if current == RUNNING:
        return "RUNNING"
    if current == EPILOG and previous == SHUTDOWN:
        return "SHUTDOWN"
    if current in FAILURES:
        return "FAILED"
    return _VM_STATES.get(VmState(current[0])) if current[0] != VmState.ACTIVE else None


class Hooks:
    def __init__(self, config: Config, plugins: PluginManager) -> None:
        self.config, self.plugins = config, plugins
        self.vm_hooks = self._parse("VM_HOOK")
        self.host_hooks = self._parse("HOST_HOOK")
        self._pool = ThreadPoolExecutor(2, "hooks")

    def _parse(self, key: str) -> list[Hook]:
        hooks = []
        for vector in self.config.template.vectors(key):
            command = vector.get("COMMAND", "")
            if not os.path.isabs(command):
                command = os.path.join(self.config.var_location, "hooks", command)
            hooks.append(Hook(vector.get("NAME", command), vector.get("ON", "").upper(),
                              command, vector.get("ARGUMENTS", "")))
        return hooks

    def vm_changed(self, vm: Vm, previous: Phase) -> None:
        if self.plugins.listens("one_vm_state_changed"):
            view = vm_view(vm, self.config)
            self._pool.submit(self.plugins.notify_vm, view, previous[0], previous[1])
        event = vm_event(previous, (vm.state, vm.lcm_state))
        self._fire(self.vm_hooks, event, vm.oid, vm.body, previous)

    def host_changed(self, host: Host, previous: int) -> None:
        self._pool.submit(self.plugins.notify_host, host_view(host), previous)
        event = "CREATE" if previous < 0 else _HOST_STATES.get(HostState(host.state))
        self._fire(self.host_hooks, event, host.oid, host.body, (previous, 0))

    def _fire(self, hooks: list[Hook], event: str | None, oid: int, xml: str,
              previous: Phase) -> None:
        matching = [hook for hook in hooks if hook.on == event]
        if not matching:
            return
        values = {"ID": str(oid), "TEMPLATE": base64.b64encode(xml.encode()).decode(),
                  "PREV_STATE": str(previous[0]), "PREV_LCM_STATE": str(previous[1])}
        for hook in matching:
            args = [self._expand(arg, values) for arg in shlex.split(hook.arguments)]
            self._pool.submit(self._run, hook, args)

    @staticmethod
    def _expand(argument: str, values: dict[str, str]) -> str:
        for name in sorted(values, key=len, reverse=True):
            argument = argument.replace(f"${name}", values[name])
        return argument

    @staticmethod
    def _run(hook: Hook, args: list[str]) -> None:
        try:
            result = subprocess.run([hook.command, *args], capture_output=True, text=True,
                                    timeout=HOOK_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.error("hook %s could not run: %s", hook.name, exc)
            return
        if result.returncode != 0:
            log.error("hook %s exited %d: %s", hook.name, result.returncode, result.stderr.strip())

    def stop(self) -> None:
        self._pool.shutdown(wait=True)
