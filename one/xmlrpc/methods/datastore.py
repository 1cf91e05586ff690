"""one.datastore.* and one.datastorepool.info (7.4 signatures)."""
from __future__ import annotations

from one.core.authz import USE, allowed
from one.core.managers import Managers
from one.pool.render.common import wrap
from one.xmlrpc.api import Api, B, I, S, returns_id
from one.xmlrpc.methods.ownership import register_ownership


def register(api: Api, m: Managers) -> None:
    datastores, pool = m.datastores, m.pools.datastores

    api.add("one.datastore.allocate", [S("template"), I("cluster_id", -1)], datastores.allocate,
            "Allocates a datastore (TYPE IMAGE_DS, SYSTEM_DS or FILE_DS) in a cluster "
            "(-1: the default one).")
    api.add("one.datastore.delete", [I("id")], returns_id(datastores.delete),
            "Deletes a datastore that holds no image.")
    api.add("one.datastore.info", [I("id"), B("decrypt", False)],
            lambda s, dsid, decrypt=False: datastores.info(s, dsid),
            "Returns a datastore and its capacity.")
    api.add("one.datastore.update", [I("id"), S("template"), I("append", 0)],
            returns_id(datastores.update),
            "Replaces (0) or merges (1) the template; TM_MAD and DS_MAD change the drivers.")
    api.add("one.datastore.rename", [I("id"), S("name")], returns_id(datastores.rename),
            "Renames a datastore (its images follow).")
    api.add("one.datastore.enable", [I("id"), B("enable")], returns_id(datastores.enable),
            "Enables (STATE 0 READY) or disables (1 DISABLED) a system datastore.")
    register_ownership(api, "one.datastore", pool, datastores.get, rename=False)
    api.add("one.datastorepool.info", [],
            lambda s: wrap("DATASTORE_POOL", (datastores.xml(ds) for ds in pool.select()
                                              if allowed(s, ds, USE, "DATASTORE"))),
            "Lists the datastores the caller may use.")
