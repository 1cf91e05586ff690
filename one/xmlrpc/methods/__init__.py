"""The ONE API methods, one module per object kind, registered on an `Api`."""
from __future__ import annotations

from one.core.managers import Managers
from one.xmlrpc.api import Api
from one.xmlrpc.methods import cluster, document, host, image, system, template, user, vm, vnet


def register_all(api: Api, managers: Managers) -> None:
    for module in (system, user, cluster, host, vnet, vm, image, template, document):
        module.register(api, managers)
