"""A real EC2 Query API on loopback: moto's server, started and stopped by PID.

Every test gets a fresh account: moto is reset, then asked to authenticate
every request after the three that create an IAM user with full rights and
its access key, so wrong credentials fail as they do on AWS.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

REGION = "us-east-1"
# The requests that create the account's user before moto checks credentials.
_SETUP_REQUESTS = 3
_ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tags(instance: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}


@dataclass
class Account:
    """Credentials moto accepts, and a client of our own to look behind oned's back."""

    endpoint: str
    access: str
    secret: str = field(repr=False)

    def client(self, secret: str | None = None) -> Any:
        return boto3.session.Session(
            aws_access_key_id=self.access, aws_secret_access_key=secret or self.secret,
            region_name=REGION).client("ec2", endpoint_url=self.endpoint)

    def host_template(self, capacity: str = 'M1_SMALL = "4"', secret: str | None = None,
                      endpoint: str | None = None) -> str:
        return (f'EC2_ACCESS = "{self.access}"\nEC2_SECRET = "{secret or self.secret}"\n'
                f'REGION_NAME = "{REGION}"\nEC2_ENDPOINT = "{endpoint or self.endpoint}"\n'
                f"CAPACITY = [ {capacity} ]\n")

    def instances(self, **filters: str) -> list[dict[str, Any]]:
        """Instances with these tags (ONE_ID="3"...), in any state."""
        wanted = [{"Name": f"tag:{k}", "Values": [v]} for k, v in filters.items()]
        pages = self.client().get_paginator("describe_instances").paginate(Filters=wanted)
        return [i for page in pages for r in page["Reservations"] for i in r["Instances"]]

    def ami(self) -> str:
        """An image moto knows, so that AMI validation lets it through."""
        return str(self.client().describe_images(Owners=["amazon"])["Images"][0]["ImageId"])


class MotoServer:
    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "MOTO_ENABLE_AMI_VALIDATION": "true"}
        server = Path(sys.executable).with_name("moto_server")
        self._log = log.open("wb")
        self.process = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(self.port)],
                                        env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto_server did not listen within 60 s")

    def _post(self, path: str, body: bytes = b"") -> None:
        request = urllib.request.Request(f"{self.endpoint}{path}", data=body, method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            reply.read()

    def fresh_account(self) -> Account:
        """Forget everything, then create a user whose keys alone are accepted."""
        self._post("/moto-api/reset")
        self._post("/moto-api/reset-auth", str(_SETUP_REQUESTS).encode())
        iam = boto3.session.Session(aws_access_key_id="setup", aws_secret_access_key="setup",
                                    region_name=REGION).client("iam", endpoint_url=self.endpoint)
        iam.create_user(UserName="one")
        iam.put_user_policy(UserName="one", PolicyName="all", PolicyDocument=_ALLOW_ALL)
        key = iam.create_access_key(UserName="one")["AccessKey"]
        return Account(self.endpoint, key["AccessKeyId"], key["SecretAccessKey"])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
