"""Files and directories only oned's user may read.

VM directories hold deployment files, logs and the CONTEXT CD-ROM, which may
carry users' secrets (context variables, SSH keys, files). The daemon sets a
umask of 077; these helpers give the same modes to files made by an oned
built in another process (tests, tools), whatever its umask, and tighten
files left by an older version.
"""
from __future__ import annotations

import os


def private_dir(path: str) -> None:
    """`path` and its parent exist with mode 0700 (the parent is the `vms/` root)."""
    for directory in (os.path.dirname(path), path):
        os.makedirs(directory, mode=0o700, exist_ok=True)


def private_opener(path: str, flags: int) -> int:
    """An `opener` for open(): mode 0600 on creation and on a file that existed."""
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return fd
