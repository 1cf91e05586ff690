"""Frozen views of rows for drivers and plugins (see one.plugins.views)."""
from __future__ import annotations

import os

from one.config import Config
from one.plugins.views import HostView, TemplateView, VmView
from one.pool.models import Host, Vm


def host_view(host: Host) -> HostView:
    return HostView(id=host.oid, name=host.name, state=host.state, im_mad=host.im_mad,
                    vm_mad=host.vm_mad, cluster_id=host.cluster_id,
                    template=TemplateView.of(host.template.attrs))


def vm_dirs(config: Config, vid: int) -> tuple[str, str]:
    """(directory on its host, directory on the front-end), as OpenNebula lays them out."""
    return (f"{config.datastore_location}/0/{vid}",
            os.path.join(config.var_location, "vms", str(vid)))


def vm_view(vm: Vm, config: Config) -> VmView:
    hosts = [h["HOSTNAME"] for h in vm.history[-2:]]
    system_dir, local_dir = vm_dirs(config, vm.oid)
    return VmView(
        id=vm.oid, name=vm.name, uid=vm.uid, gid=vm.gid, uname=vm.uname, state=vm.state,
        lcm_state=vm.lcm_state, deploy_id=vm.deploy_id,
        template=TemplateView.of(vm.template.attrs),
        user_template=TemplateView.of(vm.user_template.attrs),
        host=hosts[-1] if hosts else None,
        previous_host=hosts[0] if len(hosts) == 2 else None,
        system_dir=system_dir, local_dir=local_dir, xml=vm.body)
