"""Every action in every state it does not apply to is an ACTION error at once.

The expected answer comes from the transition table itself; VMs are really put
in each state with the dummy drivers, so this checks the engine enforces the
table and that nothing changes when it refuses.
"""
from __future__ import annotations

import pytest

from conftest import Engine
from one.core.lifecycle import phases
from one.states import LcmState as L, VmState as S

ACTION_ERROR = 0x800


def _running(e: Engine, hid: int) -> int:
    return e.vm(host=hid)


def _via(*actions: str):
    def make(e: Engine, hid: int) -> int:
        vid = _running(e, hid)
        for action in actions:
            e.rpc.ok("one.vm.action", action, vid)
            e.settle()
        return vid
    return make


def _failure(e: Engine, hid: int) -> int:
    return e.vm("CPU = 1 MEMORY = 64 DUMMY_FAIL = deploy", hid)


SETUPS = {
    (S.PENDING, 0): lambda e, hid: e.vm(),
    (S.HOLD, 0): lambda e, hid: e.rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True),
    (S.ACTIVE, L.RUNNING): _running,
    (S.POWEROFF, 0): _via("poweroff"),
    (S.SUSPENDED, 0): _via("suspend"),
    (S.STOPPED, 0): _via("stop"),
    (S.UNDEPLOYED, 0): _via("undeploy"),
    (S.DONE, 0): _via("terminate"),
    (S.ACTIVE, L.BOOT_FAILURE): _failure,
}
CASES = [(phase, action) for phase in SETUPS for action in phases.ACTIONS
         if not any(phase in froms for froms, _, _ in phases.ACTIONS[action])]


@pytest.fixture
def host(engine: Engine) -> int:
    hid = engine.host("h0")
    engine.monitor()
    return hid


@pytest.mark.parametrize("phase,action", CASES, ids=[f"{p[0]}.{p[1]}-{a}" for p, a in CASES])
def test_action_in_wrong_state(engine: Engine, host: int, phase, action: str) -> None:
    vid = SETUPS[phase](engine, host)
    assert engine.phase(vid) == phase
    before = engine.rpc.ok("one.vm.info", vid)
    assert "Wrong state" in engine.rpc.fails("one.vm.action", action, vid, code=ACTION_ERROR)
    assert engine.rpc.ok("one.vm.info", vid) == before


@pytest.mark.parametrize("phase", [p for p in SETUPS if p not in phases.DEPLOY_FROM])
def test_deploy_in_wrong_state(engine: Engine, host: int, phase) -> None:
    vid = SETUPS[phase](engine, host)
    engine.rpc.fails("one.vm.deploy", vid, host, code=ACTION_ERROR)


@pytest.mark.parametrize("phase", [p for p in SETUPS if p not in phases.MIGRATE_FROM[False]])
def test_migrate_in_wrong_state(engine: Engine, host: int, phase) -> None:
    other = engine.host("h1")
    vid = SETUPS[phase](engine, host)
    engine.rpc.fails("one.vm.migrate", vid, other, False, code=ACTION_ERROR)


def test_every_table_action_is_allowed_somewhere_reachable() -> None:
    reachable = set(SETUPS)
    for action, rules in phases.ACTIONS.items():
        assert any(froms & reachable for froms, _, _ in rules), action


def test_recover_needs_a_failure_or_an_operation(engine: Engine, host: int) -> None:
    vid = _running(engine, host)
    for op in (0, 1, 2):
        engine.rpc.fails("one.vm.recover", vid, op, code=ACTION_ERROR)
    done = _via("terminate")(engine, host)
    for op in range(6):
        engine.rpc.fails("one.vm.recover", done, op, code=ACTION_ERROR)


def test_migration_refusals(engine: Engine, host: int) -> None:
    vid = _running(engine, host)
    assert "already on host" in engine.rpc.fails("one.vm.migrate", vid, host, False, code=ACTION_ERROR)
    assert "type" in engine.rpc.fails("one.vm.migrate", vid, host, False, False, -1, 2, code=0x1000)
    engine.rpc.fails("one.vm.deploy", 4242, host, code=0x400)
    engine.rpc.fails("one.vm.migrate", vid, 4242, True, code=0x400)


def test_deploy_with_enforce_checks_capacity(engine: Engine, host: int) -> None:
    vid = engine.vm("CPU = 100 MEMORY = 64")
    assert "capacity" in engine.rpc.fails("one.vm.deploy", vid, host, True, code=ACTION_ERROR)
    engine.rpc.ok("one.vm.deploy", vid, host, False)  # without enforce the administrator decides
