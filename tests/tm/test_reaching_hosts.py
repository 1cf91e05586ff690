"""How the executor reaches a host: host keys, a host that goes away, a connection that dies.

Each test meets a host of its own (127.0.0.4, `spare`), which it may stop or
present as a stranger without disturbing the other tests' hosts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from one_tm_ssh import SshTM

from one.plugins import Location, TransferStep, VmView
from one.drivers.transfer_steps import TransferError
from sshd import SshHost
from tm.hosts import Host, end_sessions


@pytest.fixture
def strict(settings: dict[str, str], spare: SshHost) -> Iterator[SshTM]:
    """A driver that knows the spare host's key and no other."""
    driver = SshTM({**settings, "KNOWN_HOSTS": str(spare.known_hosts)})
    yield driver
    driver.remote.close()


def touch(spare: SshHost, tmp_path: Path) -> TransferStep:
    """A step on the spare host (no namespace: its files are the machine's)."""
    return TransferStep("MKIMAGE", Location(str(tmp_path / "on-spare" / "disk.0"), spare.address),
                        size_mb=1, fstype="raw")


def host_key(sshd: SshHost) -> str:
    """`type base64` of the host's key, as its known_hosts line has it."""
    return " ".join(sshd.known_hosts.read_text().split()[1:3])


def test_unknown_host_key_is_refused(settings: dict[str, str], spare: SshHost, vm: VmView,
                                     tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    driver = SshTM({**settings, "KNOWN_HOSTS": str(known)})
    with pytest.raises(TransferError, match=rf"{spare.address}\]:{spare.port}: host key: "
                                            rf"ssh-ed25519 key SHA256:\S+ is not in {known}.*"
                                            "ACCEPT_NEW_HOST_KEYS"):
        driver.execute(vm, [touch(spare, tmp_path)])
    assert known.read_text() == ""
    assert not (tmp_path / "on-spare").exists()


def test_new_host_key_is_added_when_allowed(settings: dict[str, str], spare: SshHost, vm: VmView,
                                            tmp_path: Path) -> None:
    known = tmp_path / "new" / "known_hosts"
    trusting = SshTM({**settings, "KNOWN_HOSTS": str(known), "ACCEPT_NEW_HOST_KEYS": "yes"})
    trusting.execute(vm, [touch(spare, tmp_path)])
    trusting.remote.close()
    assert known.read_text() == f"[{spare.address}]:{spare.port} {host_key(spare)}\n"
    strict = SshTM({**settings, "KNOWN_HOSTS": str(known)})
    strict.execute(vm, [touch(spare, tmp_path)])
    strict.remote.close()


def test_changed_host_key_is_refused_even_when_new_keys_are_accepted(
        settings: dict[str, str], spare: SshHost, hosts: tuple[Host, Host], vm: VmView,
        tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(f"[{spare.address}]:{spare.port} {host_key(hosts[0].sshd)}\n")
    driver = SshTM({**settings, "KNOWN_HOSTS": str(known), "ACCEPT_NEW_HOST_KEYS": "yes"})
    with pytest.raises(TransferError, match=f"{spare.address}: host key: .* is not the one "
                                            f"{known} has"):
        driver.execute(vm, [touch(spare, tmp_path)])


def test_a_host_gone_down_fails_clearly(strict: SshTM, spare: SshHost, vm: VmView,
                                        tmp_path: Path) -> None:
    step = touch(spare, tmp_path)
    strict.execute(vm, [step])
    end_sessions(spare)
    spare.stop()
    with pytest.raises(TransferError, match=rf"{step} failed .*: {spare.address}: ssh root@"
                                            rf"{spare.address} port {spare.port}: .*Unable to "
                                            "connect"):
        strict.execute(vm, [step])


def test_a_dead_connection_is_replaced(strict: SshTM, spare: SshHost, vm: VmView,
                                       tmp_path: Path) -> None:
    step = touch(spare, tmp_path)
    strict.execute(vm, [step])
    end_sessions(spare)
    strict.execute(vm, [step])
    assert spare.log.read_text().count("Accepted publickey") == 2


def test_the_front_end_itself_needs_no_ssh(vm: VmView, image: Path, tmp_path: Path) -> None:
    """`localhost` is the front-end: a driver with no usable key or known host still works."""
    unusable = SshTM({"SSH_KEY": str(tmp_path / "no-key"), "KNOWN_HOSTS": str(tmp_path / "none")})
    here = Location(str(tmp_path / "here" / "disk.0"), "localhost")
    unusable.execute(vm, [TransferStep("CLONE", here, src=Location(str(image))),
                          TransferStep("MV", Location(str(tmp_path / "there")),
                                       src=Location(str(tmp_path / "here"), "localhost"))])
    assert (tmp_path / "there" / "disk.0").read_bytes() == image.read_bytes()
    assert not (tmp_path / "here").exists()
