"""Contextualization: context.sh and the CONTEXT CD-ROM a guest reads at boot.

context.sh holds the CONTEXT attributes of the VM (already `$VAR`-expanded at
allocation) plus OpenNebula's automatic ones: with NETWORK = YES, ETH<i>_IP,
_MAC, _MASK, _NETWORK, _GATEWAY, _DNS, _MTU, _SEARCH_DOMAIN of each NIC. The
ISO (ISO 9660 + Joliet + Rock Ridge, volume label CONTEXT) carries context.sh
and every file named by FILES (front-end paths) and FILES_DS (registered
images of the files datastore, resolved at allocation).
"""
from __future__ import annotations

import io
import os
from typing import BinaryIO

import pycdlib

from one.core.private import private_dir, private_opener
from one.plugins.context import context_sh
from one.plugins.views import VmView

_NIC_KEYS = {"IP": "IP", "MAC": "MAC", "NETWORK_MASK": "MASK", "NETWORK_ADDRESS": "NETWORK",
             "GATEWAY": "GATEWAY", "DNS": "DNS", "MTU": "MTU", "SEARCH_DOMAIN": "SEARCH_DOMAIN",
             "IP6": "IP6", "GATEWAY6": "GATEWAY6"}


def context_variables(vm: VmView) -> dict[str, str]:
    context = dict(vm.template.vector("CONTEXT") or {})
    variables = {k: v for k, v in context.items() if k not in ("FILES", "FILES_DS")}
    if context.get("NETWORK", "").upper() == "YES":
        for nic in vm.template.vectors("NIC"):
            index = nic.get("NIC_ID", "0")
            for key, suffix in _NIC_KEYS.items():
                if nic.get(key):
                    variables.setdefault(f"ETH{index}_{suffix}", nic[key])
    variables.setdefault("DISK_ID", str(len(vm.template.vectors("DISK"))))
    return variables


def context_files(vm: VmView) -> list[tuple[str, str]]:
    """(front-end path, name in the ISO) of FILES and FILES_DS entries."""
    context = vm.template.vector("CONTEXT") or {}
    files = [(path, os.path.basename(path)) for path in context.get("FILES", "").split()]
    for entry in context.get("FILES_DS", "").split():
        path, _, name = entry.partition(":")
        files.append((path, name.strip("'") or os.path.basename(path)))
    return files


def build_iso(target: str, vm: VmView) -> None:
    """Write the CONTEXT CD-ROM of this VM to `target` (a front-end path)."""
    private_dir(os.path.dirname(target))
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, joliet=3, rock_ridge="1.09", vol_ident="CONTEXT")
    script = context_sh(context_variables(vm)).encode()
    entries: list[tuple[str, BinaryIO, int]] = [("context.sh", io.BytesIO(script), len(script))]
    handles = []
    try:
        for path, name in context_files(vm):
            try:
                handle = open(path, "rb")
            except OSError as exc:
                raise RuntimeError(f"context file {path}: {exc.strerror}") from None
            handles.append(handle)
            entries.append((name, handle, os.path.getsize(path)))
        for name, stream, size in entries:
            iso.add_fp(stream, size, f"/{name}", joliet_path=f"/{name}", rr_name=name)
        with open(target, "wb", opener=private_opener) as out:
            iso.write_fp(out)
    finally:
        iso.close()
        for handle in handles:
            handle.close()
