"""A reentrant lock handed to its waiters in the order they came.

`threading.RLock` lets the thread that releases it take it straight back,
before a waiter wakes up: a writer that commits batch after batch (the
scheduler dispatching a cycle, the life cycle applying replies) would keep
every API call that writes waiting for as long as it has work. This lock
hands itself over at release, first come first served, so each waiting
writer gets its turn between two batches.
"""
from __future__ import annotations

import threading
from collections import deque
from types import TracebackType


class FairLock:
    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiting: deque[tuple[int, threading.Lock]] = deque()

    def acquire(self) -> bool:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return True
            if self._owner is None:
                self._owner, self._depth = me, 1
                return True
            gate = threading.Lock()
            gate.acquire()
            self._waiting.append((me, gate))
        gate.acquire()  # opened by `release`, which made this thread the owner
        return True

    def release(self) -> None:
        with self._mutex:
            if self._owner != threading.get_ident():
                raise RuntimeError("cannot release a lock this thread does not hold")
            self._depth -= 1
            if self._depth:
                return
            if not self._waiting:
                self._owner = None
                return
            self._owner, gate = self._waiting.popleft()
            self._depth = 1
        gate.release()

    def waited_for(self) -> bool:
        """Whether another thread is waiting for the lock now."""
        return bool(self._waiting)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.release()
