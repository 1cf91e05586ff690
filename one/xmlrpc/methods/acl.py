"""one.acl.addrule|delrule|info (one.aclpool.info too, the name the issue uses)."""
from __future__ import annotations

from one.core.managers import Managers
from one.xmlrpc.api import Api, I, S, returns_id


def register(api: Api, m: Managers) -> None:
    acl = m.acl
    api.add("one.acl.addrule", [S("user"), S("resource"), S("rights"), S("zone", "")],
            acl.addrule, "Adds a rule: four hexadecimal numbers (no zone: this zone).")
    api.add("one.acl.delrule", [I("id")], returns_id(acl.delrule), "Deletes a rule.")
    for name in ("one.acl.info", "one.aclpool.info"):
        api.add(name, [], acl.xml, "Returns the rule set (ACL_POOL).")
