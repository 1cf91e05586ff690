"""A stand-in for Xen's `xl` on hosts made of this machine: it records and answers like xl.

Run as `python fake_xl.py --state DIR <xl arguments>`, the command the Xen
drivers are given in their `XL` setting. Each host it runs on (told apart by
the server address of the ssh session, `SSH_CONNECTION`; `local` without
one) has a directory under DIR with its domains (domains.json) and a journal
of the command lines it was given (commands.log, one `xl ...` line each).

What is real: `xl create` reads the file with Xen's own libxlutil
(`xlu_cfg_readdata`, `xlu_disk_parse` on each disk, `xlu_vif_parse_rate`)
and refuses what it refuses, with its words; output formats follow xl 4.17
(see data/README.md). What is not: no guest runs, a shutdown ends at once, a
migration moves the record to the target's directory, and the words of
libxl's own errors (memory, names in use) are modelled on xl's, not recorded.
"""
from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import shlex
import socket
import sys
import uuid as uuids
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
import libxlutil  # noqa: E402

TOTAL_MB, DOM0_MB, CPUS = 16384, 1024, 8
INFO = Path(__file__).resolve().parent / "data" / "xl-info-4.17.txt"   # xl 4.17's fields


def info(host: str, free_mb: int) -> str:
    """The recorded `xl info` of a 4.17 host, with this host's name and free memory."""
    facts = {"host": host, "total_memory": str(TOTAL_MB), "free_memory": str(free_mb)}
    return "".join(f"{line[:25]}{facts[line[:23].strip()]}\n" if line[:23].strip() in facts
                   else line + "\n" for line in INFO.read_text().splitlines())


class XlFailure(Exception):
    """xl's words on stderr, and exit status 1."""


def host_dir(state: Path) -> Path:
    address = (os.environ.get("SSH_CONNECTION") or "").split()
    path = state / (address[2] if len(address) == 4 else "local")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def domains(where: Path) -> Iterator[dict[str, dict[str, Any]]]:
    """The host's domains by name, changed under a lock and written back."""
    with open(where / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path = where / "domains.json"
        found = json.loads(path.read_text()) if path.exists() else {}
        yield found
        path.write_text(json.dumps(found, indent=1))


def known(doms: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    if name not in doms:
        raise XlFailure(f"{name} is an invalid domain identifier (rc=-6)")
    return doms[name]


def table(doms: dict[str, dict[str, Any]], names: list[str]) -> str:
    rows = [("Domain-0", 0, DOM0_MB, CPUS, "r-----", 1200.5)] if not names else []
    rows += [(n, d["domid"], d["memory"], d["vcpus"], d["state"], d["time"])
             for n, d in sorted(doms.items(), key=lambda item: item[1]["domid"])
             if not names or n in names]
    head = "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
    return head + "".join(f"{n:<40} {i:5d} {m:5d} {v:5d}     {s}  {t:8.1f}\n"
                          for n, i, m, v, s, t in rows)


def long_list(doms: dict[str, dict[str, Any]], names: list[str]) -> str:
    entries = [{"domid": d["domid"], "config": {
        "c_info": {"type": d["type"], "name": n, "uuid": d["uuid"]},
        "b_info": {"max_vcpus": d["vcpus"], "max_memkb": d["memory"] * 1024,
                   "target_memkb": d["memory"] * 1024},
        "disks": [{"pdev_path": disk["pdev_path"], "vdev": disk["vdev"]} for disk in d["disks"]],
        "on_reboot": "restart"}} for n, d in sorted(doms.items()) if not names or n in names]
    return json.dumps(entries, indent=4) + "\n"


def read_config(path: str) -> dict[str, Any]:
    """The domain an xl.cfg describes, read by libxlutil as xl reads it."""
    print(f"Parsing config from {path}", file=sys.stderr)
    try:
        with libxlutil.parsed(Path(path).read_text(), path) as cfg:
            disks = [libxlutil.disk(spec) for spec in _optional(cfg.list, "disk", [])]
            for vif in _optional(cfg.list, "vif", []):
                for item in vif.split(","):
                    if item.startswith("rate="):
                        libxlutil.vif_rate(item[5:])
            return {"name": cfg.string("name"), "memory": cfg.long("memory"),
                    "acpi": _optional(cfg.long, "acpi", 1),
                    "vcpus": _optional(cfg.long, "vcpus", 1), "type": cfg.string("type"),
                    "uuid": _optional(cfg.string, "uuid", str(uuids.uuid4())), "disks": disks}
    except libxlutil.XluError as exc:
        raise XlFailure(f"{exc}\nFailed to parse config: Invalid argument") from None
    except OSError as exc:
        raise XlFailure(f"Failed to read config file: {path}: {exc.strerror}") from None


def _optional(get: Callable[[str], Any], name: str, default: Any) -> Any:
    try:
        return get(name)
    except KeyError:
        return default


def create(doms: dict[str, dict[str, Any]], domain: dict[str, Any], where: Path) -> None:
    free = TOTAL_MB - DOM0_MB - sum(d["memory"] for d in doms.values())
    if domain["name"] in doms:
        raise XlFailure(f"libxl: error: libxl_create.c:690:libxl__domain_make: Domain "
                        f"{domain['name']}:domain name already in use")
    if domain["memory"] > free:
        raise XlFailure(f"libxl: error: libxl_mem.c:... : not enough memory: {domain['memory']} "
                        f"MB wanted, {free} MB free\nlibxl: error: libxl_create.c:1274:"
                        f"domcreate_rebuild_done: Domain:cannot (re-)build domain: -3")
    counter = where / "next-domid"
    domid = int(counter.read_text()) if counter.exists() else 1
    counter.write_text(str(domid + 1))
    doms[domain["name"]] = {**domain, "domid": domid, "state": "-b----", "time": 0.0}


def graceful(doms: dict[str, dict[str, Any]], domain: dict[str, Any], what: str,
             fallback: bool) -> None:
    """No guest here has PV drivers: HVM ones hear only ACPI (`-F`), if they have it on."""
    if domain["type"] == "hvm":
        button = "power" if what == "shutdown" else "reset"
        if not fallback:
            raise XlFailure(f"PV control interface not available: external graceful {what} not "
                            f'possible.\nUse "-F" to fallback to ACPI {button} event.')
        print(f"PV control interface not available: sending ACPI {button} button event.",
              file=sys.stderr)
        if not domain.get("acpi", 1):
            return      # the guest never hears the button
    if what == "shutdown":
        del doms[domain["name"]]


def act(args: list[str], where: Path, state: Path) -> str:
    """One xl command on this host; returns what it prints on stdout."""
    command, rest = (args[0], args[1:]) if args else ("help", [])
    with domains(where) as doms:
        if command == "info":
            used = sum(d["memory"] for d in doms.values())
            return info(f"xen-{where.name}", TOTAL_MB - DOM0_MB - used)
        if command == "list":
            names = [a for a in rest if not a.startswith("-")]
            for name in names:
                known(doms, name)
            return long_list(doms, names) if "-l" in rest else table(doms, names)
        if command == "create":
            create(doms, read_config(rest[0]), where)
        elif command == "destroy":
            del doms[known(doms, rest[-1])["name"]]
        elif command in ("shutdown", "reboot"):
            graceful(doms, known(doms, rest[-1]), command, "-F" in rest)
        elif command in ("trigger", "pause", "unpause"):
            domain = known(doms, rest[0])
            domain["state"] = {"pause": "--p---", "unpause": "-b----"}.get(command, domain["state"])
        elif command == "save":
            domain = doms.pop(known(doms, rest[0])["name"])
            Path(rest[1]).write_text("Xen saved domain, xl format\n" + json.dumps(domain))
            print(f"Saving to {rest[1]} new xl format (info 0x3/0x0/1236)", file=sys.stderr)
        elif command == "restore":
            saved = json.loads(Path(rest[-1]).read_text().split("\n", 1)[1])
            create(doms, saved, where)
        elif command == "migrate":
            domain = known(doms, rest[-2])
            with domains(host_dir_named(state, rest[-1])) as there:
                create(there, domain, state / rest[-1])
            del doms[domain["name"]]
        else:
            raise XlFailure(f"command not implemented: {command}")
    return ""


def host_dir_named(state: Path, host: str) -> Path:
    """The target of a migration: any host on loopback is one of this machine's hosts."""
    try:
        reachable = ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        reachable = False
    if not reachable:
        raise XlFailure(f"ssh: connect to host {host} port 22: Connection refused\n"
                        "migration sender: Target has stopped")
    path = state / host
    path.mkdir(exist_ok=True)
    return path


def main(argv: list[str]) -> int:
    state = Path(argv[argv.index("--state") + 1])
    args = argv[argv.index("--state") + 2:]
    where = host_dir(state)
    with open(where / "commands.log", "a") as journal:
        journal.write(shlex.join(["xl", *args]) + "\n")
    try:
        sys.stdout.write(act(args, where, state))
    except XlFailure as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
