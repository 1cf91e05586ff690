"""The `oneflow-server` console script as an operator starts it: ONE_XMLRPC, ONE_AUTH,
--port (0: any), answering the REST API, ending with the process --exit-with names; a
missing ONE_AUTH is one line and status 1."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from conftest import ADMIN, Caller
from one.daemon import Oned

from .conftest import Http

SCRIPT = Path(sys.executable).with_name("oneflow-server")


@contextmanager
def flow_process(oned: Oned, tmp_path: Path, *options: str) -> Iterator[
        tuple[Http, subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    """`oneflow-server --port 0 <options>` ending with a `sleep` process: its API, the
    server and the sleep."""
    auth = tmp_path / "auth"
    auth.write_text(ADMIN + "\n")
    log = tmp_path / "flow.log"
    parent = subprocess.Popen(["sleep", "60"])
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(SCRIPT), "--port", "0", *options, "--exit-with", str(parent.pid)],
            stdout=out,
            stderr=subprocess.STDOUT, env={"ONE_XMLRPC": oned.endpoint, "ONE_AUTH": str(auth),
                                           "PATH": "/usr/bin:/bin"})
    try:
        found = None
        for _ in range(200):  # bounded: 10 s
            found = re.search(r"oneflow-server on (\S+),", log.read_text())
            if found or process.poll() is not None:
                break
            time.sleep(0.05)
        assert found, log.read_text()
        yield Http(found[1]), process, parent
    finally:
        for child in (parent, process):
            if child.poll() is None:
                child.kill()
                child.wait()


def test_console_script_serves_the_api(oned: Oned, tmp_path: Path) -> None:
    with flow_process(oned, tmp_path, "--interval", "0.2") as (api, process, parent):
        assert api("GET", "/service") == (200, {"DOCUMENT_POOL": {"DOCUMENT": []}})
        assert api.as_user("oneadmin:bad")("GET", "/service")[0] == 401
        parent.kill()
        parent.wait()
        assert process.wait(timeout=10) == 0  # make run's servers end with make


def test_a_new_service_wakes_the_loop(oned: Oned, rpc: Caller, tmp_path: Path) -> None:
    """With passes 10 minutes apart, an instantiated service is still deployed at once."""
    rpc.ok("one.template.allocate", "NAME = node CPU = 0.1 MEMORY = 16")
    with flow_process(oned, tmp_path, "--interval", "600") as (api, _, _):
        status, doc = api("POST", "/service_template", {
            "name": "one", "roles": [{"name": "solo", "cardinality": 1, "template_id": 0}]})
        assert status == 201
        status, doc = api("POST", f"/service_template/{doc['DOCUMENT']['ID']}/action",
                          {"action": {"perform": "instantiate"}})
        assert status == 201
        for _ in range(200):  # bounded: 10 s, against the 600 s of the next tick
            if "<VM>" in rpc.ok("one.vmpool.info", -2, -1, -1, -1):
                break
            time.sleep(0.05)
        assert "<NAME>solo_0_(service_" in rpc.ok("one.vmpool.info", -2, -1, -1, -1)


def test_missing_auth_file(tmp_path: Path) -> None:
    done = subprocess.run([str(SCRIPT), "--port", "0"], capture_output=True, text=True,
                          env={"ONE_AUTH": str(tmp_path / "none"), "PATH": "/usr/bin:/bin"},
                          timeout=30)
    assert done.returncode == 1
    assert done.stderr.startswith("oneflow-server: ") and "Traceback" not in done.stderr
