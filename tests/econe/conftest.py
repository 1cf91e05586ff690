"""A real oned (dummy drivers, engine running) and a real one-econe on 127.0.0.1:0."""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest
from lxml import etree

from conftest import ADMIN, Caller, start_oned
from one.daemon import Oned
from one.econe.config import EconeConfig
from one.econe.server import make

# boto3, the aws CLI and libcloud must never look beyond the endpoint given.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

CONFIG = "SCHED_INTERVAL = 1\nMONITORING_INTERVAL = 1\nMAX_HOST = 10\n"
REGION = "one"
SMALL = 'NAME = "m1.small" CPU = 0.1 MEMORY = 64 NIC = [ NETWORK = "private", NETWORK_UNAME = "oneadmin" ]'


@dataclass
class Cloud:
    oned: Oned
    rpc: Caller
    url: str
    image: int
    keys: dict[str, tuple[str, str]]  # user name -> (access key id, secret)

    def ec2(self, user: str = "alice", **options: Any) -> Any:
        access, secret = self.keys[user]
        return boto3.client("ec2", endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id=access, aws_secret_access_key=secret, **options)


def wait(what: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def new_user(rpc: Caller, name: str) -> tuple[str, str]:
    """A user with an EC2 key, made through the documented methods."""
    rpc.ok("one.user.allocate", name, "pw", "core", [])
    key = etree.fromstring(rpc.as_user(f"{name}:pw").ok("one.user.ec2keys_create", -1))
    return key.findtext("ACCESS_KEY_ID"), key.findtext("SECRET_ACCESS_KEY")


def start_econe(oned: Oned, var: Path, **settings: Any) -> tuple[Any, str]:
    auth = var / "econe_auth"
    auth.write_text(ADMIN + "\n")
    config = EconeConfig(port=0, one_xmlrpc=oned.endpoint, one_auth=str(auth), region=REGION)
    for key, value in settings.items():
        setattr(config, key, value)
    server = make(config)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def furnish(rpc: Caller, var: Path) -> int:
    """A dummy host, a private network, the m1.small template (usable by all), an OS image."""
    rpc.ok("one.host.allocate", "node0", "dummy", "dummy", -1)
    rpc.ok("one.vn.allocate", 'NAME = private VN_MAD = dummy BRIDGE = br0 '
           'AR = [ TYPE = IP4, IP = "10.0.0.10", SIZE = "250" ]', -1)
    rpc.ok("one.vn.chmod", 0, -1, -1, -1, -1, -1, -1, 1, -1, -1)
    tid = rpc.ok("one.template.allocate", SMALL)
    rpc.ok("one.template.chmod", tid, -1, -1, -1, -1, -1, -1, 1, -1, -1, False)
    disk = var / "ubuntu.img"
    disk.write_bytes(b"\0" * 1024)
    image = rpc.ok("one.image.allocate", f'NAME = ubuntu TYPE = OS PATH = "{disk}"', 1)
    rpc.ok("one.image.chmod", image, -1, -1, -1, -1, -1, -1, 1, -1, -1)
    wait(lambda: etree.fromstring(rpc.ok("one.image.info", image)).findtext("STATE") == "1")
    return image


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    import one_dummy
    one_dummy.reset()
    oned = start_oned(tmp_path, config_text=CONFIG)
    oned.start_engine()
    rpc = Caller(oned.endpoint)
    image = furnish(rpc, tmp_path)
    server, url = start_econe(oned, tmp_path)
    yield Cloud(oned, rpc, url, image, {name: new_user(rpc, name) for name in ("alice", "bob")})
    server.shutdown()
    server.server_close()
    oned.stop()
