"""The driver toolkit: what host-side drivers share, beside the plugin contract.

Why apart from `one.plugins`: the plugin API is a contract (hook
specifications, driver base classes, views, the conformance suites) that the
core and every driver agree on; this package holds working parts that only
drivers use - the executor that runs commands and moves bytes on hosts over
SSH (`remote`, `shells`), the transfer steps of the `ssh` and `shared` TM
drivers (`transfer_steps`), and what hypervisor drivers read alike from a VM
(`guests`) or its CPU time (`rates`). The core never imports it
(tests/test_layering.py), so oned's own dependencies stop at the contract and
paramiko is a driver's.
"""
