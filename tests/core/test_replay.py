"""Crash replay exactly once: oned dies after the hypervisor finished, then restarts.

Each test catches a VM in one phase after its driver operation ran but before
oned handled the reply (the reply waits in the inline engine's queue, and is
lost when that oned stops), forgets the pretend machines' memory as a dead
process would (`one_dummy.reset()`: the guests come back from STATE_DIR),
starts oned again over the same var dir and resumes. The VM must end where
the finished operation leads, the dummy journal must show no action applied
twice, and no guest may run for a DONE VM.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import one_dummy
import pytest

from conftest import Engine, start_oned
from one.states import HistoryAction, LcmState as L, VmState as S

ACTIVE = S.ACTIVE
RUNNING, DONE = (ACTIVE, L.RUNNING), (S.DONE, 0)
POWEROFF, SUSPENDED, STOPPED, UNDEPLOYED = ((s, 0) for s in (
    S.POWEROFF, S.SUSPENDED, S.STOPPED, S.UNDEPLOYED))


class Cloud:
    """An oned over one var dir, that can die and come back; two dummy hosts."""

    def __init__(self, var: Path) -> None:
        self.var = var
        self.engine = Engine(start_oned(var))
        self.h0, self.h1 = self.engine.host("h0"), self.engine.host("h1")
        self.engine.monitor()

    def caught(self, vid: int, phase: tuple[int, int]) -> None:
        """Run the engine until the VM enters `phase`; its operation has then run."""
        while self.engine.phase(vid) != phase:
            assert self.engine.lifecycle.step(), f"VM {vid} never reached {phase}"

    def restart(self) -> None:
        """oned dies with replies unhandled; the new one resumes what was in flight."""
        self.engine.oned.stop()
        one_dummy.reset()
        self.engine = Engine(start_oned(self.var))
        self.engine.lifecycle.resume_in_flight()
        self.engine.settle()

    def act(self, vid: int, action: str) -> None:
        self.engine.rpc.ok("one.vm.action", action, vid)
        self.engine.settle()

    def journal(self, vid: int, action: str | None = None) -> list[dict]:
        lines = one_dummy.StateDir(self.var / "dummy").journal()
        return [x for x in lines if x["vm"] == vid and action in (None, x["action"])]

    def guests(self) -> dict[str, set[str]]:
        return {name: set(self.engine.hypervisor(name).domains()) for name in ("h0", "h1")}

    def terminate_and_check(self, vid: int) -> None:
        """The VM ends DONE, no guest left anywhere, no action applied twice."""
        if self.engine.phase(vid) != DONE:
            self.act(vid, "terminate-hard")
        assert self.engine.phase(vid) == DONE
        assert self.guests() == {"h0": set(), "h1": set()}
        assert one_dummy.violations(self.var / "dummy") == []


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    one_dummy.reset()
    made = Cloud(tmp_path)
    yield made
    made.engine.oned.stop()
    one_dummy.reset()


def _running(cloud: Cloud) -> int:
    return cloud.engine.vm("CPU = 1 MEMORY = 64", cloud.h0)


@pytest.mark.parametrize("caught", [L.PROLOG, L.BOOT])
def test_deployment_finished_boots_once(cloud: Cloud, caught: int) -> None:
    """A prolog runs again (transfers are idempotent); a boot done is not run again."""
    vid = cloud.engine.vm("CPU = 1 MEMORY = 64")
    cloud.engine.rpc.ok("one.vm.deploy", vid, cloud.h0)
    cloud.caught(vid, (ACTIVE, caught))
    cloud.restart()
    assert cloud.engine.phase(vid) == RUNNING
    assert cloud.engine.doc("one.vm.info", vid).findtext("DEPLOY_ID") == f"one-{vid}"
    assert [x["applied"] for x in cloud.journal(vid, "deploy")] == [True]
    cloud.terminate_and_check(vid)


@pytest.mark.parametrize("before, action, caught, after, step", [
    ((), "poweroff", L.SHUTDOWN_POWEROFF, POWEROFF, "shutdown"),
    ((), "poweroff-hard", L.SHUTDOWN_POWEROFF, POWEROFF, "cancel"),
    ((), "terminate", L.SHUTDOWN, DONE, "shutdown"),
    ((), "undeploy", L.SHUTDOWN_UNDEPLOY, UNDEPLOYED, "shutdown"),
    ((), "suspend", L.SAVE_SUSPEND, SUSPENDED, "save"),
    ((), "stop", L.SAVE_STOP, STOPPED, "save"),
    (("suspend",), "resume", L.BOOT_SUSPENDED, RUNNING, "restore"),
    (("poweroff",), "resume", L.BOOT_POWEROFF, RUNNING, "deploy"),
])
def test_hypervisor_step_finished_is_not_run_again(
        cloud: Cloud, before: tuple[str, ...], action: str, caught: int,
        after: tuple[int, int], step: str) -> None:
    vid = _running(cloud)
    for earlier in before:
        cloud.act(vid, earlier)
    cloud.engine.rpc.ok("one.vm.action", action, vid)
    cloud.caught(vid, (ACTIVE, caught))
    cloud.restart()
    assert cloud.engine.phase(vid) == after
    assert [x["applied"] for x in cloud.journal(vid, step)][-1:] == [True]
    assert all(x["applied"] for x in cloud.journal(vid))     # nothing even asked twice
    if after in (SUSPENDED, STOPPED):    # the checkpoint written before the crash still serves
        cloud.act(vid, "resume")
        if after == STOPPED:
            cloud.engine.rpc.ok("one.vm.deploy", vid, cloud.h1)
            cloud.engine.settle()
        assert cloud.engine.phase(vid) == RUNNING
    cloud.terminate_and_check(vid)


@pytest.mark.parametrize("action, caught, after, step", [
    ("deploy", L.BOOT, RUNNING, "deploy"),
    ("poweroff", L.SHUTDOWN_POWEROFF, POWEROFF, "shutdown"),
    ("suspend", L.SAVE_SUSPEND, SUSPENDED, "save"),
])
def test_step_recorded_done_is_not_run_again_when_the_poll_cannot_tell(
        cloud: Cloud, action: str, caught: int, after: tuple[int, int], step: str) -> None:
    vid = cloud.engine.vm("CPU = 1 MEMORY = 64 DUMMY_FAIL = poll")
    cloud.engine.rpc.ok("one.vm.deploy", vid, cloud.h0)
    if action != "deploy":
        cloud.engine.settle()
        cloud.engine.rpc.ok("one.vm.action", action, vid)
    cloud.caught(vid, (ACTIVE, caught))
    cloud.restart()
    assert cloud.engine.phase(vid) == after
    assert cloud.engine.doc("one.vm.info", vid).findtext("DEPLOY_ID") == f"one-{vid}"
    assert [x["applied"] for x in cloud.journal(vid, step)] == [True]
    cloud.terminate_and_check(vid)


def test_epilog_finished_runs_again_to_done(cloud: Cloud) -> None:
    vid = _running(cloud)
    cloud.act(vid, "poweroff")
    cloud.engine.rpc.ok("one.vm.action", "terminate", vid)
    cloud.caught(vid, (ACTIVE, L.EPILOG))
    cloud.restart()
    assert cloud.engine.phase(vid) == DONE
    cloud.terminate_and_check(vid)


def test_live_migration_finished_arrives_and_leaves_no_guest_after_done(cloud: Cloud) -> None:
    vid = _running(cloud)
    cloud.engine.rpc.ok("one.vm.migrate", vid, cloud.h1, True)
    cloud.caught(vid, (ACTIVE, L.MIGRATE))
    assert cloud.guests() == {"h0": set(), "h1": {f"one-{vid}"}}
    cloud.restart()
    assert cloud.engine.phase(vid) == RUNNING
    history = cloud.engine.doc("one.vm.info", vid).findall("HISTORY_RECORDS/HISTORY")
    assert [h.findtext("HOSTNAME") for h in history] == ["h0", "h1"]
    assert int(history[0].findtext("ETIME")) > 0
    assert history[0].findtext("ACTION") == str(HistoryAction.LIVE_MIGRATE)
    shares = [cloud.engine.doc("one.host.info", h).findtext("HOST_SHARE/RUNNING_VMS")
              for h in (cloud.h0, cloud.h1)]
    assert shares == ["0", "1"]
    assert [x["applied"] for x in cloud.journal(vid, "migrate")] == [True]
    cloud.act(vid, "terminate")
    cloud.terminate_and_check(vid)


def test_live_migration_not_started_runs_on_resume(cloud: Cloud) -> None:
    vid = _running(cloud)
    cloud.engine.oned.managers.lifecycle.runner = _Dead()   # oned dies before the driver runs
    cloud.engine.rpc.ok("one.vm.migrate", vid, cloud.h1, True)
    cloud.restart()
    assert cloud.engine.phase(vid) == RUNNING
    assert cloud.guests() == {"h0": set(), "h1": {f"one-{vid}"}}
    cloud.terminate_and_check(vid)


@pytest.mark.parametrize("caught", [L.SAVE_MIGRATE, L.PROLOG_MIGRATE, L.BOOT_MIGRATE])
def test_cold_migration_resumes_after_its_last_finished_step(cloud: Cloud, caught: int) -> None:
    vid = _running(cloud)
    cloud.engine.rpc.ok("one.vm.migrate", vid, cloud.h1, False)
    cloud.caught(vid, (ACTIVE, caught))
    cloud.restart()
    assert cloud.engine.phase(vid) == RUNNING
    assert cloud.guests() == {"h0": set(), "h1": {f"one-{vid}"}}
    assert [(x["action"], x["applied"]) for x in cloud.journal(vid)] == [
        ("deploy", True), ("save", True), ("restore", True)]
    cloud.terminate_and_check(vid)


def test_deleted_mid_migration_leaves_no_guest_on_the_source(cloud: Cloud) -> None:
    vid = _running(cloud)
    lifecycle = cloud.engine.lifecycle
    inline, lifecycle.runner = lifecycle.runner, _Dead()     # the migration never runs
    cloud.engine.rpc.ok("one.vm.migrate", vid, cloud.h1, True)
    lifecycle.runner = inline
    cloud.engine.rpc.ok("one.vm.recover", vid, 3)            # delete
    cloud.engine.settle()
    cloud.terminate_and_check(vid)


def test_live_migration_failing_after_the_guest_moved_follows_the_guest(cloud: Cloud) -> None:
    cloud.engine.rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy BRIDGE = br0 "
                                           "AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 9 ]", -1)
    vid = cloud.engine.vm("CPU = 1 MEMORY = 64 NIC = [ NETWORK = n ]", cloud.h0)
    cloud.engine.rpc.ok("one.vm.update", vid, "DUMMY_FAIL = post", 1)   # the target's filters
    cloud.engine.rpc.ok("one.vm.migrate", vid, cloud.h1, True)
    cloud.engine.settle()
    assert cloud.engine.phase(vid) == RUNNING
    doc = cloud.engine.doc("one.vm.info", vid)
    assert doc.findtext("HISTORY_RECORDS/HISTORY[last()]/HOSTNAME") == "h1"
    assert "the guest moved to the target, then" in doc.findtext("USER_TEMPLATE/ERROR")
    cloud.act(vid, "terminate")
    cloud.terminate_and_check(vid)


class _Dead:
    """A runner of an oned that dies before any driver operation runs."""

    def submit(self, vm: int, token: int, pool: str, op: object) -> None:
        pass

    def stop(self) -> None:
        pass
