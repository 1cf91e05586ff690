"""Batched writes: each change in a savepoint of a shared transaction, committed
together; a change that fails undoes only itself, a write that fails runs none of
its work for after the commit, and that work runs once the writer lock is free."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Iterator

import pytest

from one.pool.batch import Batch
from one.pool.db import open_database
from one.pool.fairlock import FairLock
from one.pool.models import PoolControl
from one.pool.pool import Store

pytestmark = pytest.mark.sqlite_only  # a Store on a SQLite file of its own


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = open_database(str(tmp_path / "one.db"))
    yield Store(db)
    db.close()


def _names(path: Path) -> set[str]:
    """What another connection sees: only committed rows."""
    with sqlite3.connect(path / "one.db") as other:
        return {name for (name,) in other.execute("SELECT pool FROM pool_control")}


def _add(name: str) -> None:
    PoolControl.create(pool=name, last_oid=0)


def test_a_failed_nested_write_undoes_only_itself(store: Store, tmp_path: Path) -> None:
    ran, undone = [], []
    with store.write():
        _add("a")
        with pytest.raises(KeyError), store.write():
            _add("b")
            store.on_commit(lambda: ran.append("b"))
            store.after_rollback(lambda: undone.append("b"))
            raise KeyError("b fails")
        assert undone == ["b"]          # at once, while the outer write goes on
        _add("c")
        store.on_commit(lambda: ran.append("c"))
    assert ran == ["c"]
    assert _names(tmp_path) == {"a", "c"}


def test_a_failed_write_runs_its_undo_latest_first_and_none_of_its_commit_work(
        store: Store, tmp_path: Path) -> None:
    ran: list[str] = []
    with pytest.raises(KeyError), store.write():
        _add("a")
        store.on_commit(lambda: ran.append("deploy"))
        store.after_commit(lambda: ran.append("forget caches"))
        store.after_rollback(lambda: ran.append("undo 1"))
        store.after_rollback(lambda: ran.append("undo 2"))
        raise KeyError("fails")
    assert ran == ["undo 2", "undo 1", "forget caches"]
    assert _names(tmp_path) == set()


def test_work_after_a_commit_runs_with_the_writer_lock_released(store: Store) -> None:
    other_wrote = threading.Event()

    def another_writer() -> None:
        with store.write():
            _add("other")
        other_wrote.set()

    def after() -> None:
        writer = threading.Thread(target=another_writer)
        writer.start()
        writer.join(timeout=30)  # would wait forever if the lock were still held here

    with store.write():
        _add("mine")
        store.on_commit(after)
    assert other_wrote.is_set()


def test_a_batch_commits_every_limit_changes_and_a_failing_change_fails_alone(
        store: Store, tmp_path: Path) -> None:
    ran: list[str] = []
    with Batch(store, limit=2, seconds=3600) as batch:
        for name in ("a", "b"):
            batch.run(lambda name=name: (_add(name), store.on_commit(lambda: ran.append(name))))
        assert _names(tmp_path) == {"a", "b"} and ran == ["a", "b"]
        batch.run(lambda: _add("c"))
        assert _names(tmp_path) == {"a", "b"}   # not committed yet

        def failing() -> None:
            _add("d")
            store.on_commit(lambda: ran.append("d"))
            raise KeyError("d fails")

        with pytest.raises(KeyError):
            batch.run(failing)
    assert _names(tmp_path) == {"a", "b", "c"}
    assert ran == ["a", "b"] and batch.failed == 0


def test_a_batch_whose_commit_fails_keeps_none_of_its_changes(
        store: Store, tmp_path: Path) -> None:
    ran: list[str] = []
    db = store.db
    db.execute_sql("CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute_sql("CREATE TEMP TABLE child (pid INTEGER REFERENCES parent (id) "
                   "DEFERRABLE INITIALLY DEFERRED)")
    with Batch(store, limit=10, seconds=3600) as batch:
        batch.run(lambda: (_add("a"), store.on_commit(lambda: ran.append("a"))))
        batch.run(lambda: db.execute_sql("INSERT INTO child VALUES (1)"))  # fails at COMMIT
        batch.run(lambda: (_add("b"), store.on_commit(lambda: ran.append("b"))))
    assert batch.failed == 3
    assert _names(tmp_path) == set() and ran == []


def test_the_lock_goes_to_a_waiting_writer_before_its_releaser_takes_it_back() -> None:
    lock, order = FairLock(), []

    def waiter() -> None:
        with lock:
            order.append("waiter")

    with lock:
        thread = threading.Thread(target=waiter)
        thread.start()
        for _ in range(10_000_000):  # bounded: until the waiter queues up
            if lock._waiting:
                break
    with lock:
        order.append("releaser, again")
    thread.join(timeout=30)
    assert order == ["waiter", "releaser, again"]
