"""oneuser ec2-keys create|list|delete [USER]."""
from __future__ import annotations

import re


def test_create_list_delete(ok, run, unique) -> None:
    name = unique("ec2")
    ok("oneuser", "create", name, "pw")
    out = ok("oneuser", "ec2-keys", "create", name).out
    found = re.fullmatch(r"ACCESS_KEY_ID:     (AKIA\w{16})\nSECRET_ACCESS_KEY: (\S{40})\n", out)
    assert found, out
    listed = ok("oneuser", "ec2-keys", "list", name).out
    assert listed.split()[:2] == ["ACCESS_KEY_ID", "CREATED"] and found[1] in listed
    assert found[2] not in listed
    ok("oneuser", "ec2-keys", "delete", name, "--key", found[1])
    assert found[1] not in ok("oneuser", "ec2-keys", "list", name).out


def test_errors(run, ok, unique) -> None:
    name = unique("ec2")
    ok("oneuser", "create", name, "pw")
    missing = run("oneuser", "ec2-keys", "delete", name)
    assert missing.code != 0 and "--key ACCESS_KEY_ID is required" in missing.err
    gone = run("oneuser", "ec2-keys", "delete", name, "--key", "AKIANOSUCHKEY0000000")
    assert gone.code != 0 and "Error getting EC2 key" in gone.err and "Traceback" not in gone.err
    wrong = run("oneuser", "ec2-keys", "rotate")
    assert wrong.code != 0 and "invalid choice" in wrong.err
    nobody = run("oneuser", "ec2-keys", "list", "nosuchuser")
    assert nobody.code != 0 and "Traceback" not in nobody.err
