"""one.system.*: the API level and the configuration."""
from __future__ import annotations

from one import API_VERSION
from one.core.authz import require_admin
from one.core.managers import Managers
from one.xmlrpc.api import Api


def register(api: Api, m: Managers) -> None:
    api.add("one.system.version", [], lambda s: API_VERSION,
            "Returns the OpenNebula API version this server implements.")

    def config(session) -> str:
        require_admin(session, "INFO of the configuration")
        return m.config.template.to_xml("OPENNEBULA_CONFIGURATION")

    api.add("one.system.config", [], config, "Returns the oned configuration as XML.")
