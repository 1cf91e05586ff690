"""one-econe as an operator starts it: configuration, its errors, --exit-with."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from one.econe.config import ConfigError, load_config
from one.econe.server import main

ECONE = str(Path(sys.executable).parent / "one-econe")


def test_config_file_and_environment(tmp_path: Path) -> None:
    conf = tmp_path / "econe.conf"
    conf.write_text('port = 5000\nregion = "lab"\npublic_network = "public"\n'
                    '[instance_types]\n"t2.micro" = "tiny"\n"m1.large" = "3"\n')
    config = load_config(str(conf), environ={"ONE_XMLRPC": "http://10.0.0.1:2633/RPC2"})
    assert (config.port, config.region, config.public_network, config.one_xmlrpc) == (
        5000, "lab", "public", "http://10.0.0.1:2633/RPC2")
    assert config.instance_types == {"t2.micro": "tiny", "m1.large": "3"}
    assert load_config(None, environ={}).instance_types["m1.small"] == "m1.small"


@pytest.mark.parametrize("text, message", [
    ("colour = 1", "unknown configuration key 'colour'"),
    ('port = "high"', "port = 'high' is not a int"),
    ("instance_types = 3", "instance_types must be a table"),
    ("port = ", "econe.conf"),
])
def test_config_errors(tmp_path: Path, text: str, message: str,
                       capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "econe.conf"
    conf.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(str(conf), environ={})
    assert main(["--config", str(conf)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("one-econe: ") and "Traceback" not in err


def test_missing_file_and_busy_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "none.conf")]) == 1
    assert "cannot read" in capsys.readouterr().err
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["--port", str(taken.getsockname()[1])]) == 1
    assert "Address already in use" in capsys.readouterr().err


def test_exits_with_its_parent(tmp_path: Path) -> None:
    parent = subprocess.Popen(["sleep", "60"])
    econe = subprocess.Popen([ECONE, "--port", "0", "--exit-with", str(parent.pid)],
                             stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert econe.stdout is not None
        assert econe.stdout.readline().startswith("one-econe listening on http://127.0.0.1:")
        parent.kill()
        parent.wait()
        assert econe.wait(timeout=10) == 0
    finally:
        for process in (parent, econe):
            if process.poll() is None:
                process.kill()
                process.wait()
