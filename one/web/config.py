"""Where one-web listens and which oned it speaks to.

Precedence, lowest first: defaults, ONE_XMLRPC and ONE_WEB_HOST / ONE_WEB_PORT in the
environment (as every OpenNebula client), command-line flags.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from one.cli.client import DEFAULT_ENDPOINT, endpoint


@dataclass
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 9869                  # Sunstone's port
    one_xmlrpc: str = DEFAULT_ENDPOINT
    token_seconds: int = 3600         # lifetime of a signed-in user's oned login token
    page_size: int = 25               # rows of a list page

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebConfig:
        env = os.environ if environ is None else environ
        config = cls()
        config.one_xmlrpc = endpoint(env.get("ONE_XMLRPC") or DEFAULT_ENDPOINT)
        config.host = env.get("ONE_WEB_HOST") or config.host
        if env.get("ONE_WEB_PORT"):
            config.port = int(env["ONE_WEB_PORT"])
        return config
