"""IMAGE documents of the 7.4 API (image.xsd) and DATASTORE documents.

Datastores report their capacity as the file system under their base path has
it now, so they are rendered on read.
"""
from __future__ import annotations

import os

from one.pool.models import Datastore, Image
from one.pool.render.common import el, ids, owner_fields as _owner, permissions


def image_xml(image: Image) -> str:
    return (
        f"<IMAGE>{_owner(image)}{permissions(image.perms)}<TYPE>{image.kind}</TYPE>"
        f"<DISK_TYPE>0</DISK_TYPE><PERSISTENT>{image.persistent}</PERSISTENT>"
        f"<REGTIME>{image.regtime}</REGTIME><MODTIME>{image.modtime}</MODTIME>"
        f"{el('SOURCE', image.source)}{el('PATH', image.path)}{el('FORMAT', image.format)}"
        f"{el('FS', image.fs)}<SIZE>{image.size}</SIZE><STATE>{image.state}</STATE>"
        f"<PREV_STATE>{image.prev_state}</PREV_STATE><RUNNING_VMS>{image.running_vms}</RUNNING_VMS>"
        f"<CLONING_OPS>0</CLONING_OPS><CLONING_ID>-1</CLONING_ID><TARGET_SNAPSHOT>-1</TARGET_SNAPSHOT>"
        f"<DATASTORE_ID>{image.datastore_id}</DATASTORE_ID>{el('DATASTORE', image.datastore)}"
        f"{ids('VMS', image.vms)}{ids('CLONES', image.clones)}{ids('APP_CLONES', ())}"
        f"{image.template.to_xml()}"
        f"<SNAPSHOTS><ALLOW_ORPHANS>NO</ALLOW_ORPHANS><CURRENT_BASE>-1</CURRENT_BASE>"
        f"<NEXT_SNAPSHOT>0</NEXT_SNAPSHOT></SNAPSHOTS><BACKUP_INCREMENTS/></IMAGE>"
    )


def render_image(image: Image) -> tuple[str, str]:
    body = image_xml(image)
    return body, body


def capacity_mb(path: str) -> tuple[int, int, int]:
    """(total, free, used) MB of the file system holding `path`."""
    probe = path
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    stats = os.statvfs(probe or "/")
    total = stats.f_blocks * stats.f_frsize // 2**20
    free = stats.f_bavail * stats.f_frsize // 2**20
    return total, free, total - free


def datastore_xml(ds: Datastore, images: list[int]) -> str:
    total, free, used = capacity_mb(ds.base_path)
    return (
        f"<DATASTORE>{_owner(ds)}{permissions(ds.perms)}{el('DS_MAD', ds.ds_mad)}"
        f"{el('TM_MAD', ds.tm_mad)}{el('BASE_PATH', ds.base_path)}<TYPE>{ds.kind}</TYPE>"
        f"<DISK_TYPE>0</DISK_TYPE><STATE>{ds.state}</STATE>{ids('CLUSTERS', ds.clusters)}"
        f"<TOTAL_MB>{total}</TOTAL_MB><FREE_MB>{free}</FREE_MB><USED_MB>{used}</USED_MB>"
        f"{ids('IMAGES', images)}{ds.template.to_xml()}</DATASTORE>"
    )
