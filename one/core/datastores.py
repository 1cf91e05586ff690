"""Datastores: where images and the disks of running VMs live.

Three exist from the first start (0 system, 1 images, 2 files); an operator
adds more with `one.datastore.allocate` into a cluster and deletes one that
holds no image. As in OpenNebula 7.4, TYPE is IMAGE_DS, SYSTEM_DS or FILE_DS,
a system datastore names no DS_MAD and only a system datastore can be
disabled. Images are copied into a datastore by oned itself, so its DS_MAD
only says which kind of store it is.
"""
from __future__ import annotations

import os

from one.config import Config
from one.core.auth import Session
from one.core.authz import ADMIN, MANAGE, USE, require, require_create
from one.core.clusters import DEFAULT
from one.core.ownership import check_name, updated_template
from one.errors import ActionError, AllocateError, ApiError
from one.plugins.manager import PluginManager
from one.pool.models import Datastore, Image
from one.pool.pools import Pools
from one.pool.render.image import datastore_xml
from one.pool.template import Template, parse
from one.states import DatastoreState, DatastoreType

DEFAULT_DATASTORES = ((0, "system", DatastoreType.SYSTEM), (1, "default", DatastoreType.IMAGE),
                      (2, "files", DatastoreType.FILE))
DS_MADS = ("fs", "dummy")
_TYPES = {"IMAGE_DS": DatastoreType.IMAGE, "SYSTEM_DS": DatastoreType.SYSTEM,
          "FILE_DS": DatastoreType.FILE}


def datastore_type(name: str | None) -> DatastoreType:
    """TYPE of a datastore template; absent is IMAGE_DS, as in OpenNebula."""
    if not name:
        return DatastoreType.IMAGE
    try:
        return _TYPES[name.upper()]
    except KeyError:
        raise AllocateError(f"Invalid datastore TYPE '{name}': IMAGE_DS, SYSTEM_DS or "
                            "FILE_DS.") from None


def images_of(dsid: int) -> list[int]:
    return [i.oid for i in Image.select(Image.oid).where(Image.datastore_id == dsid)
            .order_by(Image.oid)]


class DatastoreManager:
    def __init__(self, pools: Pools, config: Config, plugins: PluginManager) -> None:
        self.pools, self.config, self.plugins = pools, config, plugins

    def bootstrap(self) -> None:
        for oid, name, kind in DEFAULT_DATASTORES:
            tm = self.config.tm_mad_system if kind == DatastoreType.SYSTEM else self.config.default_tm_mad
            ds = Datastore(name=name, uid=0, gid=0, uname="oneadmin", gname="oneadmin", perms=0o644,
                           kind=kind, tm_mad=tm, template=Template(), base_path=self._base_path(oid))
            self.pools.datastores.allocate(ds, oid=oid)

    def _base_path(self, oid: int) -> str:
        return os.path.join(self.config.var_location, "datastores", str(oid))

    def get(self, session: Session, dsid: int, right: int = USE) -> Datastore:
        ds = self.pools.datastores.get(dsid)
        require(session, ds, right, "DATASTORE")
        return ds

    def allocate(self, session: Session, text: str, cluster_id: int = -1) -> int:
        require_create(session, "DATASTORE")
        template = parse(text, self.pools.limits)
        name = check_name(template.get("NAME") or "", "datastore")
        kind = datastore_type(template.get("TYPE"))
        ds_mad, tm_mad = self._drivers(template, kind)
        template.remove("NAME")
        template.remove("BASE_PATH")
        if not template.get("SAFE_DIRS") and not template.get("RESTRICTED_DIRS"):
            template.set("SAFE_DIRS", "/var/tmp")
            template.set("RESTRICTED_DIRS", "/")
        with self.pools.store.write():
            cluster = self.pools.clusters.get(DEFAULT if cluster_id == -1 else cluster_id)
            require(session, cluster, ADMIN, "CLUSTER")
            taken = self.pools.datastores.get_by_name(name)
            if taken is not None:
                raise AllocateError(f"NAME is already taken by DATASTORE {taken.oid}.")
            oid = self.pools.datastores.next_oid()
            ds = Datastore(name=name, uid=session.uid, gid=session.gid, uname=session.uname,
                           gname=session.gname, perms=0o777 & ~self.config.default_umask,
                           kind=kind, ds_mad=ds_mad, tm_mad=tm_mad, base_path=self._base_path(oid),
                           clusters=[cluster.oid], template=template)
            self.pools.datastores.allocate(ds, oid=oid)
        return oid

    def _drivers(self, template: Template, kind: DatastoreType) -> tuple[str, str]:
        """(DS_MAD, TM_MAD), both required except DS_MAD of a system datastore (none)."""
        ds_mad = template.get("DS_MAD") or ""
        if kind == DatastoreType.SYSTEM:
            if ds_mad:
                raise AllocateError("SYSTEM datastores cannot have DS_MAD defined.")
            ds_mad = "-"
        elif not ds_mad:
            raise AllocateError("No DS_MAD in template.")
        elif ds_mad not in DS_MADS:
            raise AllocateError(f"DS_MAD named \"{ds_mad}\" is not known (known: "
                                f"{', '.join(DS_MADS)}).")
        tm_mad = template.get("TM_MAD") or ""
        if not tm_mad:
            raise AllocateError("No TM_MAD in template.")
        self.plugins.registries["tm"].check(tm_mad)
        return ds_mad, tm_mad

    def delete(self, session: Session, dsid: int) -> None:
        with self.pools.store.write():
            ds = self.get(session, dsid, ADMIN)
            held = images_of(dsid)
            if held:
                raise ActionError(f"Cannot delete DATASTORE [{dsid}]: it is not empty, it holds "
                                  f"{len(held)} images.")
            self.pools.datastores.drop(ds)

    def enable(self, session: Session, dsid: int, enable: bool) -> None:
        with self.pools.datastores.modify(dsid) as ds:
            require(session, ds, MANAGE, "DATASTORE")
            if ds.kind != DatastoreType.SYSTEM:
                raise ActionError("Only SYSTEM_DS can be disabled or enabled")
            ds.state = DatastoreState.READY if enable else DatastoreState.DISABLED

    def rename(self, session: Session, dsid: int, name: str) -> None:
        """The images of the datastore carry its name (their DATASTORE) and follow it."""
        check_name(name, "datastore")
        with self.pools.datastores.modify(dsid) as ds:
            require(session, ds, MANAGE, "DATASTORE")
            taken = self.pools.datastores.get_by_name(name)
            if taken is not None and taken.oid != dsid:
                raise ActionError(f"NAME is already taken by DATASTORE {taken.oid}.")
            ds.name = name
            for image in self.pools.images.select(Image.datastore_id == dsid):
                image.datastore = name
                self.pools.images.save(image)

    def update(self, session: Session, dsid: int, text: str, append: int = 0) -> None:
        """TM_MAD and DS_MAD in the new template change the drivers."""
        with self.pools.datastores.modify(dsid) as ds:
            require(session, ds, MANAGE, "DATASTORE")
            ds.template = updated_template(ds.template, text, append, self.pools.limits)
            ds.tm_mad = ds.template.get("TM_MAD") or ds.tm_mad
            ds.ds_mad = ds.template.get("DS_MAD") or ds.ds_mad
            if ds.tm_mad not in self.plugins.registries["tm"]:
                raise ApiError(f"Unknown TM driver '{ds.tm_mad}'.")

    def xml(self, ds: Datastore) -> str:
        return datastore_xml(ds, images_of(ds.oid))

    def info(self, session: Session, dsid: int) -> str:
        return self.xml(self.get(session, dsid))
