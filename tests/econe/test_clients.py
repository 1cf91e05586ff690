"""The aws CLI and libcloud's EC2 driver, unmodified, against one-econe."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

from libcloud.compute.providers import get_driver
from libcloud.compute.types import NodeState, Provider

from tests.econe.conftest import REGION, Cloud, start_econe, wait

AWS = str(Path(sys.executable).parent / "aws")


def _aws(cloud: Cloud, *args: str) -> dict:
    access, secret = cloud.keys["alice"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_DEFAULT_REGION": REGION}
    done = subprocess.run([AWS, "ec2", *args, "--endpoint-url", cloud.url, "--output", "json"],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_aws_cli(cloud: Cloud) -> None:
    ran = _aws(cloud, "run-instances", "--image-id", f"ami-{cloud.image:08x}",
               "--instance-type", "m1.small", "--count", "2")
    ids = [i["InstanceId"] for i in ran["Instances"]]
    assert len(ids) == 2
    _aws(cloud, "wait", "instance-running", "--instance-ids", *ids)
    shown = _aws(cloud, "describe-instances", "--filters", "Name=instance-state-name,Values=running")
    assert [i["InstanceId"] for r in shown["Reservations"] for i in r["Instances"]] == ids
    _aws(cloud, "create-tags", "--resources", ids[0], "--tags", "Key=env,Value=cli")
    tags = _aws(cloud, "describe-tags")["Tags"]
    assert [(t["ResourceId"], t["Key"], t["Value"]) for t in tags] == [(ids[0], "env", "cli")]
    _aws(cloud, "terminate-instances", "--instance-ids", *ids)
    _aws(cloud, "wait", "instance-terminated", "--instance-ids", *ids)


def test_aws_cli_error(cloud: Cloud) -> None:
    access, secret = cloud.keys["alice"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": "wrong" * 8,
           "AWS_DEFAULT_REGION": REGION}
    done = subprocess.run([AWS, "ec2", "describe-instances", "--endpoint-url", cloud.url],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode != 0 and "SignatureDoesNotMatch" in done.stderr


def test_libcloud(cloud: Cloud, tmp_path: Path) -> None:
    """libcloud signs with Version 2 for this region, to a host and port of our choosing."""
    server, url = start_econe(cloud.oned, tmp_path, region="us-east-1")
    try:
        access, secret = cloud.keys["alice"]
        port = urllib.parse.urlsplit(url).port
        driver = get_driver(Provider.EC2)(access, secret, region="us-east-1", secure=False,
                                          host="127.0.0.1", port=port)
        image = driver.list_images(ex_image_ids=[f"ami-{cloud.image:08x}"])[0]
        assert image.name == "ubuntu"
        size = next(s for s in driver.list_sizes() if s.id == "m1.small")
        node = driver.create_node(name="lc", image=image, size=size)
        wait(lambda: driver.list_nodes(ex_node_ids=[node.id])[0].state == NodeState.RUNNING)
        assert driver.list_nodes()[0].private_ips == ["10.0.0.10"]
        assert driver.destroy_node(node)
        wait(lambda: driver.list_nodes(ex_node_ids=[node.id])[0].state == NodeState.TERMINATED)
    finally:
        server.shutdown()
        server.server_close()
