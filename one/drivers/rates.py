"""CPU use from cumulative CPU time, as information drivers report it.

Hypervisors count CPU time since a guest started; OpenNebula wants percent of
one CPU. A probe keeps the previous sample of each guest and reports the change
since then, so the first probe of a guest reports none.
"""
from __future__ import annotations

import threading


class CpuRates:
    """Previous samples by key (a host, or a guest on a host); safe across probe threads."""

    def __init__(self) -> None:
        self._samples: dict[str, tuple[float, float]] = {}   # key -> (when, cumulative seconds)
        self._lock = threading.Lock()

    def percent(self, key: str, cumulative_seconds: float, now: float) -> float:
        """Percent of one CPU used since the previous sample of `key`."""
        with self._lock:
            before = self._samples.get(key)
            self._samples[key] = (now, cumulative_seconds)
        if before is None or now <= before[0]:
            return 0.0
        return max(0.0, (cumulative_seconds - before[1]) / (now - before[0]) * 100)
