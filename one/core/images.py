"""Images and datastores: registering, copying into the datastore, and use by VMs.

An image is registered from PATH (a local file or an http(s) URL, copied into
the datastore), from SOURCE (used in place), or as an empty DATABLOCK of SIZE
MB made with mkfs. Copies run off the request thread once oned runs (inline in
tests): the image is LOCKED until READY, or ERROR with the reason and no
half-copied file left behind. VMs take images at allocation (USED, or
USED_PERS for a persistent one, which only one VM may use) and give them back
at DONE.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from one.config import Config
from one.core import quotas
from one.core.auth import Session
from one.core.authz import MANAGE, USE, require, require_create
from one.core.image_sources import SourcePolicy, copy_file, download, probe
from one.core.ownership import check_name, referenced, updated_template, with_attribute
from one.core.restricted import RestrictedAttributes, restricted
from one.errors import ActionError, AllocateError, ApiError
from one.pool.models import Datastore, Image, Vm
from one.pool.pools import Pools
from one.pool.render.image import capacity_mb
from one.pool.template import Template, parse
from one.states import DatastoreType, ImageState, ImageType, VmState

MB = 2**20
_FILE_TYPES = {ImageType.KERNEL, ImageType.RAMDISK, ImageType.CONTEXT}
DEFAULT_IMAGE_DS = 1
_DISK_PREFIX_LETTER = {ImageType.OS: "a", ImageType.CDROM: "c", ImageType.DATABLOCK: "e"}


def _is_url(path: str) -> bool:
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", path) is not None


def _image_type(name: str | None, error: type[Exception] = AllocateError) -> ImageType:
    try:
        return ImageType[(name or "OS").upper()]
    except KeyError:
        raise error(f"Unknown image TYPE '{name}'.") from None


class ImageManager:
    def __init__(self, pools: Pools, config: Config) -> None:
        self.pools, self.config = pools, config
        self.restricted = RestrictedAttributes(config)
        self.one_auth = ""  # the ONE_AUTH file, set by the composition root: never an image
        self.submit: Callable[[Callable[[], None]], Any] = lambda work: work()
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Copies run in their own threads from now on."""
        self._executor = ThreadPoolExecutor(2, "images")
        self.submit = self._executor.submit

    def stop(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def get(self, session: Session, iid: int, right: int = USE) -> Image:
        image = self.pools.images.get(iid)
        require(session, image, right, "IMAGE")
        return image

    @contextmanager
    def _changing(self, session: Session, iid: int) -> Iterator[Image]:
        """The image, with MANAGE checked, read and saved in one write."""
        with self.pools.images.modify(iid) as image:
            require(session, image, MANAGE, "IMAGE")
            yield image

    # -- registering ----------------------------------------------------------
    def allocate(self, session: Session, text: str, ds_id: int = 1, skip_capacity: bool = False) -> int:
        """A user's registration: restricted attributes and PATH checked for non-admins."""
        template = parse(text, self.pools.limits)
        ds = self._datastore(session, ds_id)
        return self._register(session, template, ds, skip_capacity, self._admit(session, template, ds))

    def _admit(self, session: Session, template: Template, ds: Datastore) -> SourcePolicy | None:
        """Restricted attributes and PATH checked for non-admins; the copy's policy."""
        self.restricted.check(session, "IMAGE", template)
        policy = self._policy(session, ds)
        path = template.get("PATH")
        if policy is not None and path:
            (policy.check_url if _is_url(path) else policy.check_path)(path)
        return policy

    def allocate_classic(self, session: Session, text: str) -> int:
        """2.0's registration, into the default datastore: PUBLIC = YES (never with
        PERSISTENT) publishes it, DEV_PREFIX defaults to hd, and a template with
        neither PATH, SOURCE nor SIZE is an image whose file oned names, SOURCE =
        <datastore>/sha1("uid:name"), DISABLED until its owner puts the content
        there and enables it (as 2.0's clients did)."""
        template = parse(text, self.pools.limits)
        ds = self._datastore(session, DEFAULT_IMAGE_DS)
        policy = self._admit(session, template, ds)
        public = (template.get("PUBLIC") or "").upper() == "YES"
        if public and (template.get("PERSISTENT") or "").upper() == "YES":
            raise AllocateError("Image cannot be public and persistent.")
        template.remove("PUBLIC")
        if template.get("DEV_PREFIX") is None:
            template.set("DEV_PREFIX", "hd")
        named_only = not any(template.get(key) for key in ("PATH", "SOURCE", "SIZE"))
        if named_only:
            digest = hashlib.sha1(f"{session.uid}:{template.get('NAME') or ''}".encode()).hexdigest()
            template.set("SOURCE", os.path.join(ds.base_path, digest))
            os.makedirs(ds.base_path, exist_ok=True)  # the image repository it is to go into
        with self.pools.store.write():
            iid = self._register(session, template, ds, named_only, policy)
            with self.pools.images.modify(iid) as image:
                image.perms |= 0o004 if public else 0
                if named_only:
                    image.state = ImageState.DISABLED
        return iid

    def publish(self, session: Session, iid: int, public: bool) -> None:
        """Classic: OTHER USE on or off; for classic callers, as in 2.x, a persistent
        image cannot be public."""
        with self._changing(session, iid) as image:
            if public and image.persistent and session.classic:
                raise ActionError(f"Cannot publish image {iid}: an image cannot be public "
                                  "and persistent.")
            image.perms = image.perms | 0o004 if public else image.perms & ~0o004

    def _datastore(self, session: Session, ds_id: int) -> Datastore:
        ds = self.pools.datastores.get(ds_id)
        require(session, ds, USE, "DATASTORE")
        return ds

    def _policy(self, session: Session, ds: Datastore) -> SourcePolicy | None:
        """None for the oneadmin group, whose registrations are not limited."""
        if session.is_admin:
            return None
        own = [self.config.var_location, self.config.db_url, self.one_auth]
        return SourcePolicy.of(ds.template, tuple(p for p in own if p and "://" not in p))

    def _register(self, session: Session, template: Template, ds: Datastore,
                  skip_capacity: bool = False, policy: SourcePolicy | None = None,
                  deferred: bool = False) -> int:
        """Record the image; its copy (checked by `policy`) starts after the commit,
        unless `deferred`: then the caller runs `populate` once its own write is over."""
        require_create(session, "IMAGE")
        name = check_name(template.get("NAME") or "", "image")
        kind = self._checked_kind(template, ds)
        origin, size = self._origin(template, kind)
        free = capacity_mb(ds.base_path)[1] if not skip_capacity else size
        if size > free:
            raise AllocateError(f"Not enough space in datastore {ds.oid}: the image needs {size} MB, "
                                f"{free} MB are free.")
        persistent = int((template.get("PERSISTENT") or "NO").upper() == "YES")
        for key in ("NAME", "TYPE", "PERSISTENT", "PATH", "SOURCE", "SIZE", "FORMAT", "FS", "FSTYPE"):
            template.remove(key)
        with self.pools.store.write():
            if Image.get_or_none((Image.name == name) & (Image.uid == session.uid)) is not None:
                raise AllocateError(f"NAME is already taken by IMAGE {name}.")
            oid = self.pools.images.next_oid()
            image = Image(
                name=name, uid=session.uid, gid=session.gid, uname=session.uname, gname=session.gname,
                perms=0o777 & ~self.config.default_umask, kind=kind, size=size,
                persistent=persistent,
                regtime=int(time.time()), modtime=int(time.time()), datastore_id=ds.oid,
                datastore=ds.name, template=template, **origin)
            needs_copy = image.source == ""
            if needs_copy:
                image.source = os.path.join(ds.base_path, f"{oid}-{secrets.token_hex(8)}")
            image.state = ImageState.LOCKED if needs_copy else ImageState.READY
            quotas.charge(self.pools, image.uid, image.gid, quotas.image_usage(image))
            self.pools.images.allocate(image, oid=oid)
            if needs_copy and not deferred:
                self.pools.store.on_commit(lambda: self.submit(lambda: self._populate(oid, policy)))
        return oid

    @staticmethod
    def _checked_kind(template: Template, ds: Datastore) -> ImageType:
        kind = _image_type(template.get("TYPE"))
        if ds.kind == DatastoreType.SYSTEM:
            raise AllocateError(f"Datastore {ds.oid} is a system datastore: images go elsewhere.")
        if (kind in _FILE_TYPES) != (ds.kind == DatastoreType.FILE):
            where = "a files" if kind in _FILE_TYPES else "an images"
            raise AllocateError(f"A {kind.name} image belongs in {where} datastore, not in {ds.name}.")
        return kind

    @staticmethod
    def _origin(template: Template, kind: ImageType) -> tuple[dict[str, Any], int]:
        """Where the image's content comes from, and its size in MB."""
        path, source = template.get("PATH"), template.get("SOURCE")
        size = template.get("SIZE") or ""
        if sum(bool(x) for x in (path, source)) > 1:
            raise AllocateError("Give PATH or SOURCE, not both.")
        fs = template.get("FS") or template.get("FSTYPE") or ""
        fmt = template.get("FORMAT") or "raw"
        if path:
            if _is_url(path):
                return {"path": path, "format": fmt}, int(size) if size.isdigit() else 0
            if not os.path.isfile(path) or not os.access(path, os.R_OK):
                raise AllocateError(f"Cannot read PATH '{path}': no such readable file.")
            found, mb = probe(path)
            return {"path": path, "format": template.get("FORMAT") or found}, mb
        if source:
            return {"source": source, "format": fmt}, int(size) if size.isdigit() else 0
        if size.isdigit() and int(size) > 0 and kind in (ImageType.DATABLOCK, ImageType.FILESYSTEM):
            return {"fs": fs, "format": fmt}, int(size)
        raise AllocateError("An image needs PATH, SOURCE, or (for a DATABLOCK) SIZE in MB.")

    def populate(self, oid: int) -> None:
        """The copy of an image registered `deferred`, in the caller's thread, outside any
        write (a copy must not hold the writer lock): READY or ERROR when it returns."""
        self._populate(oid)

    def _populate(self, oid: int, policy: SourcePolicy | None = None) -> None:
        """Copy, download or make the image's file; READY, or ERROR and nothing left."""
        image = self.pools.images.get(oid)
        partial = image.source + ".part"
        os.makedirs(os.path.dirname(image.source), exist_ok=True)
        try:
            if image.path:
                (download if _is_url(image.path) else copy_file)(image.path, partial, policy)
            else:
                _make_datablock(partial, image.size, image.fs)
            os.replace(partial, image.source)
        except Exception as exc:  # any failure: the image says why, the file goes
            if os.path.exists(partial):
                os.unlink(partial)
            self._settle(oid, ImageState.ERROR, error=f"Error copying image: {exc}")
            return
        self._settle_copied(oid)

    def _settle_copied(self, oid: int) -> None:
        """READY with the file's size; a qcow2 file's FORMAT and virtual size."""
        fmt, size = probe(self.pools.images.get(oid).source)
        self._settle(oid, ImageState.READY, size=size, fmt=fmt if fmt == "qcow2" else None)

    def settle_interrupted_copies(self) -> None:
        """At start: an image LOCKED by a copy that oned's stop cut short goes to ERROR
        with the reason (its partial file removed), or READY if the copy had ended.

        Copying again is not done: the URL may have changed or gone and the user
        would not know which content they got; ERROR tells them to register again.
        Images LOCKED for a VM disk to be saved into stay LOCKED for that VM."""
        alive = self.pools.vms.each(Vm.state != VmState.DONE, Vm.oid, Vm.template)
        awaited = {disk["SAVE_AS"] for vm in alive
                   for disk in vm.template.vectors("DISK") if disk.get("SAVE_AS")}
        for image in Image.select().where(Image.state == ImageState.LOCKED):
            if str(image.oid) in awaited:
                continue
            if os.path.isfile(image.source):
                self._settle_copied(image.oid)
                continue
            _remove(image.source)
            self._settle(image.oid, ImageState.ERROR,
                         error="Error copying image: oned stopped during the copy; register it again.")

    def _settle(self, oid: int, state: ImageState, error: str = "", size: int | None = None,
                fmt: str | None = None) -> None:
        with self.pools.images.modify(oid) as image:
            image.prev_state, image.state = image.state, state
            if fmt is not None:
                image.format = fmt
            if size is not None:
                quotas.image_resized(self.pools, image, size)
                image.size = size
            if error:
                image.template.set("ERROR", error)
            else:
                image.template.remove("ERROR")

    # -- saving VM disks --------------------------------------------------------
    def reserve(self, session: Session, name: str, kind: str, ds_id: int, size: int) -> int:
        """A LOCKED image whose content a VM's epilog will write (disk-saveas)."""
        template = Template([("NAME", name), ("TYPE", kind or "OS"), ("SOURCE", "pending"),
                             ("SIZE", str(size))])
        iid = self._register(session, template, self._datastore(session, ds_id), skip_capacity=True)
        with self.pools.images.modify(iid) as image:
            image.source = os.path.join(self._base(ds_id), f"{iid}-{secrets.token_hex(8)}")
            image.state, image.size = ImageState.LOCKED, size
        return iid

    # -- managing -------------------------------------------------------------
    def delete(self, session: Session, iid: int, force: bool = False) -> None:
        with self.pools.store.write():
            image = self.get(session, iid, MANAGE)
            if image.running_vms and not force:
                raise ActionError(f"Cannot delete image {iid}: {image.running_vms} VMs use it.")
            if image.state == ImageState.LOCKED and not force:
                raise ActionError(f"Cannot delete image {iid} while it is being copied.")
            self.pools.images.drop(image)
            quotas.release(self.pools, image.uid, image.gid, quotas.image_usage(image))
            if image.source.startswith(self._base(image.datastore_id)):  # ours; a registered SOURCE is not
                self.pools.store.on_commit(lambda: _remove(image.source))

    def _base(self, ds_id: int) -> str:
        return self.pools.datastores.get(ds_id).base_path + os.sep

    def enable(self, session: Session, iid: int, enabled: bool) -> None:
        allowed = {ImageState.DISABLED, ImageState.READY, ImageState.ERROR} if enabled else {
            ImageState.READY, ImageState.DISABLED}
        with self._changing(session, iid) as image:
            if enabled and session.classic and image.state not in allowed:
                return  # 2.x: enabling an image that is not DISABLED changes nothing
            if image.state not in allowed:
                raise ActionError(f"Cannot {'enable' if enabled else 'disable'} image {iid} in state "
                                  f"{ImageState(image.state).name}.")
            self._set_state(image, ImageState.READY if enabled else ImageState.DISABLED)

    def lock(self, image: Image) -> None:
        """Reserved for a VM disk to be saved into (classic savedisk, disk-saveas)."""
        if image.state not in (ImageState.READY, ImageState.LOCKED) or image.running_vms:
            raise ActionError(f"Image {image.oid} is {ImageState(image.state).name}: "
                              "a disk cannot be saved into it.")
        if image.state != ImageState.LOCKED:
            self._set_state(image, ImageState.LOCKED)
            self.pools.images.save(image)

    @staticmethod
    def _set_state(image: Image, state: ImageState) -> None:
        image.prev_state, image.state = image.state, state
        image.template.remove("ERROR")

    def set_persistent(self, session: Session, iid: int, persistent: bool) -> None:
        with self._changing(session, iid) as image:
            if image.running_vms:
                raise ActionError(f"Cannot change persistency of image {iid}: VMs use it.")
            if persistent and session.classic and image.perms & 0o004:
                raise ActionError(f"Cannot make image {iid} persistent: it is public (classic "
                                  "images cannot be public and persistent).")
            image.persistent = int(persistent)

    def update(self, session: Session, iid: int, text: str, append: int = 0) -> None:
        new = parse(text, self.pools.limits)
        with self._changing(session, iid) as image:
            merged = updated_template(image.template, new, append, self.pools.limits)
            self.restricted.check(session, "IMAGE", merged, image.template)
            image.template = merged

    def set_attribute(self, session: Session, iid: int, name: str, value: str | None) -> None:
        """Classic update/rmattr: one attribute set, or removed when value is None."""
        with self._changing(session, iid) as image:
            if value is None:
                image.template.remove(name)
            else:
                merged = with_attribute(image.template, name, value, self.pools.limits)
                self.restricted.check(session, "IMAGE", merged, image.template)
                image.template = merged

    def chtype(self, session: Session, iid: int, kind: str) -> None:
        with self._changing(session, iid) as image:
            new = _image_type(kind, ApiError)
            if (new in _FILE_TYPES) != (image.kind in _FILE_TYPES):
                raise ApiError(f"Type {new.name} does not belong in datastore {image.datastore}.")
            image.kind = new

    def clone(self, session: Session, iid: int, name: str, ds_id: int = -1,
              persistent: bool = False, deferred: bool = False) -> int:
        """A new image with a copy of this one's content (`deferred`: see `_register`)."""
        image = self.get(session, iid, USE)
        if image.state not in (ImageState.READY, ImageState.USED):
            raise ActionError(f"Cannot clone image {iid} in state {ImageState(image.state).name}.")
        template = Template([("NAME", name), ("PATH", image.source), ("TYPE", ImageType(image.kind).name),
                             ("FORMAT", image.format), ("PERSISTENT", "YES" if persistent else "NO")])
        new = self._register(session, template,
                             self._datastore(session, image.datastore_id if ds_id < 0 else ds_id),
                             deferred=deferred)
        with self.pools.images.modify(iid) as image:
            image.clones = sorted(set(image.clones) | {new})
        return new


def _remove(path: str) -> None:
    for candidate in (path, path + ".part"):
        if os.path.isfile(candidate):
            os.unlink(candidate)


def _make_datablock(path: str, size_mb: int, fs: str) -> None:
    """A sparse file of SIZE MB, with a file system when FS asks for one."""
    with open(path, "wb") as out:
        out.truncate(size_mb * MB)
    if fs and fs.lower() != "raw":
        mkfs = shutil.which(f"mkfs.{fs.lower()}")
        if mkfs is None:
            raise RuntimeError(f"no mkfs.{fs} on the front-end")
        force = ["-F"] if fs.lower().startswith("ext") else ["-f"] if fs.lower() == "xfs" else []
        done = subprocess.run([mkfs, *force, "-q", path], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"mkfs.{fs} failed: {done.stderr.strip()}")


# -- VM disks ------------------------------------------------------------------
def attach_disks(pools: Pools, session: Session, disks: list[dict[str, str]], vid: int,
                 used: frozenset[str] = frozenset()) -> list[dict[str, str]]:
    """Resolve IMAGE/IMAGE_ID disks of a new VM and take the images (inside its transaction);
    `used`: targets the VM's other devices hold already (a disk hotplugged)."""
    resolved, used_targets = [], {d["TARGET"] for d in disks if d.get("TARGET")} | used
    for disk in disks:
        image = _disk_image(session, disk)
        if image is None:
            resolved.append(disk)
            continue
        resolved.append(_image_disk(pools, disk, image, used_targets))
        image.running_vms += 1
        image.vms = sorted(set(image.vms) | {vid})
        image.prev_state = image.state
        image.state = ImageState.USED_PERS if image.persistent else ImageState.USED
        pools.images.save(image)
    return resolved


def _disk_image(session: Session, disk: dict[str, str]) -> Image | None:
    image = referenced(session, Image, disk, "IMAGE", "image")
    if image is None:
        return None
    if image.state not in (ImageState.READY, ImageState.USED) or (
            image.persistent and image.state != ImageState.READY):
        raise AllocateError(f"Image {image.oid} is {ImageState(image.state).name}: it cannot be used now.")
    return image


def _image_disk(pools: Pools, disk: dict[str, str], image: Image, used: set[str]) -> dict[str, str]:
    datastore = pools.datastores.get(image.datastore_id)
    prefix = disk.get("DEV_PREFIX") or image.template.get("DEV_PREFIX") or "hd"
    target = disk.get("TARGET") or image.template.get("TARGET") or free_target(
        used, prefix, _DISK_PREFIX_LETTER.get(ImageType(image.kind), "e"))
    used.add(target)
    persistent = "YES" if image.persistent else "NO"
    return {**disk, "IMAGE": image.name, "IMAGE_ID": str(image.oid), "IMAGE_UNAME": image.uname,
            "SOURCE": image.source, "SIZE": str(image.size), "ORIGINAL_SIZE": str(image.size),
            "TYPE": "CDROM" if image.kind == ImageType.CDROM else "FILE", "TARGET": target,
            "CLONE": "NO" if image.persistent else "YES", "SAVE": persistent,
            "PERSISTENT": persistent, "READONLY": "YES" if image.kind == ImageType.CDROM else "NO",
            "DRIVER": disk.get("DRIVER") or image.format or "raw", "DATASTORE": datastore.name,
            "DATASTORE_ID": str(datastore.oid), "TM_MAD": datastore.tm_mad}


# FILES_DS entries: $FILE[IMAGE = name (, IMAGE_UNAME = owner)] or $FILE[IMAGE_ID = n], else a path.
_FILES_DS_ENTRY = re.compile(r'\$FILE\[\s*IMAGE(_ID)?\s*=\s*"?([^",\]]+)"?\s*'
                             r'(?:,\s*IMAGE_UNAME\s*=\s*"?([^"\]]+)"?\s*)?\]|(\S+)')


def files_ds(session: Session, text: str) -> str:
    """CONTEXT/FILES_DS as `source:'name'` entries for the CONTEXT CD-ROM: each an image
    of a files datastore the caller may USE; a front-end path only from the oneadmin group."""
    entries = []
    for match in _FILES_DS_ENTRY.finditer(text):
        if match.group(4):
            if not session.is_admin:
                raise restricted("VM", "CONTEXT/FILES_DS")
            entries.append(match.group(4))
            continue
        vector = {"IMAGE_ID" if match.group(1) else "IMAGE": match.group(2).strip()}
        if match.group(3):
            vector["IMAGE_UNAME"] = match.group(3).strip()
        image = referenced(session, Image, vector, "IMAGE", "image")
        assert image is not None  # the vector names an image
        if image.kind not in _FILE_TYPES or image.state not in (ImageState.READY, ImageState.USED):
            raise AllocateError(f"FILES_DS: image {image.oid} is not a READY image of a files datastore.")
        entries.append(f"{image.source}:'{image.name}'")
    return " ".join(entries)


def free_target(used: set[str], prefix: str, first: str = "a") -> str:
    for letter in "abcdefghijklmnopqrstuvwxyz"[ord(first) - ord("a"):]:
        if prefix + letter not in used:
            return prefix + letter
    raise AllocateError("No free disk target left.")


def settle_saved(pools: Pools, vm: Vm) -> None:
    """At DONE: images a disk was saved into are READY if the epilog wrote them."""
    for disk in vm.template.vectors("DISK"):
        image = pools.images.find(int(disk["SAVE_AS"])) if disk.get("SAVE_AS", "").isdigit() else None
        if image is None or image.state != ImageState.LOCKED:
            continue
        if os.path.isfile(image.source):
            size = max(1, math.ceil(os.path.getsize(image.source) / MB))
            quotas.image_resized(pools, image, size)
            image.size = size
            image.prev_state, image.state = image.state, ImageState.READY
        else:
            image.prev_state, image.state = image.state, ImageState.ERROR
            image.template.set("ERROR", f"Disk {disk.get('DISK_ID')} of VM {vm.oid} was not saved.")
        pools.images.save(image)


def release_disks(pools: Pools, vm: Vm) -> None:
    """At DONE: the VM's images are free again (inside the VM's transaction)."""
    settle_saved(pools, vm)
    for disk in vm.template.vectors("DISK"):
        release_image(pools, vm, disk)


def release_image(pools: Pools, vm: Vm, disk: dict[str, str]) -> None:
    """The image of one disk is free of the VM (READY once no VM uses it)."""
    image = pools.images.find(int(disk["IMAGE_ID"])) if disk.get(
        "IMAGE_ID", "").isdigit() else None
    if image is None or vm.oid not in image.vms:
        return
    image.vms = [v for v in image.vms if v != vm.oid]
    image.running_vms = max(0, image.running_vms - 1)
    if not image.vms:
        image.prev_state, image.state = image.state, ImageState.READY
    pools.images.save(image)
