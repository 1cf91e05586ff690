"""The shared TM driver: what the hosts mount is linked or overlaid, never copied."""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from one_tm_shared import SharedTM

from one.plugins import Location, TransferStep, VmView
from tm.hosts import Host

MiB = 2 ** 20


def disk(vm: VmView, index: int) -> Location:
    return Location(f"{vm.system_dir}/disk.{index}", vm.host)


def qemu_img_info(path: Path) -> dict[str, object]:
    return dict(json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(path)],
                                          capture_output=True, text=True, check=True).stdout))


def test_ln_is_a_link_to_the_image(shared_tm: SharedTM, vm: VmView, image: Path,
                                   hosts: tuple[Host, Host]) -> None:
    shared_tm.execute(vm, [TransferStep("LN", disk(vm, 0), src=Location(str(image)))])
    link = hosts[0].file(disk(vm, 0).path)
    assert link.is_symlink() and os.readlink(link) == str(image)


@pytest.mark.parametrize("backing", ["raw", "qcow2"])
def test_clone_is_a_qcow2_overlay_that_copies_nothing(
        shared_tm: SharedTM, vm: VmView, tmp_path: Path, hosts: tuple[Host, Host],
        backing: str) -> None:
    image = tmp_path / f"image.{backing}"
    subprocess.run(["qemu-img", "create", "-q", "-f", backing, str(image), "64M"], check=True)
    subprocess.run(["qemu-io", "-f", backing, "-c", "write -P 0x5a 0 8M", str(image)],
                   check=True, capture_output=True)
    shared_tm.execute(vm, [TransferStep("CLONE", disk(vm, 0), src=Location(str(image)))])
    overlay = hosts[0].file(disk(vm, 0).path)
    info = qemu_img_info(overlay)
    assert (info["format"], info["backing-filename"], info["backing-filename-format"]) == \
        ("qcow2", str(image), backing)
    assert info["virtual-size"] == 64 * MiB
    assert overlay.stat().st_size < MiB     # the image holds 8 MiB of data


def test_moving_between_hosts_of_one_system_datastore_moves_nothing(
        shared_tm: SharedTM, vm: VmView, image: Path, hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    shared_tm.execute(vm, [TransferStep("LN", disk(vm, 0), src=Location(str(image))),
                           TransferStep("MKSWAP", disk(vm, 1), size_mb=4)])
    moved = replace(vm, host=b.name, previous_host=a.name)
    shared_tm.execute(moved, [TransferStep("MV", Location(vm.system_dir, b.name),
                                           src=Location(vm.system_dir, a.name))])
    assert sorted(p.name for p in a.file(vm.system_dir).iterdir()) == ["disk.0", "disk.1"]
    assert not b.file(vm.system_dir).exists()


def test_moving_to_another_path_or_the_front_end_is_a_real_move(
        shared_tm: SharedTM, vm: VmView, hosts: tuple[Host, Host]) -> None:
    a, b = hosts
    elsewhere = f"{vm.system_dir}-moved"
    shared_tm.execute(vm, [TransferStep("MKSWAP", disk(vm, 1), size_mb=4),
                           TransferStep("MV", Location(elsewhere, b.name),
                                        src=Location(vm.system_dir, a.name)),
                           TransferStep("MV", Location(vm.local_dir),
                                        src=Location(elsewhere, b.name))])
    assert not a.file(vm.system_dir).exists() and not b.file(elsewhere).exists()
    assert (Path(vm.local_dir) / "disk.1").stat().st_size == 4 * MiB


def test_delete_runs_on_the_host(shared_tm: SharedTM, vm: VmView, image: Path,
                                 hosts: tuple[Host, Host]) -> None:
    shared_tm.execute(vm, [TransferStep("LN", disk(vm, 0), src=Location(str(image))),
                           TransferStep("DELETE", Location(vm.system_dir, vm.host))])
    assert not hosts[0].file(vm.system_dir).exists() and image.exists()
