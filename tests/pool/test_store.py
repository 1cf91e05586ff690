"""The writer's transaction: work after commit never turns a committed change
into an error (an error reply must mean that nothing was committed)."""
from __future__ import annotations

from pathlib import Path

import pytest

from one.pool.db import open_database
from one.pool.models import PoolControl
from one.pool.pool import Store

pytestmark = pytest.mark.sqlite_only  # a Store on a SQLite file of its own


def test_failing_after_commit_work_neither_raises_nor_stops_the_rest(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = open_database(str(tmp_path / "one.db"))
    try:
        store, ran = Store(db), []

        def broken() -> None:
            raise ValueError("cannot read it back")

        with store.write():
            PoolControl.create(pool="x", last_oid=7)
            store.after_commit(broken)
            store.after_commit(lambda: ran.append("forget caches"))
        assert ran == ["forget caches"]
        assert PoolControl.get(PoolControl.pool == "x").last_oid == 7
        assert "cannot read it back" in caplog.text

        with pytest.raises(KeyError), store.write():
            PoolControl.create(pool="y", last_oid=1)
            store.after_rollback(broken)
            raise KeyError("allocation failed")
        assert PoolControl.get_or_none(PoolControl.pool == "y") is None
    finally:
        db.close()
