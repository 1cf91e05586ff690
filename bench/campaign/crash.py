"""The crash campaign: VM life cycles driven at random while oned is killed with
SIGKILL and started again over the same var directory, then everything terminated
and the pools and the dummy hypervisor's journal checked.

Seeded: the seed picks the actions, the VMs they go to and the kill points, so a
failure names the seed that shows it again (timing still varies from run to run).
"""
from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from bench.campaign import invariants, journal
from bench.campaign.fields import integer
from bench.campaign.findings import Findings
from bench.campaign.oned import CALL_ERRORS, TRACEBACK, Client, Oned, record_tracebacks
from bench.report import progress
from one.states import LcmState as L
from one.states import VmState as S

Phase = tuple[int, int]
INTERNAL = 0x2000
STABLE = {(S.PENDING, 0), (S.HOLD, 0), (S.STOPPED, 0), (S.SUSPENDED, 0), (S.DONE, 0),
          (S.POWEROFF, 0), (S.UNDEPLOYED, 0), (S.ACTIVE, L.RUNNING), (S.ACTIVE, L.UNKNOWN)}
FAILED = {(S.ACTIVE, lcm) for lcm in L if lcm.name.endswith("_FAILURE")}
# What the driver may do from each phase at rest, with weights; None lets the scheduler act.
CHOICES: dict[Phase, list[tuple[str | None, int]]] = {
    (S.PENDING, 0): [("hold", 1), (None, 4)],
    (S.HOLD, 0): [("release", 1)],
    (S.ACTIVE, L.RUNNING): [("poweroff", 2), ("poweroff-hard", 1), ("suspend", 2), ("stop", 1),
                            ("undeploy", 1), ("migrate-live", 2), ("migrate-cold", 2),
                            ("reboot", 1)],
    (S.ACTIVE, L.UNKNOWN): [("resume", 1)],
    (S.POWEROFF, 0): [("resume", 3), ("undeploy", 1), ("migrate-cold", 1)],
    (S.SUSPENDED, 0): [("resume", 3), ("migrate-cold", 1)],
    (S.STOPPED, 0): [("resume", 1)],
    (S.UNDEPLOYED, 0): [("resume", 1)],
    **{phase: [("recover-retry", 1), ("terminate", 1)] for phase in FAILED},
}
CHECKS = ("VM stuck without a recover path", "internal error reply", "oned died by itself",
          "guest lost at a restart")
ALL_CHECKS = CHECKS + invariants.CHECKS + journal.CHECKS + (TRACEBACK,)
RUNNING = (S.ACTIVE, L.RUNNING)
MONITORED_AGAIN = 2.5  # seconds after a restart: two monitoring cycles have polled every VM


@dataclass(frozen=True)
class CrashPlan:
    seed: int
    vms: int = 12            # life cycles: each VM allocated, driven, terminated
    kills: int = 3
    hosts: int = 3
    parallel: int = 4        # VMs driven at the same time
    actions_per_vm: int = 5  # random actions before a VM is terminated
    delay: float = 0.1       # dummy VMM and TM DELAY: operations are in flight at a kill
    wall: float = 35.0       # the random phase stops by then, whatever is left
    settle: float = 20.0     # bound of the convergence phase

    def config(self) -> str:
        return (f"MONITORING_INTERVAL = 1\nSCHED_INTERVAL = 1\n"
                f'VM_MAD = [ NAME = "dummy", DELAY = "{self.delay}" ]\n'
                f'TM_MAD = [ NAME = "dummy", DELAY = "{self.delay}" ]\n')


def phase_of(doc: etree._Element) -> Phase:
    state = integer(doc, "STATE")
    return (state, integer(doc, "LCM_STATE") if state == S.ACTIVE else 0)


def phase_name(phase: Phase) -> str:
    return S(phase[0]).name + (f"/{L(phase[1]).name}" if phase[0] == S.ACTIVE else "")


@dataclass
class Campaign:
    plan: CrashPlan
    oned: Oned
    findings: Findings
    rng: random.Random
    client: Client | None = None
    hosts: list[int] = field(default_factory=list)
    network: int = -1
    allocated: list[int] = field(default_factory=list)
    budgets: list[int] = field(default_factory=list)          # actions of each VM to come
    budget: dict[int, int] = field(default_factory=dict)      # actions left per live VM
    steps: dict[int, list[str]] = field(default_factory=dict)  # what was done to each VM
    issued: int = 0
    kills_done: int = 0
    refused: int = 0

    @property
    def rpc(self) -> Client:
        assert self.client is not None
        return self.client

    # -- set-up ----------------------------------------------------------------
    def set_up(self) -> None:
        self.client = self.oned.start()
        self.hosts = [self.rpc.ok("one.host.allocate", f"crash-node{i}", "dummy", "dummy", -1)
                      for i in range(self.plan.hosts)]
        size = self.plan.vms + 16
        self.network = self.rpc.ok(
            "one.vn.allocate", f'NAME = "crash-net" VN_MAD = "dummy" BRIDGE = "br-crash" '
                               f'AR = [ TYPE = "IP4", IP = "10.99.0.1", SIZE = "{size}" ]', -1)
        wait_until(lambda: self._monitored() == len(self.hosts), 20, "hosts monitored")

    def _monitored(self) -> int:
        pool = etree.fromstring(self.rpc.ok("one.hostpool.info").encode())
        return sum(host.findtext("STATE") == "2" for host in pool.iterfind("HOST"))

    # -- the random phase --------------------------------------------------------
    def drive(self) -> None:
        plan = self.plan
        self.budgets = [self.rng.randint(1, 2 * plan.actions_per_vm - 1) for _ in range(plan.vms)]
        # Each VM takes at least its budget of actions and a terminate: every kill happens.
        least = sum(self.budgets) + plan.vms
        kill_at = set(self.rng.sample(range(2, max(3 + plan.kills, least)), plan.kills))
        deadline = time.monotonic() + plan.wall
        while (len(self.allocated) < plan.vms or self.budget) and time.monotonic() < deadline:
            if len(self.budget) < plan.parallel and len(self.allocated) < plan.vms:
                self._allocate()
            else:
                self._act(self.rng.choice(sorted(self.budget)))
            if self.issued in kill_at:
                kill_at.discard(self.issued)
                self._kill()
            time.sleep(plan.delay / 4)
        self.findings.note("actions left undone at the deadline", sum(self.budget.values()))

    def _allocate(self) -> None:
        index = len(self.allocated)
        hold = self.rng.random() < 0.3
        text = f'NAME = "crash-{index}" CPU = 0.1 MEMORY = 64 NIC = [ NETWORK_ID = {self.network} ]'
        reply = self._call("one.vm.allocate", text, hold)
        if reply and reply[0]:
            vid = reply[1]
            self.allocated.append(vid)
            self.budget[vid] = self.budgets[index]
            self.steps[vid] = ["allocate --hold" if hold else "allocate"]

    def _act(self, vid: int) -> None:
        reply = self._call("one.vm.info", vid)
        if not reply or not reply[0]:
            return
        doc = etree.fromstring(reply[1].encode())
        phase = phase_of(doc)
        if phase == (S.DONE, 0):
            del self.budget[vid]
            return
        choices = CHOICES.get(phase)
        if choices is None:
            return  # transitional: the engine is at work
        if self.budget[vid] <= 0 and phase not in FAILED:
            action: str | None = self.rng.choice(["terminate", "terminate", "terminate-hard"])
        else:
            names, weights = zip(*choices)
            action = self.rng.choices(names, weights)[0]
        if action is not None:
            self.budget[vid] -= 1
            self._issue(vid, action, doc)

    def _issue(self, vid: int, action: str, doc: etree._Element) -> None:
        current = int(doc.findtext("HISTORY_RECORDS/HISTORY[last()]/HID") or -1)
        if action.startswith("migrate"):
            target = self.rng.choice([h for h in self.hosts if h != current])
            reply = self._call("one.vm.migrate", vid, target, action == "migrate-live")
        elif action.startswith("recover"):
            reply = self._call("one.vm.recover", vid, 2)
        else:
            reply = self._call("one.vm.action", action, vid)
        self.issued += 1
        outcome = "ok" if reply and reply[0] else f"refused: {reply[1] if reply else 'no reply'}"
        self.refused += outcome != "ok"
        self.steps[vid].append(f"{action} in {phase_name(phase_of(doc))} ({outcome})")

    def _call(self, method: str, *args: object) -> list | None:
        """A reply, or None when the connection broke; an internal error is a finding."""
        try:
            reply = self.rpc.call(method, *args)
        except CALL_ERRORS as exc:
            if not self.oned.alive:
                self.findings.add("oned died by itself", f"during {method}{args}: {exc}")
                self.client = self.oned.start()
            return None
        if not reply[0] and reply[2] == INTERNAL:
            self.findings.add("internal error reply", f"{method}{args!r:.120}: {reply[1]}")
        return reply

    def _kill(self) -> None:
        """Kill while the last operation is most likely in flight, then start again;
        a guest that was running must still be running once oned has polled it."""
        time.sleep(self.rng.uniform(0, 2 * self.plan.delay))
        phases = self._phases()
        running = [vid for vid, phase in phases.items() if phase == RUNNING]
        self.oned.kill()
        self.kills_done += 1
        for vid in self.budget:
            phase = phases.get(vid, (S.INIT, 0))
            self.steps[vid].append(f"<kill -9 #{self.kills_done} in {phase_name(phase)}>")
        progress(f"crash campaign: kill -9 #{self.kills_done} after {self.issued} actions")
        self.client = self.oned.start()
        time.sleep(MONITORED_AGAIN)
        after = self._phases()
        for vid in running:
            if after.get(vid) != RUNNING:
                self.findings.add("guest lost at a restart",
                                  f"VM {vid} RUNNING before kill #{self.kills_done}, "
                                  f"{phase_name(after[vid])} {MONITORED_AGAIN} s after the "
                                  f"restart, with no action in between")

    # -- convergence -------------------------------------------------------------
    def converge(self) -> None:
        """Terminate everything; a VM stalled in a transitional phase gets the admin's
        `recover --delete`; what is not DONE by the deadline is stuck."""
        deadline = time.monotonic() + self.plan.settle
        stalled: dict[int, float] = {}
        recovered: set[int] = set()
        stall_after = max(5.0, 30 * self.plan.delay)
        while time.monotonic() < deadline:
            live = {vid: phase for vid, phase in self._phases().items() if phase != (S.DONE, 0)}
            if not live:
                break
            for vid, phase in live.items():
                if phase in STABLE or phase in FAILED:
                    stalled.pop(vid, None)
                    self._end(vid, phase)
                elif time.monotonic() - stalled.setdefault(vid, time.monotonic()) > stall_after:
                    self._recover(vid, phase, recovered)
            time.sleep(0.2)
        self.findings.note("VMs the admin had to recover", len(recovered))
        for vid, phase in self._phases().items():
            if phase != (S.DONE, 0):
                self.findings.add("VM stuck without a recover path",
                                  f"VM {vid} {phase_name(phase)}; {self._story(vid)}")

    def _phases(self) -> dict[int, Phase]:
        found = invariants.vms(self.rpc)
        return {vid: (f.state, f.lcm if f.state == S.ACTIVE else 0)
                for vid, f in found.items() if vid in self.steps}

    def _end(self, vid: int, phase: Phase) -> None:
        action = "terminate-hard" if phase == (S.ACTIVE, L.RUNNING) else "terminate"
        reply = self._call("one.vm.action", action, vid)
        if reply and reply[0]:
            self.steps[vid].append(f"converge: {action} in {phase_name(phase)}")

    def _recover(self, vid: int, phase: Phase, recovered: set[int]) -> None:
        reply = self._call("one.vm.recover", vid, 3)
        outcome = "ok" if reply and reply[0] else f"refused: {reply[1] if reply else '?'}"
        self.steps[vid].append(f"converge: recover --delete in {phase_name(phase)} ({outcome})")
        recovered.add(vid)

    def _story(self, vid: int) -> str:
        return "steps: " + " -> ".join(self.steps.get(vid, [])[-6:])

    def tell_stories(self) -> None:
        """What was done to each VM an example names, so a finding can be followed."""
        named = {int(vid) for examples in self.findings.examples.values()
                 for example in examples for vid in re.findall(r"\bVM (\d+)", example)}
        self.findings.details += [f"VM {vid} {self._story(vid)}" for vid in sorted(named)
                                  if vid in self.steps]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.1)


def run(plan: CrashPlan, var: Path) -> Findings:
    """The whole campaign against a fresh var directory; oned is stopped at the end."""
    findings = Findings("crash campaign", plan.seed)
    findings.declare(*CHECKS)
    campaign = Campaign(plan, Oned(var, plan.config()), findings, random.Random(plan.seed))
    started = time.monotonic()
    try:
        campaign.set_up()
        campaign.drive()
        campaign.converge()
        found = invariants.check(campaign.rpc, campaign.allocated, findings)
        done = [vid for vid, facts in found.items() if facts.done]
        journal.check(var / "dummy" / "actions.jsonl", done, findings)
        campaign.tell_stories()
    finally:
        campaign.oned.stop()
        record_tracebacks(campaign.oned, findings)
    lives = sum(1 for steps in campaign.steps.values() if len(steps) > 1)
    for name, value in (("VMs allocated", len(campaign.allocated)), ("VMs driven", lives),
                        ("actions issued", campaign.issued), ("actions refused", campaign.refused),
                        ("kills", campaign.kills_done),
                        ("seconds", round(time.monotonic() - started, 1))):
        findings.note(name, value)
    return findings
