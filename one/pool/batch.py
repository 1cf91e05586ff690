"""Many small changes in one transaction: each in a savepoint, committed together.

A transaction and its commit cost more than a small change itself, and every
writer queues on the store's one lock. So the scheduler dispatches a cycle's
VMs, and the life cycle applies the driver replies waiting in its queue, as
batches: each change runs in a savepoint of a shared transaction (one that
fails is rolled back alone and its error reaches the caller), and the
transaction commits after `limit` changes or `seconds`, or after `turn` when
another writer waits for the lock: an API call waits for a few milliseconds
of a batch at most, and the batch still moves many changes per commit.
The work each change queued for after its commit (driver operations, logs,
hooks) runs after that commit, outside the lock; if the commit itself fails,
every change of the batch is rolled back together and none of that work runs;
those changes are kept in `lost`, so a caller whose changes can be re-run (the
monitor's host updates) runs them again instead of losing them.
"""
from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from types import TracebackType
from typing import Callable, TypeVar

from one.pool.pool import Store

T = TypeVar("T")
log = logging.getLogger(__name__)
LIMIT = 500        # changes per transaction
SECONDS = 0.05     # longest a batch keeps the writer lock
TURN = 0.01        # longest it keeps it while another writer waits


class Batch:
    """`with Batch(store) as batch: batch.run(change)`; the open transaction commits on exit."""

    def __init__(self, store: Store, limit: int = LIMIT, seconds: float = SECONDS,
                 turn: float = TURN) -> None:
        self.store, self.limit, self.seconds, self.turn = store, limit, seconds, turn
        self.failed = 0            # changes lost with a transaction whose commit failed
        self.lost: list[Callable[[], object]] = []  # those changes, in their order
        self._open: ExitStack | None = None
        self._count = 0
        self._done: list[Callable[[], object]] = []  # changes made in the open transaction
        self._started = 0.0

    def run(self, change: Callable[[], T]) -> T:
        """Apply one change in the batch's transaction; its exception is raised here,
        with only this change rolled back."""
        if self._open is None:
            self._begin()
        try:
            with self.store.write():
                result = change()
            self._done.append(change)
            return result
        finally:
            self._count += 1
            held = time.monotonic() - self._started
            if (self._count >= self.limit or held >= self.seconds
                    or (held >= self.turn and self.store.lock.waited_for())):
                self.commit()

    def _begin(self) -> None:
        stack = ExitStack()
        stack.enter_context(self.store.write())
        self._open, self._count, self._started = stack, 0, time.monotonic()
        self._done = []

    def commit(self) -> None:
        """End the open transaction, if any; a commit that fails is logged and counted
        (the changes are rolled back together, as if never made)."""
        stack, self._open = self._open, None
        if stack is None:
            return
        try:
            stack.close()
        except Exception:  # noqa: BLE001 - the batch is rolled back; the caller goes on
            self.failed += self._count
            self.lost += self._done
            log.exception("a batch of %d changes was rolled back", self._count)

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if error is not None and self._open is not None:
            stack, self._open = self._open, None
            stack.__exit__(kind, error, trace)  # an escaping error rolls the batch back
            return
        self.commit()
