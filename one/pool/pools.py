"""All pools of one database, built together by the composition root."""
from __future__ import annotations

from dataclasses import dataclass, field

import peewee as pw

from one.pool.history import VmPool
from one.pool.models import (Cluster, Datastore, Document, Group, Host, Image, User, Vm, VmTemplate,
                             Vnet)
from one.pool.pool import Pool, Store
from one.pool.quotas import QuotaStore
from one.pool.render.document import render_document
from one.pool.render.host import render_host
from one.pool.render.image import render_image
from one.pool.render.user import render_on_read, render_user
from one.pool.render.vm import render_vm
from one.pool.render.vmtemplate import render_vmtemplate
from one.pool.render.vnet import render_vnet
from one.pool.template import DEFAULT_LIMITS, Limits


@dataclass
class Pools:
    store: Store
    users: Pool[User]
    groups: Pool[Group]
    clusters: Pool[Cluster]
    hosts: Pool[Host]
    vnets: Pool[Vnet]
    vms: Pool[Vm]
    images: Pool[Image]
    datastores: Pool[Datastore]
    templates: Pool[VmTemplate]
    quotas: QuotaStore
    documents: Pool[Document]
    limits: Limits = field(default=DEFAULT_LIMITS)  # what users' templates may hold


def make_pools(db: pw.Database, limits: Limits = DEFAULT_LIMITS) -> Pools:
    store = Store(db)
    return Pools(
        store=store,
        limits=limits,
        users=Pool(store, User, "user", render_user),
        groups=Pool(store, Group, "group", render_on_read),
        clusters=Pool(store, Cluster, "cluster", render_on_read),
        hosts=Pool(store, Host, "host", render_host),
        vnets=Pool(store, Vnet, "virtual network", render_vnet),
        vms=VmPool(store, Vm, "virtual machine", render_vm),
        images=Pool(store, Image, "image", render_image),
        datastores=Pool(store, Datastore, "datastore", render_on_read),
        templates=Pool(store, VmTemplate, "VM template", render_vmtemplate),
        quotas=QuotaStore(store),
        documents=Pool(store, Document, "document", render_document),
    )
