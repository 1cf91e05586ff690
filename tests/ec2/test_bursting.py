"""Cloud bursting: the private cloud fills first, then VMs that may overflow to EC2."""
from __future__ import annotations

import base64

from one.states import LcmState as L, VmState as S

from .conftest import Cloud
from .motoserver import tags


def test_local_hosts_first_then_ec2(cloud: Cloud) -> None:
    cloud.ec2_host()                       # the EC2 host has the lower id and more room
    cloud.local_host()
    cloud.monitor()
    vids = [cloud.ec2_vm() for _ in range(5)]
    cloud.schedule()
    assert [cloud.host_of(vid) for vid in vids] == ["home"] * 3 + ["ec2-east"] * 2
    assert all(cloud.phase(vid) == (S.ACTIVE, L.RUNNING) for vid in vids)
    assert len(cloud.account.instances(ONE_HOST="ec2-east")) == 2


def test_vm_without_a_section_never_bursts(cloud: Cloud) -> None:
    cloud.ec2_host()
    cloud.local_host()
    cloud.monitor()
    vids = [cloud.vm("CPU = 1 MEMORY = 512") for _ in range(4)]
    cloud.schedule()
    assert [cloud.host_of(vid) for vid in vids[:3]] == ["home"] * 3
    assert cloud.phase(vids[3]) == (S.PENDING, 0)
    assert 'PUBLIC_CLOUD = "YES"' in cloud.user_template(vids[3], "SCHED_MESSAGE")
    assert cloud.account.instances() == []


def test_requirements_ask_for_ec2_or_forbid_it(cloud: Cloud) -> None:
    cloud.ec2_host()
    cloud.local_host()
    cloud.monitor()
    wants = cloud.ec2_vm('SCHED_REQUIREMENTS = "PUBLIC_CLOUD = YES"')
    named = cloud.ec2_vm('SCHED_REQUIREMENTS = "HOSTNAME = \\"ec2-*\\""')
    cloud.schedule()
    assert cloud.host_of(wants) == cloud.host_of(named) == "ec2-east"
    stays = [cloud.ec2_vm('SCHED_REQUIREMENTS = "!(PUBLIC_CLOUD = YES)"') for _ in range(4)]
    cloud.schedule()
    assert [cloud.host_of(vid) for vid in stays[:3]] == ["home"] * 3
    assert cloud.phase(stays[3]) == (S.PENDING, 0)


def test_virtual_cluster_across_home_and_ec2(cloud: Cloud) -> None:
    """OpenNebula's hybrid SGE tutorial: a front-end at home, workers wherever there is room."""
    cloud.ec2_host()
    cloud.local_host()
    cloud.monitor()
    cloud.rpc.ok("one.vn.allocate", 'NAME = private VN_MAD = dummy BRIDGE = br0 '
                                    'AR = [ TYPE = IP4, IP = 10.0.0.10, SIZE = 100 ]', -1)
    front = cloud.vm('NAME = frontend CPU = 1 MEMORY = 512 NIC = [ NETWORK = private ]')
    front_ip = cloud.doc("one.vm.info", front).findtext("TEMPLATE/NIC/IP")
    worker = (f'CPU = 1 MEMORY = 512 NIC = [ NETWORK = private ] '
              f'CONTEXT = [ NETWORK = YES, ETH0_IP = "$NIC[IP]", FRONTEND = "{front_ip}" ] '
              f'PUBLIC_CLOUD = [ TYPE = ec2, AMI = "{cloud.account.ami()}" ]')
    workers = [cloud.vm(f"NAME = worker{i} {worker}") for i in range(4)]
    cloud.schedule()

    assert cloud.host_of(front) == "home"
    assert [cloud.host_of(vid) for vid in workers] == ["home"] * 2 + ["ec2-east"] * 2
    assert all(cloud.phase(vid) == (S.ACTIVE, L.RUNNING) for vid in [front, *workers])
    instances = cloud.account.instances(ONE_HOST="ec2-east")
    assert sorted(tags(i)["ONE_ID"] for i in instances) == [str(vid) for vid in workers[2:]]
    client = cloud.account.client()
    for instance in instances:
        data = client.describe_instance_attribute(InstanceId=instance["InstanceId"],
                                                  Attribute="userData")["UserData"]["Value"]
        assert f"FRONTEND='{front_ip}'" in base64.b64decode(data).decode()

    for vid in [front, *workers]:
        cloud.rpc.ok("one.vm.action", "terminate", vid)
    cloud.settle()
    assert {i["State"]["Name"] for i in cloud.account.instances(ONE_HOST="ec2-east")} == {
        "terminated"}
