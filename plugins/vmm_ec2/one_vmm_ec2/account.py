"""An EC2 host is an account: credentials and place from its template, one client each.

`EC2_ACCESS`, `EC2_SECRET`, `REGION_NAME` and `EC2_ENDPOINT` (a URL; empty is
AWS itself) live in the host template, so every host may be another account
or region. Credentials are always given to boto3 explicitly: it never looks
for others (environment, files, the instance metadata service), and the
secret stays out of reprs, logs and error messages.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

import boto3
from botocore.config import Config

from one.plugins import HostView

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Account:
    access: str
    secret: str = field(repr=False)
    region: str
    endpoint: str | None

    @classmethod
    def of(cls, host: HostView) -> "Account":
        """The host's account; a missing credential is named (never its value)."""
        template = host.template
        missing = [key for key in ("EC2_ACCESS", "EC2_SECRET") if not template.get(key)]
        if missing:
            raise ValueError(f"ec2: host {host.name} has no {' and '.join(missing)} in its "
                             f"template (onehost update {host.id})")
        return cls(access=template.get("EC2_ACCESS") or "", secret=template.get("EC2_SECRET") or "",
                   region=template.get("REGION_NAME") or DEFAULT_REGION,
                   endpoint=template.get("EC2_ENDPOINT") or None)


class Clients:
    """One boto3 EC2 client per account, shared by the driver's threads.

    boto3 clients are thread-safe once built, but building them is not, hence
    the lock. Throttling (RequestLimitExceeded...) is retried by botocore's
    standard mode with exponential backoff, `RETRIES` times after the first try.
    """

    def __init__(self, settings: Mapping[str, str]) -> None:
        self.config = Config(
            retries={"max_attempts": int(settings.get("RETRIES", "5")), "mode": "standard"},
            connect_timeout=float(settings.get("CONNECT_TIMEOUT", "10")),
            read_timeout=float(settings.get("READ_TIMEOUT", "60")))
        self._clients: dict[Account, Any] = {}
        self._lock = threading.Lock()

    def get(self, host: HostView) -> Any:
        account = Account.of(host)
        with self._lock:
            if account not in self._clients:
                session = boto3.session.Session(
                    aws_access_key_id=account.access, aws_secret_access_key=account.secret,
                    region_name=account.region)
                self._clients[account] = session.client(
                    "ec2", endpoint_url=account.endpoint, config=self.config)
            return self._clients[account]
