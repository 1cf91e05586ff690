"""VM templates: stored VM descriptions users instantiate (one.template.*).

A template is checked for restricted attributes when it is written; instantiate
merges the caller's extra template over it (names given replace the stored
attributes of that name, vectors included, as OpenNebula's merge does) and
creates the VM through the one VM path, which checks USE on every image and
network it names. Images a template names and its owner owns travel with it
when asked: cloned by a recursive clone, deleted by a recursive delete.
"""
from __future__ import annotations

import time
from typing import Iterator

from one.core import locking, ownership
from one.core.auth import Session
from one.core.authz import MANAGE, USE, require, require_create
from one.core.images import ImageManager
from one.core.vms import VmManager
from one.errors import AllocateError
from one.pool.models import Image, VmTemplate
from one.pool.pools import Pools
from one.pool.template import Template, parse

KIND = "TEMPLATE"


class TemplateManager(locking.Lockable[VmTemplate]):
    kind = KIND

    def __init__(self, pools: Pools, vms: VmManager, images: ImageManager) -> None:
        self.pools, self.vms, self.images = pools, vms, images
        self.pool = pools.templates

    # -- writing -----------------------------------------------------------------
    def allocate(self, session: Session, text: str) -> int:
        template = parse(text, self.pools.limits)
        self.vms.restricted.check(session, "VM", template)
        name = ownership.check_name(template.get("NAME") or "", "template")
        template.remove("NAME")
        return self._insert(session, name, template)

    def _insert(self, session: Session, name: str, template: Template) -> int:
        require_create(session, KIND)
        with self.pools.store.write():
            taken = VmTemplate.get_or_none((VmTemplate.name == name) & (VmTemplate.uid == session.uid))
            if taken is not None:
                raise AllocateError(f"NAME is already taken by TEMPLATE {taken.oid}.")
            obj = VmTemplate(name=name, uid=session.uid, gid=session.gid, uname=session.uname,
                             gname=session.gname, perms=0o777 & ~self.vms.config.default_umask,
                             regtime=int(time.time()), template=template)
            return self.pool.allocate(obj).oid

    def update(self, session: Session, tid: int, text: str, append: int = 0) -> None:
        new = parse(text, self.pools.limits)
        new.remove("NAME")
        self.get(session, tid, MANAGE)
        with self.pool.modify(tid) as obj:
            merged = ownership.updated_template(obj.template, new, append, self.pools.limits)
            self.vms.restricted.check(session, "VM", merged, obj.template)
            obj.template = merged

    def delete(self, session: Session, tid: int, recursive: bool = False) -> None:
        """With `recursive`, the images it names that its owner owns go too (or nothing does)."""
        with self.pools.store.write():
            obj = self.get(session, tid, MANAGE)
            for _, image in self._owned_images(obj) if recursive else ():
                self.images.delete(session, image.oid)
            self.pool.drop(obj)

    def clone(self, session: Session, tid: int, name: str, recursive: bool = False,
              extra: Template | None = None, persistent: bool = False) -> int:
        """A copy owned by the caller, `extra` merged over it; `recursive` copies its
        owner's images too, and the copy names the new images. With `persistent` they
        are persistent and copied before this returns (instantiate as persistent)."""
        obj = self.get(session, tid, USE)
        ownership.check_name(name, "template")
        template = obj.template.copy()
        if extra is not None:
            template.merge(extra)
            self.vms.restricted.check(session, "VM", template, obj.template)
        copies: list[int] = []
        with self.pools.store.write():
            if recursive:
                disks = template.vectors("DISK")
                for index, image in self._owned_images(obj):
                    new = self.images.clone(session, image.oid, f"{name}-disk-{index}",
                                            persistent=persistent, deferred=persistent)
                    copies.append(new)
                    kept = {k: v for k, v in disks[index].items() if not k.startswith("IMAGE")}
                    disks[index] = {**kept, "IMAGE_ID": str(new)}
                template.remove("DISK")
                for disk in disks:
                    template.add("DISK", disk)
            cloned = self._insert(session, name, template)
        for iid in copies if persistent else ():
            self.images.populate(iid)
        return cloned

    def chmod(self, session: Session, tid: int, bits: list[int], recursive: bool = False) -> None:
        """The template's bits; with `recursive`, those of its owner's images too."""
        with self.pools.store.write():
            obj = self.get(session, tid, MANAGE)
            ownership.chmod(session, self.pool, tid, bits)
            for _, image in self._owned_images(obj) if recursive else ():
                ownership.chmod(session, self.pools.images, image.oid, bits)

    def _owned_images(self, obj: VmTemplate) -> Iterator[tuple[int, Image]]:
        """(DISK index, image) of the disks naming an image the template's owner owns."""
        for index, disk in enumerate(obj.template.vectors("DISK")):
            image = _named_image(disk, obj.uname)
            if image is not None and image.uid == obj.uid:
                yield index, image

    # -- instantiating -----------------------------------------------------------
    def instantiate(self, session: Session, tid: int, name: str = "", hold: bool = False,
                    extra: str = "", persistent: bool = False) -> int:
        """A new VM from the template with `extra` merged over it; its id.

        As persistent, as OpenNebula 6+: a private copy of the template (named `name`,
        or `<template>-copy`) with `extra` merged in and persistent copies of its owner's
        images, made before the VM is; the VM is instantiated from that copy."""
        given = parse(extra, self.pools.limits) if extra.strip() else Template()
        if persistent:
            copy_name = name or f"{self.get(session, tid, USE).name}-copy"
            cloned = self.clone(session, tid, copy_name, True, given, persistent=True)
            tid, given = cloned, Template([("CLONING_TEMPLATE_ID", str(tid))])
        obj = self.get(session, tid, USE)
        stored = obj.template
        template = stored.copy()
        template.merge(given)
        template.remove("NAME")  # only the `name` parameter names the VM, as in oned
        if name:
            template.set("NAME", name)
        template.set("TEMPLATE_ID", str(tid))
        template.set("TEMPLATE_NAME", obj.name)
        return self.vms.create(session, template, hold, checked=stored)


def _named_image(disk: dict[str, str], owner: str) -> Image | None:
    """The image a DISK names by IMAGE_ID, or IMAGE (+ IMAGE_UNAME, default the owner)."""
    if disk.get("IMAGE_ID", "").isdigit():
        return Image.get_or_none(Image.oid == int(disk["IMAGE_ID"]))
    if "IMAGE" in disk:
        return Image.get_or_none((Image.name == disk["IMAGE"])
                                 & (Image.uname == disk.get("IMAGE_UNAME", owner)))
    return None
