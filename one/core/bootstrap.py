"""First start on an empty database: system groups, default cluster, oneadmin.

oneadmin's credentials come from the ONE_AUTH file (`user:password`), as with
OpenNebula; when there is none, a random password is written there (0600).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from one.core.managers import Managers
from one.errors import OneError
from one.pool.models import Datastore, User


def one_auth_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("ONE_AUTH") or Path.home() / ".one" / "one_auth").expanduser()


def read_one_auth(path: Path) -> tuple[str, str]:
    text = path.read_text().strip()
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        raise OneError(f"{path} must hold one line 'user:password'.")
    return name, password


def bootstrap(managers: Managers, auth_file: Path) -> str | None:
    """Create the first objects if the database is empty.

    Returns a message for the operator when a password was generated.
    """
    with managers.pools.store.write():
        if not Datastore.select().exists():  # also for databases made before datastores
            managers.datastores.bootstrap()
        managers.acl.bootstrap()
        if User.select().exists():
            return None
        message = None
        if not auth_file.exists():
            auth_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(auth_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(f"oneadmin:{secrets.token_urlsafe(18)}\n")
            message = f"oneadmin password generated and written to {auth_file}"
        name, password = read_one_auth(auth_file)
        managers.groups.bootstrap()
        managers.users.bootstrap(name, password)
    return message
