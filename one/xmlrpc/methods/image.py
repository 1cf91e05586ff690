"""one.image.*, one.imagepool.info."""
from __future__ import annotations

from one.core.auth import Session
from one.core.managers import Managers
from one.pool.models import Image
from one.pool.pool import Pool
from one.pool.render import classic
from one.pool.render.common import wrap
from one.xmlrpc.api import Api, B, I, S, returns_id
from one.xmlrpc.methods.listing import classic_owned, owned_listing
from one.xmlrpc.methods.ownership import register_ownership
from one.xmlrpc.wire import Escaped


def register(api: Api, m: Managers) -> None:
    images, pool = m.images, m.pools.images

    api.add("one.image.allocate", [S("template"), I("ds_id"), B("skip_capacity", False)],
            images.allocate, "Registers an image from PATH, SOURCE or SIZE into a datastore.")
    api.add("one.image.allocate", [S("template")],
            lambda s, text: images.allocate_classic(s, text) if s.classic else images.allocate(s, text),
            "Classic form: into the default datastore (classic callers: 2.0's rules).")

    def info(s: Session, iid: int, decrypt: bool = False) -> str | Escaped:
        image = images.get(s, iid)
        return classic.image_xml(image) if s.classic else Escaped([pool.text(iid)])

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
    api.add("one.image.publish", [I("id"), B("publish")], returns_id(images.publish),
            "Classic: lets everyone use the image (OTHER USE).")
    register_ownership(api, "one.image", pool, images.get, moved=m.quotas.chowned)
    api.add("one.image.chtype", [I("id"), S("type")], returns_id(images.chtype),
            "Changes the TYPE (OS, CDROM, DATABLOCK, ...).")
    api.add("one.image.clone", [I("id"), S("name"), I("ds_id", -1)], images.clone,
            "Copies an image into a new one.")
    api.add("one.imagepool.info", [I("filter"), I("start", -1), I("end", -1)],
            lambda s, flag, start=-1, end=-1: _classic_listing(pool, s, flag) if s.classic
            else owned_listing(pool, "IMAGE_POOL", s, flag, start, end),
            "Lists images (filter -4..uid, id range; classic: -2, -1 or uid).")


def _classic_listing(pool: Pool[Image], s: Session, flag: int) -> str:
    return wrap("IMAGE_POOL", (classic.image_xml(i, i.uname)
                               for i in pool.select(classic_owned(Image, s, flag))))
