"""oned on PostgreSQL: the oned.conf `DB = [...]` vector of the README, and one clear
line on stderr with exit code 1 when the database cannot be used."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from bench.postgres import PASSWORD, PASSWORD_ROLE, Cluster
from conftest import ADMIN, Caller
from test_daemon_lock import Daemon


def _refused(tmp_path: Path, url: str, **environ: str) -> str:
    """oned's stderr when started on `url`, after checking it failed cleanly."""
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "one_auth").write_text(f"{ADMIN}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONE_")}
    result = subprocess.run(
        [sys.executable, "-m", "one.daemon", "-f", "--var", str(tmp_path), "--port", "0",
         "--no-sched", "--db", url], env={**env, "ONE_AUTH": str(tmp_path / "one_auth"),
                                         **environ},
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "oned.pid").exists()
    return result.stderr


def test_the_readme_db_vector_with_a_password(tmp_path: Path, postgres_cluster: Cluster) -> None:
    postgres_cluster.execute(f"CREATE DATABASE opennebula_readme OWNER {PASSWORD_ROLE}")
    (tmp_path / "oned.conf").write_text(
        f'DB = [ BACKEND = "postgresql", SERVER = "127.0.0.1", PORT = {postgres_cluster.port},\n'
        f'       USER = "{PASSWORD_ROLE}", PASSWD = "{PASSWORD}", DB_NAME = "opennebula_readme" ]\n')
    daemon = Daemon(tmp_path, "--config", str(tmp_path / "oned.conf"))
    try:
        Caller(daemon.endpoint()).ok("one.vm.allocate", "CPU = 1 MEMORY = 64", True)
        assert daemon.stop() == 0
    finally:
        daemon.stop()
        postgres_cluster.execute("DROP DATABASE opennebula_readme WITH (FORCE)")


def test_an_unreachable_server(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    assert _refused(tmp_path, f"postgresql://postgres@127.0.0.1:{port}/one") == (
        f"oned: cannot connect to PostgreSQL database one at 127.0.0.1:{port}: "
        "Connection refused\n")


def test_a_missing_database(tmp_path: Path, postgres_cluster: Cluster) -> None:
    assert _refused(tmp_path, postgres_cluster.url("nowhere")) == (
        f"oned: cannot connect to PostgreSQL database nowhere at 127.0.0.1:"
        f"{postgres_cluster.port}: FATAL: database \"nowhere\" does not exist\n")


def test_a_wrong_password(tmp_path: Path, postgres_cluster: Cluster) -> None:
    url = f"postgresql://{PASSWORD_ROLE}:wrong@127.0.0.1:{postgres_cluster.port}/postgres"
    assert _refused(tmp_path, url) == (
        f"oned: cannot connect to PostgreSQL database postgres at 127.0.0.1:"
        f"{postgres_cluster.port}: FATAL: password authentication failed for user "
        f"\"{PASSWORD_ROLE}\"\n")


def test_the_driver_not_installed(tmp_path: Path, postgres: str) -> None:
    """A psycopg2 that cannot be imported, first on the path: as if it were absent."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "psycopg2.py").write_text('raise ImportError("no psycopg2 here")\n')
    (shadow / "psycopg.py").write_text('raise ImportError("no psycopg here")\n')
    port = postgres.split(":")[2].split("/")[0]
    assert _refused(tmp_path / "var", postgres, PYTHONPATH=str(shadow)) == (
        f"oned: cannot use PostgreSQL database {postgres.rsplit('/', 1)[1]} at 127.0.0.1:{port}: "
        "the PostgreSQL driver psycopg2 is not installed (pip install 'one[postgres]')\n")
