"""Benchmark suite for `one`: loads a pool through the API and measures the server.

The server runs as its own process and the throughput figures come from `ab`
(a C load generator), so what is measured is oned and not the Python client.
Issue 3's figures (scheduler, allocate -> RUNNING, monitoring, memory) come
from servers of their own, configured through an oned.conf and watched by
polling, as a client would.
Run with `python -m bench` (full: 10,000 VMs / 1,000 hosts) or `--quick`.
"""
