"""The ONE API methods, one module per object kind, registered on an `Api`."""
from __future__ import annotations

from one.core.managers import Managers
from one.xmlrpc.api import Api
from one.xmlrpc.methods import (accounting, acl, cluster, datastore, document, ec2keys, host,
                                image, system, template, user, vm, vm_hotplug, vm_snapshots, vnet)


def register_all(api: Api, managers: Managers) -> None:
    for module in (system, user, cluster, host, vnet, vm, image, datastore, template, acl,
                   accounting, ec2keys, document, vm_hotplug, vm_snapshots):
        module.register(api, managers)
