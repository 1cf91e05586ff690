"""What every tool shares: usage errors, connection and authentication failures."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from one.cli.client import DEFAULT_ENDPOINT, Client
from one.cli.errors import ServerError

TOOLS = ("onevm", "onehost", "onevnet", "oneuser", "onegroup", "oneimage", "onedatastore")


@pytest.mark.parametrize("tool", TOOLS)
def test_unknown_subcommand_exits_2(run, tool):
    result = run(tool, "frobnicate")
    assert result.code == 2
    assert "invalid choice: 'frobnicate'" in result.err
    assert result.out == ""


def test_missing_subcommand_and_argument_exit_2(run):
    assert run("onevm").code == 2
    result = run("onevm", "rename", "1")
    assert result.code == 2 and "required: name" in result.err


@pytest.mark.parametrize("tool", TOOLS)
def test_help_lists_commands_and_exits_0(run, tool):
    result = run(tool, "--help")
    assert result.code == 0 and "list" in result.out and "show" in result.out


def test_server_down_exits_3_naming_the_endpoint(run, monkeypatch, closed_port):
    endpoint = f"http://127.0.0.1:{closed_port}/RPC2"
    monkeypatch.setenv("ONE_XMLRPC", endpoint)
    for tool in TOOLS:
        result = run(tool, "list")
        assert result.code == 3
        assert f"Cannot connect to {endpoint}" in result.err
        assert "refused" in result.err.lower()


def test_not_an_xmlrpc_server_exits_3(run, monkeypatch, env):
    endpoint = env.endpoint.replace("/RPC2", "/nothing-here")
    monkeypatch.setenv("ONE_XMLRPC", endpoint)
    result = run("onevm", "list")
    assert result.code == 3
    assert f"{endpoint} is not an XML-RPC server: HTTP 404" in result.err


def test_wrong_password_exits_1(run, auth_file):
    auth_file.write_text("oneadmin:wrong\n")
    result = run("onevm", "list")
    assert result.code == 1
    assert "couldn't be authenticated" in result.err


def test_missing_auth_file_is_named(run, monkeypatch, tmp_path):
    missing = tmp_path / "nope" / "one_auth"
    monkeypatch.setenv("ONE_AUTH", str(missing))
    result = run("onehost", "list")
    assert result.code == 1 and str(missing) in result.err


def test_auth_file_without_colon_is_rejected(run, auth_file):
    auth_file.write_text("oneadmin\n")
    result = run("oneuser", "list")
    assert result.code == 1 and "user:password" in result.err


def test_usage_errors_need_no_server_or_auth(run, monkeypatch, tmp_path):
    monkeypatch.setenv("ONE_AUTH", str(tmp_path / "absent"))
    result = run("onevm", "chmod", "1", "999")
    assert result.code == 2 and "three octal digits" in result.err


def test_verbose_adds_the_error_code(run):
    result = run("onevm", "-v", "show", "987654")
    assert result.code == 1
    assert "[one.vm.info] Error getting virtual machine [987654]. (code 0x400)" in result.err


def test_client_defaults_and_faults(env, auth_file):
    assert Client.from_env({"ONE_AUTH": str(auth_file)}).endpoint == DEFAULT_ENDPOINT
    client = Client.from_env()
    assert client.call("one.system.version")
    with pytest.raises(ServerError) as info:
        client.call("one.nonexistent.method")
    assert "not defined" in info.value.message and info.value.code == -506


@pytest.mark.parametrize("tool", ["onevm", "onegroup"])
def test_console_script_through_a_pipe(env, auth_file, tool):
    """The installed entry point, its real stdout a pipe: wide tables, no colour codes."""
    script = Path(sys.executable).parent / tool
    if not script.exists():
        pytest.fail(f"{script} is not installed (make install)")
    environ = {**os.environ, "ONE_XMLRPC": env.endpoint, "ONE_AUTH": str(auth_file)}
    environ.pop("COLUMNS", None)
    done = subprocess.run([str(script), "list"], env=environ, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout and done.stdout.split()[0] == "ID"
    failed = subprocess.run([str(script), "show", "987654"], env=environ, capture_output=True,
                            text=True, timeout=30)
    assert failed.returncode == 1 and "\x1b[" not in failed.stderr and "987654" in failed.stderr


@pytest.mark.parametrize("written", ["{host}:{port}/RPC2", "{host}:{port}", " http://{host}:{port}/RPC2"])
def test_endpoint_without_scheme_is_http(run, monkeypatch, env, written):
    """OpenNebula's docs write ONE_XMLRPC with http://; operators often leave it out."""
    host, port = env.endpoint.split("//")[1].split("/")[0].split(":")
    monkeypatch.setenv("ONE_XMLRPC", written.format(host=host, port=port))
    result = run("onehost", "list")
    assert result.code == 0 and result.header[0] == "ID", result


@pytest.mark.parametrize("written", ["ftp://127.0.0.1/RPC2", "http://", "127.0.0.1:x/RPC2",
                                     "127.0.0.1:99999"])
def test_unusable_endpoint_is_one_clear_line(run, monkeypatch, written):
    monkeypatch.setenv("ONE_XMLRPC", written)
    result = run("onevm", "list")
    assert result.code == 1 and result.out == ""
    assert result.err.strip() == (f"ONE_XMLRPC '{written}' is not an XML-RPC endpoint such as "
                                  f"{DEFAULT_ENDPOINT}")


@pytest.mark.parametrize("tool", ["onevm", "onevnet", "onehost"])
def test_template_file_that_is_not_utf8_is_named(run, tmp_path, tool):
    template = tmp_path / "latin1.tmpl"
    template.write_bytes('NAME = "café"\n'.encode("latin-1"))
    args = ("update", "0", str(template)) if tool == "onehost" else ("create", str(template))
    result = run(tool, *args)
    assert result.code == 1 and "Traceback" not in result.err
    assert result.err.strip() == f"File {template} is not UTF-8 text (byte 0xe9 at offset 11)"


def test_auth_file_that_is_not_utf8_is_named(run, auth_file):
    auth_file.write_bytes(b"oneadmin:s\xe9cret\n")
    result = run("oneuser", "list")
    assert result.code == 1
    assert result.err.strip() == (f"ONE_AUTH file {auth_file} is not UTF-8 text "
                                  "(byte 0xe9 at offset 10)")
