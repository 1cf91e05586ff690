"""one.template.* and one.templatepool.info (OpenNebula 7.4 signatures)."""
from __future__ import annotations

from one.core.auth import Session
from one.core.authz import MANAGE
from one.core.managers import Managers
from one.xmlrpc.api import Api, B, I, S, returns_id
from one.xmlrpc.methods.listing import owned_listing
from one.xmlrpc.methods.ownership import PERMISSION_PARAMS, register_ownership
from one.xmlrpc.wire import Escaped


def register(api: Api, m: Managers) -> None:
    templates, pool = m.templates, m.pools.templates

    api.add("one.template.allocate", [S("template")], templates.allocate,
            "Stores a VM template (NAME required, unique per owner).")

    def info(s: Session, tid: int, extended: bool = False, decrypt: bool = False) -> Escaped:
        templates.visible(s, tid)
        return Escaped([pool.text(tid)])

    api.add("one.template.info", [I("id"), B("extended", False), B("decrypt", False)], info,
            "Returns a VM template.")
    api.add("one.template.update", [I("id"), S("template"), I("append", 0)],
            returns_id(templates.update), "Replaces (0) or merges (1) the template.")
    api.add("one.template.delete", [I("id"), B("recursive", False)], returns_id(templates.delete),
            "Deletes a template (recursive: and the images of its owner it names).")
    api.add("one.template.clone", [I("id"), S("name"), B("recursive", False)], templates.clone,
            "Copies a template (recursive: and the images of its owner it names).")
    api.add("one.template.instantiate",
            [I("id"), S("name", ""), B("hold", False), S("extra_template", ""),
             B("persistent", False)],
            templates.instantiate, "Creates a VM from the template, extra_template merged over it.")
    register_ownership(api, "one.template", pool,
                       lambda s, tid, right=MANAGE: templates.get(s, tid, right), chmod=False)
    def chmod(s: Session, tid: int, *args: int) -> None:
        """Nine bits, then `recursive`."""
        templates.chmod(s, tid, list(args[:9]), bool(args[9]))

    api.add("one.template.chmod", [I("id")] + PERMISSION_PARAMS + [B("recursive", False)],
            returns_id(chmod),
            "Changes permissions (-1 keeps a bit); recursive: of its owner's images too.")
    api.add("one.template.lock", [I("id"), I("level", 4), B("test", False)],
            returns_id(templates.lock), "Locks: 1 USE, 2 MANAGE, 3 ADMIN, 4 ALL.")
    api.add("one.template.unlock", [I("id")], returns_id(templates.unlock), "Lifts the lock.")
    api.add("one.templatepool.info", [I("filter"), I("start", -1), I("end", -1)],
            lambda s, flag, start=-1, end=-1: owned_listing(pool, "VMTEMPLATE_POOL", s, flag,
                                                            start, end),
            "Lists VM templates (filter -4..uid, id range).")
