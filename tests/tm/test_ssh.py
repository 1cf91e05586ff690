"""The ssh TM driver on two real hosts: what lands on which disk, what leaves, what fails."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from one_tm_ssh import SshTM

from one.plugins import Location, TransferStep, VmView
from one.drivers.transfer_steps import TransferError
from tm.hosts import Host, sha256

MiB = 2 ** 20


def disk(vm: VmView, index: int, host: str | None = None) -> Location:
    return Location(f"{vm.system_dir}/disk.{index}", host or vm.host)


def read_at(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as data:
        data.seek(offset)
        return data.read(size)


def is_sparse(path: Path) -> bool:
    return path.stat().st_blocks * 512 < path.stat().st_size


@pytest.mark.parametrize("op", ["CLONE", "LN"])
def test_image_lands_on_its_host_only(ssh_tm: SshTM, vm: VmView, image: Path,
                                      hosts: tuple[Host, Host], op: str) -> None:
    a, b = hosts
    ssh_tm.execute(vm, [TransferStep(op, disk(vm, 0), src=Location(str(image)), size_mb=4)])
    assert sha256(a.file(disk(vm, 0).path)) == sha256(image)
    assert not b.file(vm.system_dir).exists()
    assert image.exists()


def test_clone_from_an_http_url(ssh_tm: SshTM, vm: VmView, web: tuple[str, Path],
                                hosts: tuple[Host, Host]) -> None:
    url, served = web
    (served / "big.img").write_bytes(os.urandom(24 * MiB))
    target = disk(vm, 0, hosts[1].name)
    ssh_tm.execute(vm, [TransferStep("CLONE", target, src=Location(f"{url}/big.img"))])
    assert sha256(hosts[1].file(target.path)) == sha256(served / "big.img")


def test_clone_from_a_missing_url_says_what_the_server_said(
        ssh_tm: SshTM, vm: VmView, web: tuple[str, Path]) -> None:
    step = TransferStep("CLONE", disk(vm, 0), src=Location(f"{web[0]}/none.img"))
    with pytest.raises(TransferError, match=f"{step}.*{web[0]}/none.img.*404"):
        ssh_tm.execute(vm, [step])


def test_mkswap_makes_a_sparse_swap_space(ssh_tm: SshTM, vm: VmView,
                                          hosts: tuple[Host, Host]) -> None:
    ssh_tm.execute(vm, [TransferStep("MKSWAP", disk(vm, 2), size_mb=16)])
    swap = hosts[0].file(disk(vm, 2).path)
    assert swap.stat().st_size == 16 * MiB
    assert read_at(swap, 4086, 10) == b"SWAPSPACE2"
    assert is_sparse(swap)


def test_mkimage_formats_a_datablock(ssh_tm: SshTM, vm: VmView, hosts: tuple[Host, Host]) -> None:
    ssh_tm.execute(vm, [TransferStep("MKIMAGE", disk(vm, 1), size_mb=8, fstype="ext4"),
                        TransferStep("MKIMAGE", disk(vm, 2), size_mb=8, fstype="raw"),
                        TransferStep("MKIMAGE", disk(vm, 3), size_mb=8, fstype="qcow2")])
    ext4, raw, qcow2 = (hosts[0].file(disk(vm, i).path) for i in (1, 2, 3))
    assert read_at(ext4, 1080, 2) == b"\x53\xef"    # 0xEF53, little-endian
    assert raw.stat().st_size == 8 * MiB and is_sparse(raw)
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(qcow2)],
                                     capture_output=True, text=True, check=True).stdout)
    assert info["format"] == "qcow2" and info["virtual-size"] == 8 * MiB


def test_context_iso_is_copied(ssh_tm: SshTM, vm: VmView, tmp_path: Path,
                               hosts: tuple[Host, Host]) -> None:
    iso = tmp_path / "context.iso"
    iso.write_bytes(os.urandom(64 * 1024))
    ssh_tm.execute(vm, [TransferStep("CONTEXT", disk(vm, 1), src=Location(str(iso)))])
    assert hosts[0].file(disk(vm, 1).path).read_bytes() == iso.read_bytes()


def vm_directory(where: Path) -> dict[str, str]:
    """What a VM directory holds, by file name: checksums, and which files are sparse."""
    return {f"{p.name}{' (sparse)' if is_sparse(p) else ''}": sha256(p)
            for p in sorted(where.iterdir())}


def test_vm_directory_goes_round_front_end_hosts_front_end(
        ssh_tm: SshTM, vm: VmView, hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    local = Path(vm.local_dir)
    local.mkdir(parents=True)
    (local / "disk.0").write_bytes(os.urandom(2 * MiB + 1))
    (local / "checkpoint").write_bytes(os.urandom(5000))
    with (local / "disk.1").open("wb") as sparse:   # 64 MiB, of which 1 written
        sparse.truncate(64 * MiB)
        sparse.seek(10 * MiB)
        sparse.write(os.urandom(MiB))
    before = vm_directory(local)

    ssh_tm.execute(vm, [TransferStep("MV", Location(vm.system_dir, a.name),
                                     src=Location(str(local)))])
    assert vm_directory(a.file(vm.system_dir)) == before and not local.exists()

    moved = replace(vm, host=b.name, previous_host=a.name)
    ssh_tm.execute(moved, [TransferStep("MV", Location(vm.system_dir, b.name),
                                        src=Location(vm.system_dir, a.name))])
    assert vm_directory(b.file(vm.system_dir)) == before
    assert not a.file(vm.system_dir).exists()

    ssh_tm.execute(moved, [TransferStep("MV", Location(str(local)),
                                        src=Location(vm.system_dir, b.name))])
    assert vm_directory(local) == before and not b.file(vm.system_dir).exists()


def test_moves_run_again_after_they_finished_keep_the_directory(
        ssh_tm: SshTM, vm: VmView, hosts: tuple[Host, Host], caplog: pytest.LogCaptureFixture) -> None:
    """A plan resumed after a crash of oned: each MV finds its source gone, its target there."""
    a, b = hosts
    local = Path(vm.local_dir)
    local.mkdir(parents=True)
    (local / "disk.0").write_bytes(os.urandom(MiB))
    before = vm_directory(local)
    to_a = TransferStep("MV", Location(vm.system_dir, a.name), src=Location(str(local)))
    a_to_b = TransferStep("MV", Location(vm.system_dir, b.name), src=Location(vm.system_dir, a.name))
    caplog.set_level(logging.INFO)
    ssh_tm.execute(vm, [to_a, to_a, a_to_b, a_to_b])
    assert vm_directory(b.file(vm.system_dir)) == before
    assert not local.exists() and not a.file(vm.system_dir).exists()
    assert sum("already moved" in message for message in caplog.messages) == 2


def test_persistent_disk_goes_back_to_its_datastore(
        ssh_tm: SshTM, vm: VmView, image: Path, hosts: tuple[Host, Host]) -> None:
    saved = image.with_name("saved")
    ssh_tm.execute(vm, [TransferStep("CLONE", disk(vm, 0), src=Location(str(image))),
                        TransferStep("MV", Location(str(saved)), src=disk(vm, 0))])
    assert sha256(saved) == sha256(image)
    assert not hosts[0].file(disk(vm, 0).path).exists()


def _qcow2_with_snapshot(where: Path) -> tuple[Path, bytes, bytes]:
    """A qcow2 disk whose internal snapshot `snap-1` (as the KVM driver names them) holds
    other bytes than the disk now: (disk, snapshot's bytes, current bytes)."""
    old, new = os.urandom(MiB), os.urandom(MiB)
    (where / "old.raw").write_bytes(old)
    (where / "new.raw").write_bytes(new)
    qcow2 = where / "disk.qcow2"
    for args in (["convert", "-O", "qcow2", where / "old.raw", qcow2],
                 ["snapshot", "-c", "snap-1", qcow2],
                 ["convert", "-n", "-f", "raw", "-O", "qcow2", where / "new.raw", qcow2]):
        subprocess.run(["qemu-img", *map(str, args)], check=True, capture_output=True)
    return qcow2, old, new


def test_cpds_saves_a_disk_snapshot_and_keeps_the_disk(
        ssh_tm: SshTM, vm: VmView, tmp_path: Path, hosts: tuple[Host, Host]) -> None:
    qcow2, old, new = _qcow2_with_snapshot(tmp_path)
    saved = tmp_path / "saved"
    ssh_tm.execute(vm, [TransferStep("CLONE", disk(vm, 0), src=Location(str(qcow2))),
                        TransferStep("CPDS", Location(str(saved)), src=disk(vm, 0), snapshot=1)])
    assert saved.read_bytes() == old
    on_host = hosts[0].file(disk(vm, 0).path)
    assert not list(on_host.parent.glob("*.raw"))
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(on_host), str(tmp_path / "now")],
                   check=True, capture_output=True)
    assert (tmp_path / "now").read_bytes() == new
    step = TransferStep("CPDS", Location(str(tmp_path / "none")), src=disk(vm, 0), snapshot=7)
    with pytest.raises(TransferError, match=f"{step} failed.*snap-7"):
        ssh_tm.execute(vm, [step])
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_resize_grows_an_undeployed_disk_on_the_front_end(
        ssh_tm: SshTM, vm: VmView, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "disk.0"
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(path), "1M"], check=True)
    step = TransferStep("RESIZE", Location(str(path)), size_mb=4)
    ssh_tm.execute(vm, [step, step])
    info = subprocess.run(["qemu-img", "info", "--output=json", str(path)], check=True,
                          capture_output=True, text=True).stdout
    assert (json.loads(info)["virtual-size"], json.loads(info)["format"]) == (4 * MiB, fmt)


def test_delete_is_idempotent(ssh_tm: SshTM, vm: VmView, image: Path,
                              hosts: tuple[Host, Host]) -> None:
    delete = TransferStep("DELETE", Location(vm.system_dir, vm.host))
    ssh_tm.execute(vm, [TransferStep("CLONE", disk(vm, 0), src=Location(str(image))),
                        delete, delete])
    assert not hosts[0].file(vm.system_dir).exists()
    ssh_tm.execute(vm, [delete])


def test_first_failing_step_fails_the_plan_and_is_named(
        ssh_tm: SshTM, vm: VmView, image: Path, hosts: tuple[Host, Host]) -> None:
    plan = [TransferStep("CLONE", disk(vm, 0), src=Location(str(image))),
            TransferStep("CLONE", disk(vm, 1), src=Location(f"{image}.missing")),
            TransferStep("MKSWAP", disk(vm, 2), size_mb=4)]
    with pytest.raises(TransferError) as failed:
        ssh_tm.execute(vm, plan)
    assert str(failed.value).startswith(f"{plan[1]} failed (step 2 of 3 for VM {vm.id}): "
                                        f"frontend: read {image}.missing: No such file")
    assert hosts[0].file(disk(vm, 0).path).exists()
    assert not hosts[0].file(disk(vm, 2).path).exists()


def test_a_failing_host_command_reports_its_stderr(ssh_tm: SshTM, vm: VmView) -> None:
    step = TransferStep("MKIMAGE", disk(vm, 1), size_mb=8, fstype="nofs")
    with pytest.raises(TransferError, match=rf"{step} failed .*: {vm.host}: .*mkfs -t nofs.*: "
                                            r"mkfs: failed to execute mkfs\.nofs"):
        ssh_tm.execute(vm, [step])


def test_each_step_logs_one_line(ssh_tm: SshTM, vm: VmView, image: Path,
                                 caplog: pytest.LogCaptureFixture) -> None:
    plan = [TransferStep("CLONE", disk(vm, 0), src=Location(str(image))),
            TransferStep("MKSWAP", disk(vm, 1), size_mb=4),
            TransferStep("DELETE", Location(vm.system_dir, vm.host))]
    with caplog.at_level(logging.INFO, logger="one.driver.tm.ssh"):
        ssh_tm.execute(vm, plan)
    lines = [r.getMessage() for r in caplog.records if r.name == "one.driver.tm.ssh"]
    assert len(lines) == len(plan)
    assert all(line.startswith(f"{step}: ") for line, step in zip(lines, plan))
    assert "3.0 MiB streamed" in lines[0]


def test_one_connection_per_host_for_plan_after_plan(
        ssh_tm: SshTM, vm: VmView, image: Path, hosts: tuple[Host, Host]) -> None:
    a = hosts[0]
    before = a.accepted_logins()
    for index in range(3):
        ssh_tm.execute(vm, [TransferStep("CLONE", disk(vm, index), src=Location(str(image))),
                            TransferStep("MKIMAGE", disk(vm, 9), size_mb=1, fstype="raw"),
                            TransferStep("DELETE", disk(vm, 9))])
    assert a.accepted_logins() - before == 1


def test_concurrent_plans_share_connections_within_sshd_limits(
        ssh_tm: SshTM, vm: VmView, image: Path, hosts: tuple[Host, Host]) -> None:
    """12 plans at once: more channels than sshd's MaxSessions (10) allows on one connection."""
    a, start, failures = hosts[0], threading.Barrier(12), []
    before = a.accepted_logins()

    def plan(index: int) -> None:
        start.wait()
        try:
            ssh_tm.execute(vm, [TransferStep("CLONE", disk(vm, index), src=Location(str(image)))])
        except TransferError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=plan, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert {sha256(a.file(disk(vm, i).path)) for i in range(12)} == {sha256(image)}
    assert 1 <= a.accepted_logins() - before <= 2


def test_unsupported_step_is_refused_by_name(ssh_tm: SshTM, vm: VmView) -> None:
    step = TransferStep("SNAPSHOT", disk(vm, 0))
    with pytest.raises(TransferError, match=f"{step} failed.*unknown operation 'SNAPSHOT'"):
        ssh_tm.execute(vm, [step])

