"""A plain user cannot have the ssh transfer driver write a front-end file.

A disk without an image is taken from its SOURCE at the prolog and, with
SAVE = YES (or a SAVE_AS_SOURCE), moved back there at the epilog: with oned's
rights. The whole attack runs through oned and the real ssh driver on a host of
its own; it must stop at the request, and the root-only file stay as it was."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from conftest import Caller, Engine, start_oned
from tm.hosts import Host

CONFIG = ('DATASTORE_LOCATION = "{ds}"\nTM_MAD_SYSTEM = "ssh"\n'
          'TM_MAD = [ NAME = "ssh", SSH_KEY = "{SSH_KEY}", KNOWN_HOSTS = "{KNOWN_HOSTS}", '
          'SSH_PORT = "{SSH_PORT}" ]\n')


@pytest.fixture
def engine(tmp_path: Path, system_ds: Path, settings: dict[str, str]) -> Iterator[Engine]:
    var = tmp_path / "var"
    var.mkdir()
    oned = start_oned(var, config_text=CONFIG.format(ds=system_ds, **settings))
    yield Engine(oned)
    oned.stop()


def _attack(engine: Engine, vid: int, host: Host, system_ds: Path) -> None:
    """What the request led to before: deployed, the guest writes its disk, terminate."""
    engine.rpc.ok("one.vm.deploy", vid, 0)
    engine.settle()
    host.file(f"{system_ds}/0/{vid}/disk.0").write_bytes(b"written by the guest\n")
    engine.rpc.ok("one.vm.action", "terminate-hard", vid)
    engine.settle()


@pytest.mark.parametrize("disk", ['SOURCE = "{victim}", SAVE = YES, PERSISTENT = YES, CLONE = NO',
                                  'TYPE = fs, SIZE = 1, SAVE_AS_SOURCE = "{victim}"'])
def test_user_disk_cannot_overwrite_a_root_only_front_end_file(
        engine: Engine, hosts: tuple[Host, Host], system_ds: Path, tmp_path: Path, disk: str) -> None:
    engine.host(hosts[0].name)
    engine.monitor()
    victim = tmp_path / "root-only"
    victim.write_bytes(b"precious\n")
    victim.chmod(0o600)
    engine.rpc.ok("one.user.allocate", "eve", "pw", "core", [])
    eve: Caller = engine.rpc.as_user("eve:pw")
    reply = eve("one.vm.allocate", f"CPU = 0.1 MEMORY = 8 DISK = [ {disk.format(victim=victim)} ]", False)
    if reply[0]:
        _attack(engine, reply[1], hosts[0], system_ds)
    assert victim.read_bytes() == b"precious\n"
    assert reply[0] is False and reply[2] == 0x200, reply
    assert "includes a restricted attribute DISK/" in reply[1]
