"""xl's outputs read by the drivers: recorded and documented texts (data/README.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from one_vmm_xen import outputs

from one.plugins import PollState

DATA = Path(__file__).parent / "data"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_info_of_the_man_page() -> None:
    values = outputs.capacity(outputs.info(read("xl-info-manpage.txt")))
    assert values == {
        "HYPERVISOR": "xen", "HOSTNAME": "scarlett", "ARCH": "x86_64",
        "XEN_CAPS": "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64",
        "CPUSPEED": "2266", "TOTALCPU": "400", "TOTALMEMORY": str(6141 * 1024),
        "FREEMEMORY": str(4274 * 1024), "USEDMEMORY": str((6141 - 4274) * 1024),
        "HV_VERSION": "4.2-unstable", "XEN_SCHEDULER": "credit"}


def test_info_of_xen_4_17() -> None:
    facts = outputs.info(read("xl-info-4.17.txt"))
    assert facts["xen_commandline"] == "placeholder dom0_mem=1024M,max:1024M"
    assert facts["xen_changeset"] == ""
    values = outputs.capacity(facts)
    assert (values["TOTALCPU"], values["CPUSPEED"]) == ("800", "2992")
    assert values["HV_VERSION"] == "4.17.5"
    assert (values["TOTALMEMORY"], values["FREEMEMORY"]) == (str(16384 * 1024), str(11200 * 1024))


def test_info_without_memory_is_refused() -> None:
    text = "\n".join(line for line in read("xl-info-4.17.txt").splitlines()
                     if not line.startswith("total_memory"))
    with pytest.raises(ValueError, match="total_memory"):
        outputs.capacity(outputs.info(text))


def test_list_of_the_man_page() -> None:
    rows = outputs.domains(read("xl-list-manpage.txt"))
    assert list(rows) == ["Domain-0", "win", "linux"]
    assert rows["linux"] == outputs.Domain("linux", 2, 2048, 2, PollState.RUNNING, 5624.2)


def test_list_states_of_xen_4_17() -> None:
    rows = outputs.domains(read("xl-list-4.17.txt"))
    assert {name: row.state for name, row in rows.items() if name.startswith("one-")} == {
        "one-7": PollState.RUNNING, "one-8": PollState.RUNNING, "one-12": PollState.PAUSED,
        "one-13": PollState.GONE, "one-14": PollState.ERROR, "one-15": PollState.GONE}
    assert rows["one-8"].memory_mb == 2048 and rows["one-8"].cpu_seconds == 305.9
    assert "guest-not-ours" in rows and "Name" not in rows


def test_list_long_gives_each_domain_config() -> None:
    found = outputs.configs(read("xl-list-l.json"))
    assert sorted(found) == ["one-12", "one-7", "one-8"]
    assert found["one-7"]["domid"] == 3
    assert found["one-7"]["c_info"]["uuid"] == "6f1e6a2c-8d0e-4b7a-9b55-3c2d1e0f4a5b"
    assert found["one-8"]["b_info"]["target_memkb"] == 2048 * 1024
    assert [d["vdev"] for d in found["one-8"]["disks"]] == ["hda", "hdc"]
    assert outputs.configs("") == {}


def test_list_long_that_is_no_json_is_refused() -> None:
    with pytest.raises(ValueError, match="no JSON"):
        outputs.configs("Name   ID\n")
    assert json.loads(read("xl-list-l.json"))   # the file itself is JSON
