"""The fencing token, on a real PostgreSQL: a server that lost the lease can never
commit, whether it notices or not. Two servers' leases in this process, the first
one's store writing as a leader that does not know it was deposed."""
from __future__ import annotations

from typing import Iterator

import peewee
import pytest

from one.core.lease import Lease, NotLeader
from one.ha import _named
from one.pool.db import connect, open_database
from one.pool.models import PoolControl
from one.pool.pool import Store
from one.pool.pools import make_pools

pytestmark = pytest.mark.slow


@pytest.fixture
def database(postgres: str) -> str:
    """A database of the test's own."""
    return postgres


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    db = open_database(_named(database, 0))
    yield make_pools(db).store
    db.close()


def _lease(url: str, server_id: int, timeout: float) -> Lease:
    lease = Lease(connect(_named(url, server_id)), server_id, f"server-{server_id}",
                  f"http://127.0.0.1:{2633 + server_id}/RPC2", timeout)
    lease.setup()
    return lease


def _silent(lease: Lease) -> None:
    """As if the server had hung: its heartbeat an hour old."""
    lease.db.execute_sql("UPDATE one_ha_server SET seen = now() - interval '1 hour' "
                         "WHERE id = %s", (lease.server_id,))


def _probe(store: Store, name: str) -> None:
    with store.write():
        PoolControl.create(pool=name, last_oid=0)


def _stored(name: str) -> bool:
    return PoolControl.get_or_none(PoolControl.pool == name) is not None


def test_a_leader_that_lost_its_lock_session_cannot_commit(
        store: Store, database: str, caplog: pytest.LogCaptureFixture) -> None:
    first, second = _lease(database, 0, 5.0), _lease(database, 1, 5.0)
    term = first.try_lead()
    assert term is not None
    assert second.try_lead() is None  # the first leads and is alive
    store.fence = first.fence_on(store.db)
    _probe(store, "while-leading")
    _silent(first)
    assert second.try_lead() == term + 1  # it ended the first one's lock session
    assert "leader 0 silent" in "".join(caplog.messages)
    with pytest.raises(NotLeader, match=rf"not the leader \(term {term}, the lease is at term "
                                        rf"{term + 1}\)"):
        _probe(store, "after-deposed")
    with pytest.raises(NotLeader):
        first.fence_on(store.db).check()  # nor may it run a driver action
    assert _stored("while-leading") and not _stored("after-deposed")
    assert second.leads() and second.current() == (term + 1, 1)


def test_a_leader_stuck_mid_transaction_is_cut_off_before_a_new_term(
        store: Store, database: str) -> None:
    first, second = _lease(database, 0, 0.3), _lease(database, 1, 0.3)
    term = first.try_lead()
    store.fence = first.fence_on(store.db)
    with pytest.raises(peewee.PeeweeException):
        with store.write():  # the fence passed: the lease row is held FOR SHARE
            PoolControl.create(pool="stuck", last_oid=0)
            _silent(first)
            assert second.try_lead() is None  # it waited lock_timeout, then ended our sessions
    assert second.try_lead() == term + 1
    store.db.close()  # its session was ended: read on a new one
    assert not _stored("stuck")
