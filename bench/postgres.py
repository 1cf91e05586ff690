"""A throw-away PostgreSQL server for the tests and benches: a fresh database per use.

initdb runs in a directory of its own under /tmp (pytest's are not traversable
by another user) as an unprivileged user: as root, the postgres user, since
initdb refuses root. The server listens on a free loopback port with trust
authentication and is stopped by its PID. For the tests durability is off
(fsync): nothing there outlives the session.
"""
from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from one.pool.db import open_database

TEMPLATE = "one_template"
# A role that must give its password (every other connection is trusted): for the
# tests of oned.conf's USER/PASSWD and of a wrong password.
PASSWORD_ROLE, PASSWORD = "secured", "s3cret"


def _pg_bin() -> Path:
    """Debian's PostgreSQL server binaries (`make install` installs package postgresql)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert found, "PostgreSQL server binaries missing: apt-get install postgresql"
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One PostgreSQL server; `create()` gives the URL of a new database."""

    def __init__(self, durable: bool = False) -> None:
        """`durable` (benches): fsync and full-page writes on, as PostgreSQL's defaults.
        Commits never wait for the WAL flush (synchronous_commit off), which is what
        oned's SQLite does (WAL, synchronous=NORMAL): a crash may lose the last
        commits, never the database."""
        import psycopg2  # noqa: F401 - peewee's PostgreSQL driver, in the test extras
        pg_bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="one-pg-"))
        as_owner: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            as_owner = ["runuser", "-u", "postgres", "--"]
        self.port = _free_port()
        data = self.root / "data"
        subprocess.run([*as_owner, str(pg_bin / "initdb"), "-D", str(data), "-A", "trust",
                        "-U", "postgres"], check=True, capture_output=True)
        hba = data / "pg_hba.conf"
        hba.write_text(f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n{hba.read_text()}")
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c synchronous_commit=off -c max_connections=300")
        if not durable:
            options += " -c fsync=off -c full_page_writes=off"
        subprocess.run([*as_owner, str(pg_bin / "pg_ctl"), "-D", str(data), "-o", options,
                        "-l", str(self.root / "log"), "-w", "start"], check=True, capture_output=True)
        self.pid = int((data / "postmaster.pid").read_text().split()[0])
        self._names = itertools.count()
        self.execute(f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}'")
        self.execute(f"CREATE DATABASE {TEMPLATE}")
        open_database(self.url(TEMPLATE)).close()  # the schema, copied by every create()

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, statement: str) -> None:
        """A statement outside any transaction (CREATE/DROP DATABASE), as the superuser."""
        import psycopg2
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres",
                                      dbname="postgres")
        try:
            connection.autocommit = True
            connection.cursor().execute(statement)
        finally:
            connection.close()

    def create(self) -> str:
        name = f"test_{next(self._names)}"
        self.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop a database, ending the connections a stopped oned's threads left."""
        self.execute(f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def stop(self) -> None:
        """SIGINT is PostgreSQL's fast shutdown; the directory goes once it has exited."""
        os.kill(self.pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)
