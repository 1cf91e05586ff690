"""Running driver operations: per-driver thread pools, timeouts, retries.

A driver's return or exception becomes a `Reply` handed to the life cycle,
tagged with the token of the operation; the life cycle drops replies whose
token is no longer current (a timed-out call that answers late, an action
superseded by another). Tests use `InlineRunner`, which runs an operation at
once in the caller's thread, so a test drives the machine deterministically.
"""
from __future__ import annotations

import heapq
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    vm: int
    token: int
    ok: bool
    value: str | None = None
    error: str = ""


Deliver = Callable[[Reply], None]
Operation = Callable[[], "str | None"]


class Runner(Protocol):
    def submit(self, vm: int, token: int, pool: str, op: Operation) -> None: ...

    def stop(self) -> None: ...


def execute(vm: int, token: int, op: Operation, retries: int = 0, backoff: float = 0.0) -> Reply:
    """Run an operation, retrying failures; the outcome is always a reply."""
    for attempt in range(retries + 1):
        try:
            return Reply(vm, token, True, op())
        except Exception as exc:  # any driver failure is a reply, never a crash
            error = str(exc) or type(exc).__name__
            if attempt < retries:
                log.info("VM %s: attempt %d failed (%s), retrying", vm, attempt + 1, error)
                time.sleep(backoff * (attempt + 1))
    return Reply(vm, token, False, error=error)


class InlineRunner:
    """Runs each operation immediately; for tests and tools."""

    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver

    def submit(self, vm: int, token: int, pool: str, op: Operation) -> None:
        self.deliver(execute(vm, token, op))

    def stop(self) -> None:
        pass


class ThreadedRunner:
    """One thread pool per driver; a watchdog fails operations that overrun.

    `gate` runs in the driver thread before each operation: a highly available
    oned that lost the leadership fails it there instead of acting (its failure
    reply then cannot commit either).
    """

    def __init__(self, deliver: Deliver, workers: int = 16, timeout: float = 600.0,
                 retries: int = 0, backoff: float = 1.0,
                 gate: Callable[[], None] = lambda: None) -> None:
        self.deliver = deliver
        self.gate = gate
        self.workers, self.timeout, self.retries, self.backoff = workers, timeout, retries, backoff
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._deadlines: list[tuple[float, int, int]] = []
        self._in_flight: set[tuple[int, int]] = set()
        self._cond = threading.Condition()
        self._running = True
        self._watchdog = threading.Thread(target=self._watch, name="driver-watchdog", daemon=True)
        self._watchdog.start()

    def submit(self, vm: int, token: int, pool: str, op: Operation) -> None:
        with self._cond:
            executor = self._pools.get(pool)
            if executor is None:
                executor = self._pools[pool] = ThreadPoolExecutor(self.workers, f"drv-{pool}")
            heapq.heappush(self._deadlines, (time.monotonic() + self.timeout, vm, token))
            self._in_flight.add((vm, token))
            self._cond.notify()
        executor.submit(self._run, vm, token, op)

    def _run(self, vm: int, token: int, op: Operation) -> None:
        try:
            self.gate()
        except Exception as exc:  # noqa: BLE001 - not ours to run: a failure reply
            reply = Reply(vm, token, False, error=str(exc))
        else:
            reply = execute(vm, token, op, self.retries, self.backoff)
        with self._cond:
            self._in_flight.discard((vm, token))
        self.deliver(reply)  # after a timeout the life cycle drops it as stale

    def _watch(self) -> None:
        with self._cond:
            while self._running:
                if not self._deadlines:
                    self._cond.wait()
                    continue
                deadline, vm, token = self._deadlines[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._deadlines)
                if (vm, token) in self._in_flight:
                    self._in_flight.discard((vm, token))
                    self.deliver(Reply(vm, token, False, error=f"Timeout after {self.timeout:g} s"))

    def stop(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify()
        for executor in self._pools.values():
            executor.shutdown(wait=False, cancel_futures=True)
