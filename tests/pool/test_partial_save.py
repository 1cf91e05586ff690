"""A save writes only the columns it changed, and `Pool.modify` reads under the lock."""
from __future__ import annotations

import pytest

from conftest import Caller
from one.daemon import Oned
from one.pool.models import Host
from one.pool.pool import Pool
from one.states import HostState


@pytest.fixture
def hosts(oned: Oned, rpc: Caller) -> Pool[Host]:
    rpc.ok("one.host.allocate", "node0", "dummy", "dummy", -1)
    return oned.managers.pools.hosts


def _changes(pool: Pool[Host]) -> int:
    """Rows this thread's connection has written so far."""
    return pool.store.db.connection().total_changes


def test_two_stale_copies_keep_both_changes(hosts: Pool[Host]) -> None:
    first, second = hosts.get(0), hosts.get(0)
    first.template.set("RACK", "r1")
    hosts.save(first)
    second.prev_state, second.state = second.state, HostState.DISABLED
    hosts.save(second)
    stored = hosts.get(0)
    assert stored.template.get("RACK") == "r1" and stored.state == HostState.DISABLED


def test_selected_objects_also_write_only_their_changes(hosts: Pool[Host]) -> None:
    [listed] = hosts.select(Host.oid == 0)
    fresh = hosts.get(0)
    fresh.template.set("RACK", "r2")
    hosts.save(fresh)
    listed.last_mon_time = 42
    hosts.save(listed)
    stored = hosts.get(0)
    assert stored.template.get("RACK") == "r2" and stored.last_mon_time == 42


@pytest.mark.sqlite_only  # counts rows by SQLite's total_changes; the code is the same on both
def test_a_save_that_changes_nothing_writes_nothing_and_keeps_the_cached_text(
        hosts: Pool[Host]) -> None:
    text = hosts.text(0)
    before = _changes(hosts)
    hosts.save(hosts.get(0))
    assert _changes(hosts) == before
    assert hosts.text(0) is text


def test_a_real_change_drops_the_cached_text(hosts: Pool[Host]) -> None:
    hosts.text(0)
    with hosts.modify(0) as host:
        host.template.set("RACK", "r3")
    assert b"r3" in hosts.text(0)


def test_modify_saves_nothing_when_its_block_fails(hosts: Pool[Host]) -> None:
    with pytest.raises(RuntimeError), hosts.modify(0) as host:
        host.template.set("RACK", "never")
        raise RuntimeError("refused")
    assert hosts.get(0).template.get("RACK") is None


def test_an_object_whose_write_rolled_back_is_written_whole_next_time(hosts: Pool[Host]) -> None:
    host = hosts.get(0)
    with pytest.raises(RuntimeError), hosts.store.write():
        host.template.set("RACK", "r4")
        hosts.save(host)
        raise RuntimeError("rolled back")
    hosts.save(host)
    assert hosts.get(0).template.get("RACK") == "r4"
