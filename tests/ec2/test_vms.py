"""VMs on an EC2 host: every action, every failure, as moto sees them."""
from __future__ import annotations

import base64
from pathlib import Path

from one.core.lifecycle import phases
from one.core.runner import Operation
from one.states import LcmState as L, VmState as S

from .conftest import Cloud, start_cloud
from .motoserver import tags


def _instance(cloud: Cloud, vid: int) -> dict:
    found = cloud.account.instances(ONE_ID=str(vid))
    assert len(found) == 1, found
    return found[0]


def _state(cloud: Cloud, vid: int) -> str:
    return _instance(cloud, vid)["State"]["Name"]


def test_deploy_tags_user_data_and_show(cloud: Cloud) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.ec2_vm('CONTEXT = [ ROLE = "worker", MASTER = "10.0.0.1" ]', host=hid)
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING)
    instance = _instance(cloud, vid)
    assert tags(instance)["ONE_HOST"] == "ec2-east" and tags(instance)["Name"] == f"one-{vid}"
    attribute = cloud.account.client().describe_instance_attribute(
        InstanceId=instance["InstanceId"], Attribute="userData")
    user_data = base64.b64decode(attribute["UserData"]["Value"]).decode()
    assert "ROLE='worker'" in user_data and "MASTER='10.0.0.1'" in user_data
    cloud.monitor()
    assert cloud.user_template(vid, "AWS_INSTANCE_ID") == instance["InstanceId"]
    assert cloud.user_template(vid, "AWS_PRIVATE_IP_ADDRESS") == instance["PrivateIpAddress"]
    assert cloud.user_template(vid, "AWS_IP_ADDRESS") == instance["PublicIpAddress"]
    assert cloud.user_template(vid, "AWS_DNS_NAME") == instance["PublicDnsName"]


def test_classic_ec2_section(cloud: Cloud) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    client = cloud.account.client()
    client.create_key_pair(KeyName="gsg-keypair")
    address = client.allocate_address()["PublicIp"]
    vid = cloud.vm(f'CPU = 1 MEMORY = 512 EC2 = [ AMI = "{cloud.account.ami()}", '
                   f'KEYPAIR = "gsg-keypair", INSTANCETYPE = "m1.large", ELASTICIP = "{address}", '
                   f'AUTHORIZEDPORTS = "22, 80" ]', host=hid)
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING)
    instance = _instance(cloud, vid)
    assert (instance["InstanceType"], instance["KeyName"]) == ("m1.large", "gsg-keypair")
    found = client.describe_addresses(PublicIps=[address])["Addresses"][0]
    assert found["InstanceId"] == instance["InstanceId"]
    group = client.describe_security_groups(GroupNames=["default"])
    ports = {rule.get("FromPort") for rule in group["SecurityGroups"][0]["IpPermissions"]}
    assert {22, 80} <= ports


def test_poweroff_resume_reboot_terminate(cloud: Cloud) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.ec2_vm(host=hid)
    first = _instance(cloud, vid)["InstanceId"]
    cloud.rpc.ok("one.vm.action", "poweroff", vid)
    cloud.settle()
    assert cloud.phase(vid) == (S.POWEROFF, 0) and _state(cloud, vid) == "stopped"
    cloud.rpc.ok("one.vm.action", "resume", vid)
    cloud.settle()
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING) and _state(cloud, vid) == "running"
    assert _instance(cloud, vid)["InstanceId"] == first        # the same instance again
    cloud.rpc.ok("one.vm.action", "reboot", vid)
    cloud.settle()
    assert cloud.user_template(vid, "ERROR") is None
    cloud.rpc.ok("one.vm.action", "terminate", vid)
    cloud.settle()
    assert cloud.phase(vid) == (S.DONE, 0) and _state(cloud, vid) == "terminated"


def test_a_failed_resume_keeps_the_stopped_instance(cloud: Cloud) -> None:
    """Only an instance the failed deploy made is terminated: a resumed one holds the guest."""
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.ec2_vm(host=hid)
    first = _instance(cloud, vid)["InstanceId"]
    cloud.rpc.ok("one.vm.action", "poweroff", vid)
    cloud.settle()
    section = (f'PUBLIC_CLOUD = [ TYPE = "ec2", AMI = "{cloud.account.ami()}", '
               'INSTANCETYPE = "m1.small", ELASTICIP = "eipalloc-00000000" ]')
    cloud.rpc.ok("one.vm.update", vid, section, 1)
    cloud.rpc.ok("one.vm.action", "resume", vid)
    cloud.settle()
    assert "eipalloc-00000000" in cloud.user_template(vid, "ERROR")
    assert _instance(cloud, vid)["InstanceId"] == first and _state(cloud, vid) != "terminated"


def test_bad_ami_is_a_boot_failure_with_ec2s_message(cloud: Cloud) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.vm('CPU = 1 MEMORY = 512 PUBLIC_CLOUD = [ TYPE = "ec2", AMI = "ami-12345678" ]',
                   host=hid)
    assert cloud.phase(vid) == (S.ACTIVE, L.BOOT_FAILURE)
    error = cloud.user_template(vid, "ERROR")
    assert "InvalidAMIID.NotFound" in error and "ami-12345678" in error
    cloud.rpc.ok("one.vm.action", "terminate", vid)
    cloud.settle()
    assert cloud.phase(vid) == (S.DONE, 0)


def test_vm_without_ec2_section_fails_to_boot_there(cloud: Cloud) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.vm("CPU = 1 MEMORY = 512", host=hid)
    assert cloud.phase(vid) == (S.ACTIVE, L.BOOT_FAILURE)
    assert "has no PUBLIC_CLOUD" in cloud.user_template(vid, "ERROR")


def test_instance_terminated_behind_onds_back(cloud: Cloud) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.ec2_vm(host=hid)
    cloud.account.client().terminate_instances(InstanceIds=[_instance(cloud, vid)["InstanceId"]])
    cloud.monitor()
    assert cloud.phase(vid) == (S.POWEROFF, 0)
    cloud.rpc.ok("one.vm.action", "resume", vid)             # a new instance takes its place
    cloud.settle()
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING)
    states = sorted(i["State"]["Name"] for i in cloud.account.instances(ONE_ID=str(vid)))
    assert states == ["running", "terminated"]


class _AnswersLost:
    """oned dies once EC2 answered and before the answer is recorded."""

    def submit(self, vm: int, token: int, pool: str, op: Operation) -> None:
        op()

    def stop(self) -> None:
        pass


def test_restart_mid_deploy_makes_no_second_instance(cloud: Cloud, tmp_path: Path) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.vm(f'CPU = 1 MEMORY = 512 PUBLIC_CLOUD = [ TYPE = "ec2", '
                   f'AMI = "{cloud.account.ami()}" ]')
    cloud.rpc.ok("one.vm.deploy", vid, hid)                  # the prolog (nothing to copy) runs
    cloud.lifecycle.runner = _AnswersLost()
    cloud.settle()                                          # ... and the boot reaches EC2
    assert cloud.phase(vid) == (S.ACTIVE, L.BOOT)
    first = _instance(cloud, vid)["InstanceId"]
    cloud.oned.stop()

    again = start_cloud(tmp_path, cloud.account)
    try:
        assert again.oned.managers.lifecycle.resume_in_flight() == 1
        again.settle()
        assert again.phase(vid) == (S.ACTIVE, L.RUNNING)
        assert _instance(again, vid)["InstanceId"] == first
    finally:
        again.oned.stop()


def test_failures_are_retryable(cloud: Cloud) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.vm('CPU = 1 MEMORY = 512 PUBLIC_CLOUD = [ TYPE = "ec2", AMI = "ami-12345678" ]',
                   host=hid)
    assert (S.ACTIVE, cloud.phase(vid)[1]) in phases.FAILURES
    cloud.rpc.ok("one.vm.update", vid,
                 f'PUBLIC_CLOUD = [ TYPE = "ec2", AMI = "{cloud.account.ami()}" ]', 1)
    cloud.rpc.ok("one.vm.recover", vid, 2)                   # retry
    cloud.settle()
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING)


def test_a_failure_after_run_instances_leaves_no_instance(cloud: Cloud) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.vm(f'CPU = 1 MEMORY = 512 PUBLIC_CLOUD = [ TYPE = "ec2", '
                   f'AMI = "{cloud.account.ami()}", ELASTICIP = "eipalloc-00000000" ]', host=hid)
    assert cloud.phase(vid) == (S.ACTIVE, L.BOOT_FAILURE)
    assert "eipalloc-00000000" in cloud.user_template(vid, "ERROR")
    assert _state(cloud, vid) == "terminated"
