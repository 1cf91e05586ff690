"""one.image.*, one.imagepool.info, one.datastore.*, one.datastorepool.info."""
from __future__ import annotations

from one.core import ownership
from one.core.auth import Session
from one.core.authz import MANAGE, USE, allowed, require, require_admin
from one.errors import ApiError
from one.core.managers import Managers
from one.pool.models import Image
from one.pool.render.common import wrap
from one.pool.render.image import datastore_xml
from one.xmlrpc.api import Api, B, I, S, returns_id
from one.xmlrpc.methods.listing import owned_listing
from one.xmlrpc.methods.ownership import register_ownership
from one.xmlrpc.wire import Escaped

_PUBLIC = [-1] * 6


def register(api: Api, m: Managers) -> None:
    images, pool = m.images, m.pools.images

    api.add("one.image.allocate", [S("template"), I("ds_id"), B("skip_capacity", False)],
            images.allocate, "Registers an image from PATH, SOURCE or SIZE into a datastore.")
    api.add("one.image.allocate", [S("template")], images.allocate,
            "Classic form: into the default datastore.")

    def info(s: Session, iid: int, decrypt: bool = False) -> Escaped:
        images.get(s, iid)
        return Escaped([pool.text(iid)])

    api.add("one.image.info", [I("id"), B("decrypt", False)], info, "Returns an image.")
    api.add("one.image.delete", [I("id"), B("force", False)], returns_id(images.delete),
            "Deletes an image no VM uses.")
    api.add("one.image.enable", [I("id"), B("enable")], returns_id(images.enable),
            "Enables (READY) or disables an image.")
    api.add("one.image.persistent", [I("id"), B("persistent")], returns_id(images.set_persistent),
            "Makes an image persistent (one VM at a time, changes kept) or not.")
    api.add("one.image.update", [I("id"), S("template"), I("append", 0)], returns_id(images.update),
            "Replaces (0) or merges (1) the image template.")
    api.add("one.image.update", [I("id"), S("name"), S("value")],
            returns_id(images.set_attribute), "Classic form: sets one attribute.")
    api.add("one.image.rmattr", [I("id"), S("name")],
            returns_id(lambda s, iid, name: images.set_attribute(s, iid, name, None)),
            "Classic: removes one attribute.")

    def publish(s: Session, iid: int, on: bool) -> None:
        images.get(s, iid, MANAGE)
        ownership.chmod(s, pool, iid, _PUBLIC + [int(on), -1, -1])

    api.add("one.image.publish", [I("id"), B("publish")], returns_id(publish),
            "Classic: lets everyone use the image (OTHER USE).")
    register_ownership(api, "one.image", pool, images.get, moved=m.quotas.chowned)
    api.add("one.image.chtype", [I("id"), S("type")], returns_id(images.chtype),
            "Changes the TYPE (OS, CDROM, DATABLOCK, ...).")
    api.add("one.image.clone", [I("id"), S("name"), I("ds_id", -1)], images.clone,
            "Copies an image into a new one.")
    api.add("one.imagepool.info", [I("filter"), I("start", -1), I("end", -1)],
            lambda s, flag, start=-1, end=-1: owned_listing(pool, "IMAGE_POOL", s, flag, start, end),
            "Lists images (filter -4..uid, id range).")
    _register_datastores(api, m)


def _register_datastores(api: Api, m: Managers) -> None:
    pool = m.pools.datastores

    def xml(ds) -> str:
        used = [i.oid for i in Image.select(Image.oid).where(Image.datastore_id == ds.oid).order_by(Image.oid)]
        return datastore_xml(ds, used)

    def info(s: Session, dsid: int, decrypt: bool = False) -> str:
        ds = pool.get(dsid)
        require(s, ds, USE, "DATASTORE")
        return xml(ds)

    api.add("one.datastore.info", [I("id"), B("decrypt", False)], info,
            "Returns a datastore and its capacity.")

    def update(s: Session, dsid: int, text: str, append: int = 0) -> None:
        require_admin(s, f"MANAGE datastore [{dsid}]")
        with pool.modify(dsid) as ds:
            ds.template = ownership.updated_template(ds.template, text, append, m.pools.limits)
            ds.tm_mad = ds.template.get("TM_MAD") or ds.tm_mad
            ds.ds_mad = ds.template.get("DS_MAD") or ds.ds_mad
            if ds.tm_mad not in m.plugins.registries["tm"]:
                raise ApiError(f"Unknown TM driver '{ds.tm_mad}'.")

    api.add("one.datastore.update", [I("id"), S("template"), I("append", 0)], returns_id(update),
            "Replaces (0) or merges (1) the template; TM_MAD and DS_MAD change the drivers.")
    api.add("one.datastorepool.info", [],
            lambda s: wrap("DATASTORE_POOL", (xml(ds) for ds in pool.select() if allowed(s, ds, USE))),
            "Lists the datastores the caller may use.")
