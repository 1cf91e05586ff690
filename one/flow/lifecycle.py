"""The reconcile loop: each `step()` moves every service one notch towards what it asks.

The server keeps nothing of its own: a step reads the services (documents of
TYPE 100) and the VMs' states from oned, acts, and writes back the bodies it
changed, so a restarted server simply carries on. Tests call `step()` between
runs of oned's engine; the server calls it on a timer. `clock` is injectable
so cooldowns and policies are tested without sleeping.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, Iterable

from lxml import etree

from one.cli.client import Client
from one.flow.documents import Documents, body_of, number
from one.flow.elasticity import clamp, elastic_change, scheduled_change
from one.flow.model import SERVICE_TYPE, RoleState, ServiceState, ordered
from one.flow.vms import GONE, Statuses, Vms

DEFAULT_COOLDOWN = 300
Role = dict[str, Any]


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def role_named(body: dict[str, Any], name: str) -> Role | None:
    return next((r for r in body["roles"] if r["name"] == name), None)


class Reconciler:
    def __init__(self, client: Client, clock: Callable[[], float] = time.time) -> None:
        self.services = Documents(client, SERVICE_TYPE)
        self.vms = Vms(client)
        self.clock = clock
        self.mutex = threading.RLock()  # one writer of service bodies: the loop or a request
        self._woken = threading.Event()

    def step(self) -> dict[int, ServiceState]:
        """One pass over every service; the state each is in after it."""
        with self.mutex:
            docs = [(doc, body_of(doc)) for doc in self.services.elements()]
            every = set(node_ids(body for _, body in docs))
            read = self.vms.statuses(every)
            return {number(doc, "ID"): self.advance(doc, body, Statuses(
                self.vms, body["roles"], read, every)) for doc, body in docs}

    def advance(self, doc: etree._Element, body: dict[str, Any],
                statuses: Statuses | None = None) -> ServiceState:
        """Moves the service of `doc` one notch and saves `body` if that changed it, even
        when oned refused something half-way (the VMs made so far stay known); its VMs'
        states are read as needed unless given. A request calls it to act on a change at
        once. A service DONE is deleted, as OneFlow 6.x/7.x delete one whose roles are all
        done."""
        sid, before = number(doc, "ID"), json.dumps(body, sort_keys=True)
        if statuses is None:
            statuses = Statuses(self.vms, body["roles"])
        try:
            owner = (number(doc, "UID"), number(doc, "GID"))
            Service(self, sid, owner, body, statuses).advance()
        finally:
            if body["state"] == ServiceState.DONE:
                self.services.delete(sid)
            elif json.dumps(body, sort_keys=True) != before:
                _mirror(body, statuses)
                self.services.save(sid, body)
        return ServiceState(body["state"])

    def wake(self) -> None:
        """A request changed a service: the loop's next pass starts now, not at its tick."""
        self._woken.set()

    def sleep(self, interval: float) -> None:
        """Until the next pass is due: `interval` seconds, or less if woken meanwhile."""
        self._woken.wait(interval)
        self._woken.clear()


def _mirror(body: dict[str, Any], statuses: Statuses) -> None:
    """The nodes' vm_info STATE / LCM_STATE as last read, written only into a body saved
    for a change of its own: a VM that merely moved on (PROLOG, BOOT...) costs no save
    (OneFlow 7 stores only its VMs' ids and names in the body)."""
    for role in body["roles"]:
        for node in role["nodes"]:
            status = statuses.seen(node["deploy_id"])
            if status is not None:
                node["vm_info"]["VM"].update(STATE=str(status.state),
                                             LCM_STATE=str(status.lcm_state))


def node_ids(bodies: Iterable[dict[str, Any]]) -> list[int]:
    """The VMs of every role of the services `bodies`."""
    return [node["deploy_id"] for body in bodies for role in body["roles"]
            for node in role["nodes"]]


class Service:
    """One service's body during one step."""

    def __init__(self, loop: Reconciler, sid: int, owner: tuple[int, int], body: dict[str, Any],
                 statuses: Statuses) -> None:
        self.loop, self.vms, self.sid, self.owner = loop, loop.vms, sid, owner
        self.body, self.statuses, self.now = body, statuses, loop.clock()

    @property
    def state(self) -> ServiceState:
        return ServiceState(self.body["state"])

    def set_state(self, state: ServiceState) -> None:
        if self.body["state"] != state:
            self.body["state"] = int(state)
            self.body.setdefault("log", []).append(
                {"timestamp": int(self.now), "severity": "I",
                 "message": f"New state: {state.name}"})

    def advance(self) -> None:
        handler = {ServiceState.PENDING: self._pending, ServiceState.DEPLOYING: self._deploying,
                   ServiceState.RUNNING: self._running, ServiceState.WARNING: self._running,
                   ServiceState.SCALING: self._scaling, ServiceState.COOLDOWN: self._cooldown,
                   ServiceState.UNDEPLOYING: self._undeploying}.get(self.state)
        if handler is not None:
            handler()

    # -- the states ------------------------------------------------------------------
    def _pending(self) -> None:
        self.set_state(ServiceState.DEPLOYING)
        self._deploying()

    def _deploying(self) -> None:
        for role in ordered(self.body["roles"]):
            if role["state"] == RoleState.PENDING and self._parents_ready(role):
                role["state"] = int(RoleState.DEPLOYING)
            if role["state"] == RoleState.DEPLOYING:
                self._fill(role)
                role["state"] = int(self._health(role, RoleState.FAILED_DEPLOYING))
        states = {r["state"] for r in self.body["roles"]}
        if RoleState.FAILED_DEPLOYING in states:
            self.set_state(ServiceState.FAILED_DEPLOYING)
        elif states == {RoleState.RUNNING}:
            self.set_state(ServiceState.RUNNING)

    def _running(self) -> None:
        for role in self.body["roles"]:
            self._policies(role)
            if len(role["nodes"]) != role["cardinality"]:
                self._start_scaling(role)
            else:
                role["state"] = int(self._health(role, RoleState.WARNING, RoleState.RUNNING))
        states = {r["state"] for r in self.body["roles"]}
        if RoleState.SCALING in states:
            self.set_state(ServiceState.SCALING)
        else:
            warn = RoleState.WARNING in states
            self.set_state(ServiceState.WARNING if warn else ServiceState.RUNNING)

    def _policies(self, role: Role) -> None:
        """Scheduled, then elasticity policies, may change the cardinality of a role that
        runs whole; a role with policies stays within min_vms..max_vms (a forced scale
        outside them holds only on a role without)."""
        if not (role.get("elasticity_policies") or role.get("scheduled_policies")):
            return
        wanted = clamp(role, role["cardinality"])
        if role["state"] == RoleState.RUNNING and len(role["nodes"]) == role["cardinality"]:
            running = [self.statuses.get(n["deploy_id"]) for n in role["nodes"]]
            names = {name for status in running for name in status.values}
            average = {name: sum(s.values.get(name, 0.0) for s in running) / len(running)
                       for name in names}
            scheduled = scheduled_change(role, self.now)
            elastic = elastic_change(role, average, self.now) if running else None
            wanted = next((c for c in (scheduled, elastic) if c is not None), wanted)
        role["cardinality"] = wanted

    def _start_scaling(self, role: Role) -> None:
        """Towards the cardinality: new VMs, or the newest ones removed first."""
        role["state"] = int(RoleState.SCALING)
        for node in self._leaving(role):
            self.vms.remove(node["deploy_id"])
        self._fill(role)

    def _leaving(self, role: Role) -> list[dict[str, Any]]:
        """The nodes a scale down removes, the newest beyond the cardinality: they stay in
        the role, as OneFlow keeps them, until their VMs are gone."""
        extra = len(role["nodes"]) - role["cardinality"]
        return sorted(role["nodes"], key=lambda n: n["deploy_id"], reverse=True)[:max(extra, 0)]

    def _scaling(self) -> None:
        """A role scaled up is done when all its VMs run; one scaled down when the removed
        VMs are gone (then the cooldown)."""
        for role in self.body["roles"]:
            if role["state"] == RoleState.SCALING:
                leaving = self._leaving(role)
                if all(self._gone(n) for n in leaving):  # dropped together, as OneFlow does
                    role["nodes"] = [n for n in role["nodes"] if n not in leaving]
                    self._fill(role)
                    state = self._health(role, RoleState.FAILED_SCALING, RoleState.COOLDOWN)
                else:  # VMs still going: the body is left as it is until they are all gone
                    state = self._going(role, leaving)
                if state == RoleState.COOLDOWN:
                    role["cooldown_end"] = int(self.now + int(role.get(
                        "cooldown", self.body.get("cooldown", DEFAULT_COOLDOWN))))
                role["state"] = int(state)
        states = {r["state"] for r in self.body["roles"]}
        if RoleState.FAILED_SCALING in states:
            self.set_state(ServiceState.FAILED_SCALING)
        elif RoleState.SCALING not in states:
            self.set_state(ServiceState.COOLDOWN)

    def _going(self, role: Role, leaving: list[dict[str, Any]]) -> RoleState:
        """While removed VMs still go: FAILED_SCALING if one of them, or one that stays,
        failed; SCALING otherwise."""
        staying = [n for n in role["nodes"] if n not in leaving]
        failed = any(self.statuses.get(n["deploy_id"]).failed for n in staying) or any(
            not self._gone(n) and self.statuses.get(n["deploy_id"]).failed for n in leaving)
        return RoleState.FAILED_SCALING if failed else RoleState.SCALING

    def _cooldown(self) -> None:
        for role in self.body["roles"]:
            if role["state"] == RoleState.COOLDOWN and self.now >= role.get("cooldown_end", 0):
                role["state"] = int(RoleState.RUNNING)
        if all(r["state"] != RoleState.COOLDOWN for r in self.body["roles"]):
            self.set_state(ServiceState.RUNNING)
            self._running()

    def _undeploying(self) -> None:
        """Children before parents (with straight deployment); every role at once otherwise."""
        for role in reversed(ordered(self.body["roles"])):
            if role["state"] not in (RoleState.UNDEPLOYING, RoleState.DONE) and \
                    self._children_done(role):
                for node in role["nodes"]:
                    self.vms.remove(node["deploy_id"], role.get("shutdown_action", "terminate"))
                role["state"] = int(RoleState.UNDEPLOYING)
            if role["state"] == RoleState.UNDEPLOYING:
                self._collect(role)
        states = {r["state"] for r in self.body["roles"]}
        if RoleState.FAILED_UNDEPLOYING in states:
            self.set_state(ServiceState.FAILED_UNDEPLOYING)
        elif states == {RoleState.DONE}:
            self.set_state(ServiceState.DONE)

    def _collect(self, role: Role) -> None:
        """Drop the nodes whose VMs are gone; a VM that failed to go fails the role."""
        left = [n for n in role["nodes"] if not self._gone(n)]
        role["nodes"] = left
        if not left:
            role["state"] = int(RoleState.DONE)
        elif any(self.statuses.get(n["deploy_id"]).failed for n in left):
            role["state"] = int(RoleState.FAILED_UNDEPLOYING)

    # -- helpers ---------------------------------------------------------------------
    def _gone(self, node: dict[str, Any]) -> bool:
        return self.statuses.get(node["deploy_id"]) is GONE

    def _health(self, role: Role, failed: RoleState, done: RoleState = RoleState.RUNNING
                ) -> RoleState:
        """`failed` if a VM failed, `done` if all run, else the role's state as it is."""
        statuses = [self.statuses.get(n["deploy_id"]) for n in role["nodes"]]
        if any(s.failed for s in statuses):
            return failed
        if len(statuses) == role["cardinality"] and all(s.running for s in statuses):
            return done
        return RoleState(role["state"])

    def _parents_ready(self, role: Role) -> bool:
        if self.body.get("deployment", "none") != "straight":
            return True
        return all(role_named(self.body, p)["state"] == RoleState.RUNNING  # type: ignore[index]
                   for p in role.get("parents", []))

    def _children_done(self, role: Role) -> bool:
        if self.body.get("deployment", "none") != "straight":
            return True
        return all(r["state"] == RoleState.DONE for r in self.body["roles"]
                   if role["name"] in r.get("parents", []))

    def _fill(self, role: Role) -> None:
        """Create the VMs the role lacks, each told its service, role and parents' IPs."""
        missing = role["cardinality"] - len(role["nodes"])
        if missing <= 0:
            return
        extra = self._extra(role)
        for _ in range(missing):
            role["last_vmname"] = role.get("last_vmname", 0) + 1
            name = f"{role['name']}_{role['last_vmname'] - 1}_(service_{self.sid})"
            vid = self.vms.create(role["template_id"], name, extra, self.owner)
            self.statuses.made(vid)
            role["nodes"].append({"deploy_id": vid, "vm_info": {"VM": {
                "ID": str(vid), "NAME": name, "STATE": "0", "LCM_STATE": "0"}}})

    def _extra(self, role: Role) -> str:
        """SERVICE_ID and ROLE_NAME, the role's own contents, and a CONTEXT (the template's
        own, merged) holding <PARENT>_IP / <PARENT>_IPS of every parent role."""
        context = self.vms.template_context(role["template_id"])
        context.update(SERVICE_ID=str(self.sid), ROLE_NAME=role["name"])
        for parent in role.get("parents", []):
            ips = [ip for node in role_named(self.body, parent)["nodes"]  # type: ignore[index]
                   for ip in self.vms.addresses(node["deploy_id"])[:1]]
            context[f"{parent.upper()}_IP"] = ips[0] if ips else ""
            context[f"{parent.upper()}_IPS"] = " ".join(ips)
        vector = ", ".join(f"{k} = {_quote(v)}" for k, v in context.items())
        own = role.get("vm_template_contents", role.get("template_contents", ""))
        own = own if isinstance(own, str) else ""
        return (f"SERVICE_ID = {self.sid}\nROLE_NAME = {_quote(role['name'])}\n"
                f"{own}\nCONTEXT = [ {vector} ]")
