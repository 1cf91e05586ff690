"""Where one-web listens and which oned it speaks to.

Precedence, lowest first: defaults, ONE_XMLRPC, ONE_WEB_HOST / ONE_WEB_PORT,
ONE_WEB_VM_LOGS (else ONE_VAR's vms/), ONE_WEB_NOVNC and ONE_WEB_SESSIONS in the
environment (as every OpenNebula client), command-line flags.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from one.cli.client import DEFAULT_ENDPOINT, endpoint

# where `make` has npm install noVNC (one/web/package.json; not committed)
NOVNC = Path(__file__).parent / "node_modules" / "@novnc" / "novnc"


@dataclass
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 9869                  # Sunstone's port
    one_xmlrpc: str = DEFAULT_ENDPOINT
    token_seconds: int = 3600         # lifetime of a signed-in user's oned login token
    page_size: int = 25               # rows of a list page
    vm_log_dir: Path = field(default_factory=lambda: vm_logs_of(Path.home() / ".one" / "var"))
    novnc_dir: Path = NOVNC           # noVNC's package, installed by `make` from npm
    session_file: Path | None = None  # sign-ins kept there (0600) across restarts; None: memory

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebConfig:
        env = os.environ if environ is None else environ
        config = cls()
        config.one_xmlrpc = endpoint(env.get("ONE_XMLRPC") or DEFAULT_ENDPOINT)
        config.host = env.get("ONE_WEB_HOST") or config.host
        if env.get("ONE_WEB_PORT"):
            config.port = int(env["ONE_WEB_PORT"])
        if env.get("ONE_WEB_VM_LOGS"):
            config.vm_log_dir = Path(env["ONE_WEB_VM_LOGS"])
        elif env.get("ONE_VAR"):
            config.vm_log_dir = vm_logs_of(Path(env["ONE_VAR"]))
        if env.get("ONE_WEB_NOVNC"):
            config.novnc_dir = Path(env["ONE_WEB_NOVNC"])
        sessions = env.get("ONE_WEB_SESSIONS", str(Path.home() / ".one" / "web_sessions.json"))
        config.session_file = Path(sessions) if sessions else None  # "": memory only
        return config


def vm_logs_of(var: Path) -> Path:
    """Where an oned with VAR_LOCATION `var` writes its VMs' logs (`<var>/vms/<id>/vm.log`)."""
    return var / "vms"
