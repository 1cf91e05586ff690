"""What the flow server asks of oned about VMs: their states, making and removing them.

Everything goes through the XML-RPC client with the server's own (administrator)
session; VMs are handed to the service's owner right after they are made.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable


from one.cli.client import Client
from one.cli.errors import ServerError
from one.flow.documents import number
from one.states import LcmState, VmState

_FAILED_LCM = frozenset(s for s in LcmState if s.name.endswith("FAILURE"))


@dataclass(frozen=True)
class VmStatus:
    state: int
    lcm_state: int
    values: dict[str, float] = field(default_factory=dict, compare=False)  # MONITORING, numbers

    @property
    def running(self) -> bool:
        return self.state == VmState.ACTIVE and self.lcm_state == LcmState.RUNNING

    @property
    def failed(self) -> bool:
        return self.state in (VmState.FAILED, VmState.DONE) or (
            self.state == VmState.ACTIVE and self.lcm_state in _FAILED_LCM)


GONE = VmStatus(VmState.DONE, 0)


def _numbers(elements: Any) -> dict[str, float]:
    out = {}
    for el in elements:
        try:
            out[str(el.tag)] = float(el.text or "")
        except ValueError:
            continue
    return out


class Vms:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._uid: int | None = None

    @property
    def uid(self) -> int:
        """The session's user, asked once (not at start: oned may come up after us)."""
        if self._uid is None:
            me = self.client.document("one.user.info", -1)
            self._uid = number(me, "ID")
        return self._uid

    def statuses(self, vids: Iterable[int]) -> dict[int, VmStatus]:
        """The states of the VMs `vids` that are not DONE, in one call that reads only them
        (a VM missing from the answer is gone); no call at all for no VMs."""
        wanted = ",".join(str(vid) for vid in sorted(set(vids)))
        if not wanted:
            return {}
        pool = self.client.document("one.vmpool.infoset", wanted, False)
        return {number(vm, "ID"): VmStatus(number(vm, "STATE"), number(vm, "LCM_STATE"),
                                           _numbers(vm.iterfind("MONITORING/*")))
                for vm in pool if number(vm, "STATE") != VmState.DONE}

    def create(self, template_id: int, name: str, extra: str, owner: tuple[int, int]) -> int:
        vid = int(self.client.call("one.template.instantiate", template_id, name, False, extra,
                                   False))
        if owner[0] != self.uid:
            self.client.call("one.vm.chown", vid, owner[0], owner[1])
        return vid

    def remove(self, vid: int, action: str = "terminate-hard") -> None:
        """Gone whatever its state: the action, else a recover-delete; gone already (no such
        VM, or DONE meanwhile) is fine."""
        try:
            self.client.call("one.vm.action", action, vid)
        except ServerError as refused:
            if refused.code == 0x400:
                return
            try:
                self.client.call("one.vm.recover", vid, 3)
            except ServerError as again:
                if again.code != 0x400 and self.statuses([vid]):
                    raise

    def action(self, vid: int, action: str) -> None:
        self.client.call("one.vm.action", action, vid)

    def addresses(self, vid: int) -> list[str]:
        """The VM's IPs (its NICs', then the context's ETH<n>_IP)."""
        doc = self.client.document("one.vm.info", vid)
        found = [ip for ip in doc.xpath("TEMPLATE/NIC/IP/text()")]
        return [str(ip) for ip in found] or [
            str(el.text) for el in doc.xpath("TEMPLATE/CONTEXT/*")
            if str(el.tag).startswith("ETH") and str(el.tag).endswith("_IP") and el.text]

    def template_context(self, template_id: int) -> dict[str, Any]:
        doc = self.client.document("one.template.info", template_id)
        context = doc.find("TEMPLATE/CONTEXT")
        return {str(el.tag): el.text or "" for el in context} if context is not None else {}


class Statuses:
    """The states of one service's VMs, each role's read from oned in one call the first
    time one of its VMs is asked for, unless `read` already holds them: a pass reads
    every service's VMs up front, a request that scales a role reads only the VMs of
    the roles it looks at (not the hundreds it is about to add to or remove from).
    A pass's services share its `read` and `asked` (not copied per service)."""

    def __init__(self, vms: Vms, roles: list[dict[str, Any]],
                 read: dict[int, VmStatus] | None = None, asked: set[int] | None = None) -> None:
        self.vms, self.roles = vms, roles
        self.read = {} if read is None else read
        self.asked = set() if asked is None else asked

    def get(self, vid: int) -> VmStatus:
        """The VM's state; GONE if oned no longer lists it (DONE or deleted)."""
        if vid not in self.asked:
            nodes: list[dict[str, Any]] = next((r["nodes"] for r in self.roles if any(
                n["deploy_id"] == vid for n in r["nodes"])), [])
            wanted = {n["deploy_id"] for n in nodes} - self.asked | {vid}
            self.read.update(self.vms.statuses(wanted))
            self.asked |= wanted
        return self.read.get(vid, GONE)

    def seen(self, vid: int) -> VmStatus | None:
        """The VM's state if it was read (or made) already, without asking oned."""
        return self.read.get(vid, GONE) if vid in self.asked else None

    def made(self, vid: int) -> None:
        """A VM just made: INIT, without asking oned."""
        self.read[vid] = VmStatus(VmState.INIT, 0)
        self.asked.add(vid)
