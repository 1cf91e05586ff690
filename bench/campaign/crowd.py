"""The concurrency campaign: many clients, each on its own keep-alive connection,
appending to the same VM, host and user templates while the administrator changes
users' passwords and disables them and those users update their own templates.

Afterwards every acknowledged append must be there, and every admin change must
have stuck: a write that saves a row it read before another commit loses that commit.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from bench.campaign.findings import Findings
from bench.campaign.oned import CALL_ERRORS, TRACEBACK, Client, Oned, record_tracebacks

CHECKS = ("vm append lost", "host append lost", "user append lost",
          "admin password change reverted", "password change not in effect for logins",
          "admin disable reverted", "call failed", TRACEBACK)
USER_CALLS = 300  # bound of one racing user's self-updates
TEMPLATE_OF = {"vm": "USER_TEMPLATE", "host": "TEMPLATE", "user": "TEMPLATE"}


@dataclass(frozen=True)
class CrowdPlan:
    seed: int
    clients: int = 50
    racers: int = 10       # users racing their admin; the other clients append
    appends: int = 6       # per appending client
    rounds: int = 2        # of races: even ones change passwords, odd ones disable
    wall: float = 30.0


@dataclass
class Crowd:
    plan: CrowdPlan
    url: str
    findings: Findings
    targets: dict[str, int] = field(default_factory=dict)
    acknowledged: dict[str, list[str]] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)  # racing user -> id, once changed
    passwords: dict[str, str | None] = field(default_factory=dict)  # stored before the race
    lock: threading.Lock = field(default_factory=threading.Lock)
    deadline: float = 0.0

    def set_up(self) -> None:
        admin = Client(self.url)
        self.targets = {
            "vm": admin.ok("one.vm.allocate", 'NAME = "crowd" CPU = 0.1 MEMORY = 64', True),
            "host": admin.ok("one.host.allocate", "crowd-node", "dummy", "dummy", -1),
            "user": admin.ok("one.user.allocate", "crowd", "crowdpw", "", []),
        }
        self.acknowledged = {kind: [] for kind in self.targets}
        self.deadline = time.monotonic() + self.plan.wall

    # -- appends -------------------------------------------------------------------
    def append(self, index: int, start: threading.Barrier) -> None:
        client = Client(self.url)
        start.wait()
        for turn in range(self.plan.appends):
            if time.monotonic() > self.deadline:
                return
            kind = list(self.targets)[(index + turn) % len(self.targets)]
            name = f"APPEND_{index}_{turn}"
            if self._ok(client, f"one.{kind}.update", self.targets[kind], f'{name} = "x"', 1):
                with self.lock:
                    self.acknowledged[kind].append(name)

    def count_lost(self) -> None:
        admin = Client(self.url)
        for kind, oid in self.targets.items():
            doc = etree.fromstring(admin.ok(f"one.{kind}.info", oid).encode())
            present = {node.tag for node in doc.iterfind(f"{TEMPLATE_OF[kind]}/*")}
            for name in self.acknowledged[kind]:
                if name not in present:
                    self.findings.add(f"{kind} append lost", f"one.{kind}.update of {name} on "
                                                           f"{kind} {oid} acknowledged, then lost")
        self.findings.note("appends acknowledged", sum(map(len, self.acknowledged.values())))

    # -- races between an admin and a user -------------------------------------------
    def enlist(self, round_: int) -> dict[str, int]:
        """This round's racing users, made before any thread starts: name -> id; with
        the PASSWORD each has stored before the race."""
        admin = Client(self.url)
        racers = {name: admin.ok("one.user.allocate", name, f"old-{round_}", "", [])
                  for name in (f"racer-{round_}-{slot}" for slot in range(self.plan.racers))}
        for name, uid in racers.items():
            stored = etree.fromstring(admin.ok("one.user.info", uid).encode())
            self.passwords[name] = stored.findtext("PASSWORD")
        return racers

    def race(self, round_: int, name: str, uid: int, start: threading.Barrier,
             admin_side: bool) -> None:
        start.wait()
        if admin_side:
            self._admin_change(round_, name, uid)
        else:
            self._self_updates(name, uid, f"{name}:old-{round_}")

    def _admin_change(self, round_: int, name: str, uid: int) -> None:
        admin = Client(self.url)
        time.sleep(random.Random(f"{self.plan.seed}-{name}").uniform(0, 0.05))
        if round_ % 2 == 0:
            self._ok(admin, "one.user.passwd", uid, f"new-{round_}")
        else:
            self._ok(admin, "one.user.enable", uid, False)
        with self.lock:
            self.changed[name] = uid

    def _self_updates(self, name: str, uid: int, session: str) -> None:
        """Until the admin's change is in (or refuses this session), bounded."""
        client = Client(self.url, session)
        for turn in range(USER_CALLS):
            if name in self.changed:
                return
            try:
                if not client.call("one.user.update", uid, f'SELF_{turn} = "x"', 1)[0]:
                    return
            except CALL_ERRORS:
                return

    def check_races(self) -> None:
        admin = Client(self.url)
        renamed = []
        for name, uid in sorted(self.changed.items()):
            round_ = int(name.split("-")[1])
            doc = etree.fromstring(admin.ok("one.user.info", uid).encode())
            if round_ % 2 == 1 and doc.findtext("ENABLED") != "0":
                self.findings.add("admin disable reverted",
                                  f"user {name} (id {uid}) is ENABLED again after the admin "
                                  f"disabled it")
            elif round_ % 2 == 0:
                renamed.append((name, round_))
                if doc.findtext("PASSWORD") == self.passwords.get(name, ""):
                    self.findings.add("admin password change reverted",
                                      f"user {name} (id {uid}): the PASSWORD stored is the one "
                                      f"from before one.user.passwd")
        for name, round_ in renamed:  # last: failed logins may be throttled
            self._check_login(name, round_)
        self.findings.note("admin changes raced", len(self.changed))

    def _check_login(self, name: str, round_: int) -> None:
        """Stored is not enough: the new password must log in at once, the old one not."""
        new = Client(self.url, f"{name}:new-{round_}").call("one.user.info", -1)[0]
        old = Client(self.url, f"{name}:old-{round_}").call("one.user.info", -1)[0]
        if old or not new:
            self.findings.add("password change not in effect for logins",
                              f"user {name}: after one.user.passwd the new password is "
                              f"{'accepted' if new else 'refused'}, the old one "
                              f"{'accepted' if old else 'refused'}")

    def _ok(self, client: Client, method: str, *args: object) -> bool:
        try:
            reply = client.call(method, *args)
        except CALL_ERRORS as exc:
            self.findings.add("call failed", f"{method}{args!r:.80}: {exc}")
            return False
        if not reply[0]:
            self.findings.add("call failed", f"{method}{args!r:.80}: {reply[1]}")
        return bool(reply[0])


def _run_threads(crowd: Crowd, round_: int) -> None:
    plan = crowd.plan
    appenders = plan.clients - 2 * plan.racers
    racers = crowd.enlist(round_)
    start = threading.Barrier(plan.clients, timeout=60)  # a thread that died cannot hang all
    threads = [threading.Thread(target=crowd.append, args=(i + round_ * appenders, start))
               for i in range(appenders)]
    threads += [threading.Thread(target=crowd.race, args=(round_, name, uid, start, side))
                for name, uid in racers.items() for side in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run(plan: CrowdPlan, var: Path) -> Findings:
    """Rounds of `plan.clients` threads against one fresh oned, then the counts."""
    findings = Findings("concurrency campaign", plan.seed)
    findings.declare(*CHECKS)
    oned = Oned(var, "MONITORING_INTERVAL = 1\n", scheduler=False)
    started = time.monotonic()
    try:
        crowd = Crowd(plan, oned.start().url, findings)
        crowd.set_up()
        for round_ in range(plan.rounds):
            _run_threads(crowd, round_)
        crowd.count_lost()
        crowd.check_races()
    finally:
        oned.stop()
        record_tracebacks(oned, findings)
    findings.note("clients", plan.clients)
    findings.note("seconds", round(time.monotonic() - started, 1))
    return findings
