"""Benchmark suite for `one`: loads a pool through the API and measures the server.

The server runs as its own process and the throughput figures come from `ab`
(a C load generator), so what is measured is oned and not the Python client.
Run with `python -m bench` (full: 10,000 VMs / 1,000 hosts) or `--quick`.
"""
