"""one.zone.info, one.zonepool.info, one.zone.raftstatus: read by any user, on any server."""
from __future__ import annotations

from one.core.zone import Zones
from one.xmlrpc.api import Api, I


def register(api: Api, zones: Zones) -> None:
    api.add("one.zone.info", [I("id")], zones.info,
            "Returns the zone (0) with its servers and their roles.")
    api.add("one.zonepool.info", [], zones.pool_info, "Returns the zone pool (one zone).")
    api.add("one.zone.raftstatus", [], zones.raftstatus,
            "Returns this server's role: 0 SOLO, 1 CANDIDATE, 2 FOLLOWER, 3 LEADER.")
