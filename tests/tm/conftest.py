"""Hosts for the transfer drivers: real sshds on 127.0.0.2 and 127.0.0.3.

OpenNebula's hosts keep VM directories at one path, the system datastore's,
each on its own disk. So do these: every sshd runs in a mount namespace of its
own, where a directory of that host is bind-mounted over SYSTEM_DS. A VM
directory "on host A" is then on disk in A's directory only, a move from A to
B really crosses, and the test process - the front-end - checks each host's
files in that directory, without ssh. Everything else (images, the front-end's
VM directories, all under pytest's tmp) is the machine's own and seen alike by
every host, as a shared image datastore would be.

The drivers log in with a key of the front-end's, which every host accepts,
and check host keys against one known_hosts file; both hosts listen on one
port other than 22 (SSH_PORT is a driver setting), so other suites' sshds on
these addresses never collide with them.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import threading
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from one_tm_shared import SharedTM
from one_tm_ssh import SshTM

from one.plugins import VmView
from one.plugins.testing import make_vm_view
from sshd import SshHost
from tm.hosts import Host, common_port, start_host, stop_host

ADDRESSES = ("127.0.0.2", "127.0.0.3")
# In each host's namespace, its own directory is mounted here: `mount --bind ROOT SYSTEM_DS`.
IN_NAMESPACE = 'mount --bind "$0" "$1" && shift && exec "$@"'


@pytest.fixture(scope="session")
def front_end_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = tmp_path_factory.mktemp("front-end") / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                   check=True, capture_output=True)
    return key


@pytest.fixture(scope="session")
def system_ds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The system datastore's path: empty on the front-end, a host's own disk on each host."""
    return tmp_path_factory.mktemp("system-ds")


@pytest.fixture(scope="session")
def port() -> int:
    return common_port(ADDRESSES + ("127.0.0.4",))


@pytest.fixture(scope="session")
def hosts(tmp_path_factory: pytest.TempPathFactory, system_ds: Path, port: int,
          front_end_key: Path) -> Iterator[tuple[Host, Host]]:
    started: list[Host] = []
    try:
        for address in ADDRESSES:
            root = tmp_path_factory.mktemp(f"host-{address}")
            prefix = ["unshare", "--mount", "--propagation", "private", "--",
                      "sh", "-c", IN_NAMESPACE, str(root), str(system_ds)]
            sshd = start_host(address, port, front_end_key, prefix)
            started.append(Host(address, root, system_ds, sshd))
        yield started[0], started[1]
    finally:
        for host in started:
            stop_host(host.sshd)


@pytest.fixture(scope="session")
def settings(hosts: tuple[Host, Host], front_end_key: Path, port: int,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The drivers' TM_MAD settings, as oned.conf would give them."""
    known_hosts = tmp_path_factory.mktemp("known") / "known_hosts"
    known_hosts.write_text("".join(host.sshd.known_hosts.read_text() for host in hosts))
    return {"SSH_KEY": str(front_end_key), "KNOWN_HOSTS": str(known_hosts),
            "SSH_PORT": str(port)}


@pytest.fixture
def spare(port: int, front_end_key: Path) -> Iterator[SshHost]:
    """A host of its own on 127.0.0.4, for tests that stop it or meet it as a stranger."""
    sshd = start_host("127.0.0.4", port, front_end_key)
    yield sshd
    stop_host(sshd)


@pytest.fixture
def ssh_tm(settings: dict[str, str]) -> Iterator[SshTM]:
    driver = SshTM(settings)
    yield driver
    driver.remote.close()   # while the hosts' sshds still run, so they reap their sessions


@pytest.fixture
def shared_tm(settings: dict[str, str]) -> Iterator[SharedTM]:
    driver = SharedTM(settings)
    yield driver
    driver.remote.close()


@pytest.fixture(scope="session")
def vm_ids() -> Iterator[int]:
    """VM ids, so that no two tests share a VM directory on the session's hosts."""
    return itertools.count(100)


@pytest.fixture
def vm(hosts: tuple[Host, Host], system_ds: Path, tmp_path: Path, vm_ids: Iterator[int]) -> VmView:
    """A VM of its own, placed on the first host."""
    vm_id = next(vm_ids)
    view = make_vm_view(vm_id, host=hosts[0].name, system_dir=f"{system_ds}/{vm_id}")
    return replace(view, local_dir=str(tmp_path / "vms" / str(vm_id)))


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """An image in the (front-end's) image datastore: 3 MiB and a bit, no two alike."""
    path = tmp_path / "datastores" / "1" / "image"
    path.parent.mkdir(parents=True)
    path.write_bytes(os.urandom(3 * 2 ** 20 + 4097))
    return path


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 serving a directory: (its URL, the directory)."""
    root = tmp_path_factory.mktemp("web")
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 partial(SimpleHTTPRequestHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()
    thread.join()
