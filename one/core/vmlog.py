"""The VM's log, `<var>/vms/<id>/vm.log`, in oned's format.

Life-cycle messages are written directly. Lines drivers log through their
`self.log` reach the file of the VM whose operation is running: the operation
runs inside `logged(...)`, which sets a context variable that one stateless
handler on the `one.driver` logger reads.
"""
from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections import OrderedDict
from typing import IO, Callable, TypeVar

from one.core.private import private_dir, private_opener

T = TypeVar("T")
_TARGET: contextvars.ContextVar["tuple[VmLogs, int] | None"] = contextvars.ContextVar(
    "one_vm_log", default=None)
_LEVELS = {logging.DEBUG: "D", logging.INFO: "I", logging.WARNING: "W", logging.ERROR: "E"}
OPEN_LOGS = 256  # files kept open (line-buffered) for the VMs most recently written

class VmLogs:
    def __init__(self, var_location: str) -> None:
        self.root = os.path.join(var_location, "vms")
        self._lock = threading.Lock()
        self._open: OrderedDict[int, IO[str]] = OrderedDict()

    def path(self, vid: int) -> str:
        return os.path.join(self.root, str(vid), "vm.log")

    def write(self, vid: int, module: str, level: str, message: str) -> None:
        line = f"{time.strftime('%a %b %d %H:%M:%S %Y')} [Z0][{module}][{level}]: {message}\n"
        with self._lock:
            self._file(vid).write(line)

    def _file(self, vid: int) -> IO[str]:
        """The VM's log, opened once and kept while it is among the most recent."""
        out = self._open.get(vid)
        if out is None:
            out = self._open[vid] = self._reopen(self.path(vid))
            while len(self._open) > OPEN_LOGS:
                self._open.popitem(last=False)[1].close()
        else:
            self._open.move_to_end(vid)
        return out

    @staticmethod
    def _reopen(path: str) -> IO[str]:
        """Open for appending; the directory is made only when missing: a VM's log is
        opened again at each step once it left the open ones, and checking its
        directory every time cost the scheduler's dispatch a fifth of its time."""
        try:
            return open(path, "a", encoding="utf-8", buffering=1, opener=private_opener)
        except FileNotFoundError:
            private_dir(os.path.dirname(path))
            return open(path, "a", encoding="utf-8", buffering=1, opener=private_opener)

    def close(self) -> None:
        with self._lock:
            while self._open:
                self._open.popitem()[1].close()

    def logged(self, vid: int, operation: Callable[[], T]) -> Callable[[], T]:
        """The operation, with driver log lines going to this VM's log."""
        def run() -> T:
            marker = _TARGET.set((self, vid))
            try:
                return operation()
            finally:
                _TARGET.reset(marker)
        return run


class DriverLineHandler(logging.Handler):
    """Routes `one.driver.<kind>.<name>` records to the VM being worked on."""

    def emit(self, record: logging.LogRecord) -> None:
        target = _TARGET.get()
        if target is None:
            return
        logs, vid = target
        parts = record.name.split(".")
        module = parts[2].upper() if len(parts) > 2 else "DRV"
        try:
            logs.write(vid, module, _LEVELS.get(record.levelno, "I"), record.getMessage())
        except OSError:
            self.handleError(record)


def install_driver_log_handler() -> None:
    """Once per process: driver loggers feed VM logs."""
    logger = logging.getLogger("one.driver")
    if not any(isinstance(h, DriverLineHandler) for h in logger.handlers):
        logger.addHandler(DriverLineHandler(logging.DEBUG))
        logger.setLevel(logging.DEBUG)
        # Driver lines belong in VM logs; only problems also reach oned's own log.
        logger.propagate = False
        escalate = logging.StreamHandler()
        escalate.setLevel(logging.WARNING)
        logger.addHandler(escalate)
