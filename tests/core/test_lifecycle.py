"""One test per life-cycle edge, driven deterministically with the dummy drivers.

The engine runs inline: each driver operation runs when it is started and its
reply waits in the queue until `settle()`, so every intermediate phase can be
observed without sleeping.
"""
from __future__ import annotations

import pytest

from conftest import Engine
from one.states import HistoryAction, LcmState as L, VmState as S

ACTIVE = S.ACTIVE


def _share(engine: Engine, hid: int) -> dict[str, str]:
    share = engine.doc("one.host.info", hid).find("HOST_SHARE")
    return {e.tag: e.text for e in share if e.text is not None}


def _history(engine: Engine, vid: int) -> list[dict[str, str]]:
    return [{e.tag: e.text for e in h} for h in engine.doc("one.vm.info", vid).iter("HISTORY")]


def test_deploy_goes_through_prolog_and_boot(engine: Engine, hosts) -> None:
    vid = engine.vm("CPU = 0.5 MEMORY = 256 DISK = [ SOURCE = /img/a, TYPE = disk ]")
    engine.rpc.ok("one.vm.deploy", vid, hosts[0])
    assert engine.phase(vid) == (ACTIVE, L.PROLOG)
    engine.lifecycle.step()
    assert engine.phase(vid) == (ACTIVE, L.BOOT)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)
    doc = engine.doc("one.vm.info", vid)
    assert doc.findtext("DEPLOY_ID") == f"one-{vid}"
    assert doc.findtext("TEMPLATE/TM_MAD_SYSTEM") == "dummy"
    (record,) = _history(engine, vid)
    assert record["HOSTNAME"] == "h0" and record["ACTION"] == str(HistoryAction.DEPLOY)
    assert all(int(record[k]) > 0 for k in ("STIME", "PSTIME", "PETIME", "RSTIME"))
    assert record["ETIME"] == "0"
    share = _share(engine, hosts[0])
    assert (share["CPU_USAGE"], share["MEM_USAGE"], share["RUNNING_VMS"]) == ("50", "262144", "1")
    assert engine.doc("one.host.info", hosts[0]).findtext("VMS/ID") == str(vid)
    assert f"one-{vid}" in engine.hypervisor("h0").domains()


def test_terminate_shuts_down_then_epilog_then_done(engine: Engine, hosts) -> None:
    engine.rpc.ok("one.vn.allocate", "NAME = n VN_MAD = dummy AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 4 ]", -1)
    vid = engine.vm("CPU = 1 MEMORY = 64 NIC = [ NETWORK = n ]", hosts[0])
    engine.rpc.ok("one.vm.action", "terminate", vid)
    assert engine.phase(vid) == (ACTIVE, L.SHUTDOWN)
    engine.lifecycle.step()
    assert engine.phase(vid) == (ACTIVE, L.EPILOG)
    engine.settle()
    assert engine.phase(vid) == (S.DONE, 0)
    (record,) = _history(engine, vid)
    assert record["ACTION"] == str(HistoryAction.TERMINATE)
    assert all(int(record[k]) > 0 for k in ("RETIME", "ESTIME", "EETIME", "ETIME"))
    assert _share(engine, hosts[0])["RUNNING_VMS"] == "0"
    assert engine.doc("one.vn.info", 0).findtext("USED_LEASES") == "0"
    assert engine.hypervisor("h0").domains() == {}


def test_terminate_hard_cancels(engine: Engine, hosts) -> None:
    vid = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.action", "terminate-hard", vid)
    engine.settle()
    assert engine.phase(vid) == (S.DONE, 0)
    assert _history(engine, vid)[0]["ACTION"] == str(HistoryAction.TERMINATE_HARD)
    log = open(engine.oned.managers.logs.path(vid)).read()
    assert "cancel" in log.lower() and "New state is DONE" in log


@pytest.mark.parametrize("action", ["poweroff", "poweroff-hard"])
def test_poweroff_and_resume(engine: Engine, hosts, action: str) -> None:
    vid = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.action", action, vid)
    assert engine.phase(vid) == (ACTIVE, L.SHUTDOWN_POWEROFF)
    engine.settle()
    assert engine.phase(vid) == (S.POWEROFF, 0)
    assert _share(engine, hosts[0])["RUNNING_VMS"] == "1"  # still booked on its host
    engine.rpc.ok("one.vm.action", "resume", vid)
    assert engine.phase(vid) == (ACTIVE, L.BOOT_POWEROFF)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)


def test_suspend_and_resume(engine: Engine, hosts) -> None:
    vid = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.action", "suspend", vid)
    assert engine.phase(vid) == (ACTIVE, L.SAVE_SUSPEND)
    engine.settle()
    assert engine.phase(vid) == (S.SUSPENDED, 0)
    engine.rpc.ok("one.vm.action", "resume", vid)
    assert engine.phase(vid) == (ACTIVE, L.BOOT_SUSPENDED)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)


def test_stop_then_resume_on_another_host(engine: Engine, hosts) -> None:
    vid = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.action", "stop", vid)
    assert engine.phase(vid) == (ACTIVE, L.SAVE_STOP)
    engine.lifecycle.step()
    assert engine.phase(vid) == (ACTIVE, L.EPILOG_STOP)
    engine.settle()
    assert engine.phase(vid) == (S.STOPPED, 0)
    assert _share(engine, hosts[0])["RUNNING_VMS"] == "0"
    engine.rpc.ok("one.vm.action", "resume", vid)
    assert engine.phase(vid) == (S.PENDING, 0)
    engine.rpc.ok("one.vm.deploy", vid, hosts[1])
    assert engine.phase(vid) == (ACTIVE, L.PROLOG_RESUME)
    engine.lifecycle.step()
    assert engine.phase(vid) == (ACTIVE, L.BOOT_STOPPED)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)
    assert [h["HOSTNAME"] for h in _history(engine, vid)] == ["h0", "h1"]
    assert f"one-{vid}" in engine.hypervisor("h1").domains()


def test_undeploy_and_redeploy(engine: Engine, hosts) -> None:
    vid = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.action", "undeploy", vid)
    assert engine.phase(vid) == (ACTIVE, L.SHUTDOWN_UNDEPLOY)
    engine.lifecycle.step()
    assert engine.phase(vid) == (ACTIVE, L.EPILOG_UNDEPLOY)
    engine.settle()
    assert engine.phase(vid) == (S.UNDEPLOYED, 0)
    engine.rpc.ok("one.vm.action", "resume", vid)
    engine.rpc.ok("one.vm.deploy", vid, hosts[0])
    assert engine.phase(vid) == (ACTIVE, L.PROLOG_UNDEPLOY)
    engine.lifecycle.step()
    assert engine.phase(vid) == (ACTIVE, L.BOOT_UNDEPLOY)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)


def test_reboot_keeps_running(engine: Engine, hosts) -> None:
    vid = engine.vm(host=hosts[0])
    for action in ("reboot", "reboot-hard"):
        engine.rpc.ok("one.vm.action", action, vid)
        engine.settle()
        assert engine.phase(vid) == (ACTIVE, L.RUNNING)
    assert "reboot" in open(engine.oned.managers.logs.path(vid)).read()


def test_cold_migration(engine: Engine, hosts) -> None:
    vid = engine.vm("CPU = 1 MEMORY = 128", hosts[0])
    engine.rpc.ok("one.vm.migrate", vid, hosts[1], False)
    assert engine.phase(vid) == (ACTIVE, L.SAVE_MIGRATE)
    records = _history(engine, vid)
    assert [r["HOSTNAME"] for r in records] == ["h0", "h1"] and records[1]["ETIME"] == "0"
    engine.lifecycle.step()
    assert engine.phase(vid) == (ACTIVE, L.PROLOG_MIGRATE)
    engine.lifecycle.step()
    assert engine.phase(vid) == (ACTIVE, L.BOOT_MIGRATE)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)
    first, second = _history(engine, vid)
    assert int(first["ETIME"]) > 0 and first["ACTION"] == str(HistoryAction.MIGRATE)
    assert second["ETIME"] == "0"
    assert _share(engine, hosts[0])["RUNNING_VMS"] == "0" and _share(engine, hosts[1])["RUNNING_VMS"] == "1"
    assert f"one-{vid}" in engine.hypervisor("h1").domains()


def test_live_migration(engine: Engine, hosts) -> None:
    vid = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.migrate", vid, hosts[1], True)
    assert engine.phase(vid) == (ACTIVE, L.MIGRATE)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)
    first, second = _history(engine, vid)
    assert first["ACTION"] == str(HistoryAction.LIVE_MIGRATE) and int(first["ETIME"]) > 0
    assert f"one-{vid}" in engine.hypervisor("h1").domains()
    assert engine.hypervisor("h0").domains() == {}


def test_failed_live_migration_stays_on_source(engine: Engine, hosts) -> None:
    vid = engine.vm("CPU = 1 MEMORY = 64 DUMMY_FAIL = migrate", hosts[0])
    engine.rpc.ok("one.vm.migrate", vid, hosts[1], True)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)
    assert [r["HOSTNAME"] for r in _history(engine, vid)] == ["h0"]
    assert _share(engine, hosts[1])["RUNNING_VMS"] == "0" and _share(engine, hosts[0])["RUNNING_VMS"] == "1"
    assert "migrate failed" in engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")


def test_boot_failure_then_retry(engine: Engine, hosts) -> None:
    vid = engine.vm("CPU = 1 MEMORY = 64 DUMMY_FAIL = deploy", hosts[0])
    assert engine.phase(vid) == (ACTIVE, L.BOOT_FAILURE)
    assert "injected failure of deploy" in engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")
    engine.rpc.ok("one.vm.update", vid, "DUMMY_FAIL = \"\"", 1)
    engine.rpc.ok("one.vm.recover", vid, 2)
    assert engine.phase(vid) == (ACTIVE, L.BOOT)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)


def test_prolog_failure_then_recover_success(engine: Engine, hosts) -> None:
    vid = engine.vm("CPU = 1 MEMORY = 64 DUMMY_FAIL = execute", hosts[0])
    assert engine.phase(vid) == (ACTIVE, L.PROLOG_FAILURE)
    engine.rpc.ok("one.vm.update", vid, "DUMMY_FAIL = \"\"", 1)
    engine.rpc.ok("one.vm.recover", vid, 1)  # the administrator fixed it by hand
    assert engine.phase(vid) == (ACTIVE, L.BOOT)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)


def test_shutdown_failure_returns_to_running(engine: Engine, hosts) -> None:
    vid = engine.vm("CPU = 1 MEMORY = 64 DUMMY_FAIL = shutdown", hosts[0])
    engine.rpc.ok("one.vm.action", "terminate", vid)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)
    assert "shutdown failed" in engine.doc("one.vm.info", vid).findtext("USER_TEMPLATE/ERROR")


def test_failed_cold_migration_save_stays_on_source(engine: Engine, hosts) -> None:
    vid = engine.vm("CPU = 1 MEMORY = 64 DUMMY_FAIL = save", hosts[0])
    engine.rpc.ok("one.vm.migrate", vid, hosts[1], False)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.RUNNING)
    assert [r["HOSTNAME"] for r in _history(engine, vid)] == ["h0"]
    assert _share(engine, hosts[1])["RUNNING_VMS"] == "0"


def test_epilog_failure_and_delete(engine: Engine, hosts) -> None:
    vid = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.update", vid, "DUMMY_FAIL = execute", 1)
    engine.rpc.ok("one.vm.action", "terminate", vid)
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.EPILOG_FAILURE)
    engine.rpc.ok("one.vm.recover", vid, 3)
    assert engine.phase(vid) == (ACTIVE, L.CLEANUP_DELETE)
    engine.settle()
    assert engine.phase(vid) == (S.DONE, 0)
    assert _share(engine, hosts[0])["RUNNING_VMS"] == "0"


def test_recover_delete_recreate_and_delete_db(engine: Engine, hosts) -> None:
    vid = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.recover", vid, 4)
    assert engine.phase(vid) == (ACTIVE, L.CLEANUP_RESUBMIT)
    engine.settle()
    assert engine.phase(vid) == (S.PENDING, 0)
    assert engine.hypervisor("h0").domains() == {}
    other = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.recover", other, 5)
    assert engine.phase(other) == (S.DONE, 0)
    assert f"one-{other}" in engine.hypervisor("h0").domains()  # delete-db calls no driver
    assert _share(engine, hosts[0])["RUNNING_VMS"] == "0"


def test_recover_failure_of_a_stuck_operation(engine: Engine, hosts) -> None:
    vid = engine.vm()
    engine.lifecycle.runner = _Swallow()
    engine.rpc.ok("one.vm.deploy", vid, hosts[0])
    assert engine.phase(vid) == (ACTIVE, L.PROLOG)  # the driver never answers
    engine.rpc.ok("one.vm.recover", vid, 0)
    assert engine.phase(vid) == (ACTIVE, L.PROLOG_FAILURE)


def test_stale_replies_are_dropped(engine: Engine, hosts) -> None:
    from one.core.runner import Reply
    vid = engine.vm(host=hosts[0])
    engine.lifecycle.runner = _Swallow()
    engine.rpc.ok("one.vm.action", "poweroff", vid)
    engine.lifecycle._deliver(Reply(vid, 10**9, False, error="late answer of an old call"))
    engine.settle()
    assert engine.phase(vid) == (ACTIVE, L.SHUTDOWN_POWEROFF)


def test_resched_sets_the_flag(engine: Engine, hosts) -> None:
    vid = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.action", "resched", vid)
    assert engine.doc("one.vm.info", vid).findtext("RESCHED") == "1"
    engine.rpc.ok("one.vm.action", "unresched", vid)
    assert engine.doc("one.vm.info", vid).findtext("RESCHED") == "0"


def test_hold_release_and_classic_names(engine: Engine, hosts) -> None:
    vid = engine.vm()
    engine.rpc.ok("one.vm.action", "hold", vid)
    assert engine.phase(vid) == (S.HOLD, 0)
    engine.rpc.ok("one.vm.deploy", vid, hosts[0])  # one.vm.deploy takes held VMs too
    engine.settle()
    engine.rpc.ok("one.vm.action", "shutdown", vid)  # classic name of terminate
    engine.settle()
    assert engine.phase(vid) == (S.DONE, 0)


class _Swallow:
    """A runner whose driver never answers."""

    def submit(self, vm, token, pool, op) -> None:
        pass

    def stop(self) -> None:
        pass


def test_migration_times_stay_on_their_records(engine: Engine, hosts) -> None:
    vid = engine.vm(host=hosts[0])
    engine.rpc.ok("one.vm.migrate", vid, hosts[1], True)
    engine.settle()
    first, second = _history(engine, vid)
    assert int(first["RETIME"]) > 0 and int(first["ETIME"]) > 0
    assert int(second["RSTIME"]) > 0 and second["RETIME"] == "0" and second["ETIME"] == "0"


def test_a_second_database_in_one_process_is_refused(engine: Engine, tmp_path) -> None:
    from one.pool.db import open_database
    with pytest.raises(RuntimeError, match="another one database is open"):
        open_database(str(tmp_path / "other.db"))
