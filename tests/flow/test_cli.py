"""oneflow and oneflow-template against a real oneflow-server: every command, --json, and
bad input (a message and a non-zero status, never a traceback; nothing changed)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from one.cli import oneflow, oneflow_template

from .conftest import Flow

TEMPLATE = {"name": "pair", "deployment": "straight", "roles": [
    {"name": "head", "cardinality": 1, "template_id": 0},
    {"name": "tail", "cardinality": 2, "template_id": 0, "parents": ["head"], "max_vms": 4}]}


@pytest.fixture
def cli(flow: Flow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Any:
    auth = tmp_path / "auth"
    auth.write_text("oneadmin:secret\n")
    monkeypatch.setenv("ONE_AUTH", str(auth))
    monkeypatch.setenv("ONEFLOW_URL", flow.server.url)
    monkeypatch.delenv("ONEFLOW_USER", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    flow.host("h0")
    flow.monitor()
    flow.rpc.ok("one.template.allocate", "NAME = n CPU = 0.1 MEMORY = 16")

    def run(tool: Any, *args: str, code: int = 0) -> tuple[str, str]:
        status = tool.main(list(args))
        out, err = capsys.readouterr()
        assert status == code, (args, out, err)
        assert "Traceback" not in err
        return out, err
    return run


def test_template_and_service_commands(flow: Flow, cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "pair.json"
    path.write_text(json.dumps(TEMPLATE))
    out, _ = cli(oneflow_template, "create", str(path))
    assert out.strip() == "ID: 0"
    out, _ = cli(oneflow_template, "list")
    assert out.splitlines()[0].split() == ["ID", "USER", "GROUP", "NAME", "ROLES"]
    assert out.splitlines()[1].split() == ["0", "oneadmin", "oneadmin", "pair", "head,tail"]
    out, _ = cli(oneflow_template, "show", "0")
    assert "SERVICE TEMPLATE 0 INFORMATION" in out and '"deployment": "straight"' in out
    assert json.loads(cli(oneflow_template, "show", "0", "--json")[0])["DOCUMENT"]["NAME"] == \
        "pair"
    path.write_text(json.dumps({**TEMPLATE, "description": "d"}))
    cli(oneflow_template, "update", "0", str(path))
    assert "description" in cli(oneflow_template, "show", "0")[0]
    assert cli(oneflow_template, "clone", "0", "copy")[0].strip() == "ID: 1"
    cli(oneflow_template, "chmod", "1", "--octet", "644")
    cli(oneflow_template, "chown", "1", "0", "0")
    cli(oneflow_template, "delete", "1")
    out, _ = cli(oneflow_template, "instantiate", "0", "--name", "svc")
    sid = out.strip().split()[-1]
    flow.run()
    out, _ = cli(oneflow, "list")
    assert out.splitlines()[1].split() == [sid, "oneadmin", "oneadmin", "svc", "RUNNING"]
    out, _ = cli(oneflow, "show", sid)
    assert "SERVICE STATE   : RUNNING" in out and "STRATEGY        : straight" in out
    assert [line.split()[:4] for line in out.splitlines() if line.startswith(("head", "tail"))
            ] == [["head", "RUNNING", "1", "1"], ["tail", "RUNNING", "2", "2"]]
    assert json.loads(cli(oneflow, "list", "--json")[0])["DOCUMENT_POOL"]["DOCUMENT"][0]["ID"] \
        == sid
    assert "tail" in cli(oneflow, "top", sid, "--count", "1")[0]
    cli(oneflow, "scale", sid, "tail", "3")
    flow.run()
    assert len(flow.roles(int(sid))["tail"]["nodes"]) == 3
    other = cli(oneflow_template, "instantiate", "0", "--name", "other")[0].strip().split()[-1]
    cli(oneflow, "shutdown", sid)
    flow.run()
    assert f"Error getting document [{sid}]" in cli(oneflow, "show", sid, code=1)[1]  # DONE: gone
    cli(oneflow, "delete", other)
    assert json.loads(cli(oneflow, "list", "--json")[0]) == {"DOCUMENT_POOL": {"DOCUMENT": []}}


def test_bad_input(flow: Flow, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                   ) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert "is not JSON" in cli(oneflow_template, "create", str(bad), code=2)[1]
    bad.write_text('{"name": "x"}')
    assert "roles" in cli(oneflow_template, "create", str(bad), code=1)[1]
    assert "cannot read" in cli(oneflow_template, "create", str(tmp_path / "none"),
                                code=1)[1].lower()
    assert "not an id" in cli(oneflow, "show", "abc", code=2)[1]
    assert "Error getting document [9]" in cli(oneflow, "show", "9", code=1)[1]
    err = cli(oneflow, "shutdown", "9", "10", code=1)[1]  # each id is tried
    assert "[9]" in err and "[10]" in err
    assert "permission octet" in cli(oneflow_template, "chmod", "0", "--octet", "9", code=2)[1]
    assert "negative" in cli(oneflow, "scale", "0", "tail", "--", "-1", code=2)[1]
    monkeypatch.setenv("ONEFLOW_USER", "oneadmin")
    monkeypatch.setenv("ONEFLOW_PASSWORD", "wrong")
    assert cli(oneflow, "list", code=1)[1].strip()
    monkeypatch.setenv("ONEFLOW_URL", "http://127.0.0.1:1")
    assert "Cannot connect" in cli(oneflow, "list", code=3)[1]
    assert flow.rpc.ok("one.documentpool.info", -2, -1, -1, -1).count("<DOCUMENT>") == 0
