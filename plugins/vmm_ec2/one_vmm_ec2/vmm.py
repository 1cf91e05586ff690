"""The EC2 virtualization driver: OpenNebula's VM actions as EC2 instance calls.

deploy = RunInstances (or StartInstances of the VM's stopped instance, when it
comes back from POWEROFF), shutdown/cancel = TerminateInstances, or
StopInstances while powering off (as OpenNebula 5's driver: the lcm state
tells them apart), reboot = RebootInstances. Every action may be re-issued
after a crash of oned: deploy first looks for the VM's instance by its tags,
and an instance already gone is success for the actions that remove it.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from botocore.exceptions import ClientError

from one.plugins import HostView, VMMDriver, VmPoll, VmView
from one.states import LcmState
from one_vmm_ec2 import instances, request
from one_vmm_ec2.account import Clients
from one_vmm_ec2.instance_types import instance_types

# Error codes that mean "no such instance": removing it again is success.
_GONE = ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Ec2VMM(VMMDriver):
    """Settings: RETRIES (of a throttled call, default 5), BOOT_TIMEOUT (seconds an
    instance may stay pending, 300), POLL_INTERVAL (seconds between looks, 2)."""

    name = "ec2"

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        super().__init__(config)
        self.clients = Clients(self.config)
        self.types = instance_types(self.config)
        self.boot_timeout = float(self.config.get("BOOT_TIMEOUT", "300"))
        self.interval = float(self.config.get("POLL_INTERVAL", "2"))

    def deploy(self, vm: VmView, host: HostView) -> str:
        wanted = request.section(vm)
        ports = request.authorized_ports(wanted)
        client = self.clients.get(host)
        instance = instances.of_vm(client, vm, host)
        created = instance is None
        if instance is None:
            arguments = request.run_arguments(vm, host, wanted)
            instance = client.run_instances(**arguments)["Instances"][0]
            self.log.info("deploy: VM %s runs as %s on %s", vm.id, instance["InstanceId"], host.name)
        elif instances.state(instance) in ("stopping", "stopped"):
            self._wait(client, instance["InstanceId"], "stopped")
            client.start_instances(InstanceIds=[instance["InstanceId"]])
            self.log.info("deploy: %s of VM %s started again", instance["InstanceId"], vm.id)
        else:
            self.log.info("deploy: VM %s already runs as %s", vm.id, instance["InstanceId"])
        instance_id = str(instance["InstanceId"])
        try:
            self._wait(client, instance_id, "running")
            self._open(client, wanted, ports, instance_id)
        except Exception:
            if created:  # an instance found (stopped, or from an earlier try) holds the guest
                self._discard(client, instance_id)
            raise
        return instance_id

    def _discard(self, client: Any, instance_id: str) -> None:
        """Terminate an instance this deploy made and failed, so a retry leaves no orphan; best
        effort: the VM shows the deploy's own error, not this one's."""
        try:
            self._remove(client, instance_id, stop=False, force=True)
        except Exception as exc:  # noqa: BLE001 - the endpoint may be what failed
            self.log.warning("deploy: %s could not be terminated after the failure: %s",
                             instance_id, exc)

    def _wait(self, client: Any, instance_id: str, wanted: str) -> None:
        """Until the instance is in state `wanted`; one that terminates fails with EC2's reason."""
        deadline = time.monotonic() + self.boot_timeout
        while True:
            found = client.describe_instances(InstanceIds=[instance_id])
            instance = found["Reservations"][0]["Instances"][0]
            now = instances.state(instance)
            if now == wanted:
                return
            if now in ("shutting-down", "terminated"):
                reason = instance.get("StateReason", {}).get("Message", "no reason given")
                raise RuntimeError(f"ec2: instance {instance_id} is {now}: {reason}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"ec2: instance {instance_id} still {now} after "
                                   f"{self.boot_timeout:g} s")
            time.sleep(self.interval)

    def _open(self, client: Any, wanted: Mapping[str, str], ports: list[tuple[int, int]],
              instance_id: str) -> None:
        """ELASTICIP and the classic AUTHORIZEDPORTS, once the instance runs."""
        address = wanted.get("ELASTICIP")
        if address:
            key = "AllocationId" if address.startswith("eipalloc-") else "PublicIp"
            client.associate_address(InstanceId=instance_id, **{key: address})
        group = (request.split_list(wanted.get("SECURITYGROUPS", "")) or ["default"])[0]
        for low, high in ports:
            permission = {"IpProtocol": "tcp", "FromPort": low, "ToPort": high,
                          "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            target = {"GroupId" if group.startswith("sg-") else "GroupName": group}
            try:
                client.authorize_security_group_ingress(IpPermissions=[permission], **target)
            except ClientError as exc:
                if _code(exc) != "InvalidPermission.Duplicate":
                    raise

    def shutdown(self, vm: VmView, host: HostView) -> None:
        self._switch_off(vm, host, force=False)

    def cancel(self, vm: VmView, host: HostView) -> None:
        self._switch_off(vm, host, force=True)

    def _switch_off(self, vm: VmView, host: HostView, force: bool) -> None:
        """Stop while powering off (the instance is kept for resume), terminate otherwise."""
        if not vm.deploy_id:
            return   # nothing was deployed
        stop = vm.lcm_state == LcmState.SHUTDOWN_POWEROFF
        self._remove(self.clients.get(host), vm.deploy_id, stop, force)
        self.log.info("%s: %s %s", "cancel" if force else "shutdown", vm.deploy_id,
                      "stopped" if stop else "terminated")

    def _remove(self, client: Any, instance_id: str, stop: bool, force: bool) -> None:
        try:
            if stop:
                client.stop_instances(InstanceIds=[instance_id], Force=force)
            else:
                client.terminate_instances(InstanceIds=[instance_id])
        except ClientError as exc:
            if _code(exc) not in _GONE:
                raise

    def reboot(self, vm: VmView, host: HostView) -> None:
        self.clients.get(host).reboot_instances(InstanceIds=[vm.deploy_id])
        self.log.info("reboot: %s rebooted", vm.deploy_id)

    def poll(self, vm: VmView, host: HostView) -> VmPoll:
        """One instance by id; monitoring uses the IM's bulk listing instead."""
        try:
            found = self.clients.get(host).describe_instances(InstanceIds=[vm.deploy_id])
        except ClientError as exc:
            if _code(exc) in _GONE:
                return instances.poll_of(None, self.types)
            raise
        reservations = found["Reservations"]
        return instances.poll_of(reservations[0]["Instances"][0] if reservations else None,
                                 self.types)
