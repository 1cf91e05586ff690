"""boto3 against one-econe: images, types, RunInstances to running (waiters), life cycle."""
from __future__ import annotations

import base64

import boto3
import pytest
from botocore.exceptions import ClientError
from lxml import etree

from tests.econe.conftest import Cloud, start_econe, wait

FAST = {"Delay": 0.2, "MaxAttempts": 150}


def _code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def _launch(cloud: Cloud, ec2, count: int = 1, **extra) -> list[str]:
    reply = ec2.run_instances(ImageId=f"ami-{cloud.image:08x}", MinCount=count, MaxCount=count,
                              InstanceType="m1.small", **extra)
    return [i["InstanceId"] for i in reply["Instances"]]


def _vm(cloud: Cloud, instance: str) -> etree._Element:
    return etree.fromstring(cloud.rpc.ok("one.vm.info", int(instance[2:], 16)))


def test_regions_zones_types_images(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    region = ec2.describe_regions()["Regions"]
    assert [(r["RegionName"], r["Endpoint"]) for r in region] == [("one", cloud.url[7:])]
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [(z["ZoneName"], z["State"], z["RegionName"]) for z in zones] == [
        ("one-a", "available", "one")]
    types = ec2.describe_instance_types()["InstanceTypes"]
    assert [(t["InstanceType"], t["VCpuInfo"]["DefaultVCpus"], t["MemoryInfo"]["SizeInMiB"])
            for t in types] == [("m1.small", 1, 64)]  # m1.large: no template, not offered
    images = ec2.describe_images()["Images"]
    assert [(i["ImageId"], i["Name"], i["State"], i["Public"]) for i in images] == [
        (f"ami-{cloud.image:08x}", "ubuntu", "available", True)]
    assert ec2.describe_images(ImageIds=[f"ami-{cloud.image:08x}"])["Images"][0]["Name"] == \
        "ubuntu"


def test_lookup_errors(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    for call, code in (
            (lambda: ec2.describe_images(ImageIds=["ami-000000ff"]), "InvalidAMIID.NotFound"),
            (lambda: ec2.describe_images(ImageIds=["ami-12"]), "InvalidAMIID.Malformed"),
            (lambda: ec2.describe_instance_types(InstanceTypes=["m9.huge"]),
             "InvalidInstanceType"),
            (lambda: ec2.describe_instances(InstanceIds=["i-000000ff"]),
             "InvalidInstanceID.NotFound"),
            (lambda: ec2.describe_instances(InstanceIds=["i-zz"]),
             "InvalidInstanceID.Malformed"),
            (lambda: ec2.run_instances(ImageId="ami-000000ff", MinCount=1, MaxCount=1),
             "InvalidAMIID.NotFound"),
            (lambda: ec2.run_instances(ImageId=f"ami-{cloud.image:08x}", MinCount=1,
                                       MaxCount=1, InstanceType="m1.large"),
             "InvalidInstanceType"),
            (lambda: ec2.run_instances(ImageId=f"ami-{cloud.image:08x}", MinCount=2,
                                       MaxCount=1), "InvalidParameterValue"),
            (lambda: ec2.run_instances(ImageId=f"ami-{cloud.image:08x}", MinCount=1,
                                       MaxCount=1, KeyName="nokey"),
             "InvalidKeyPair.NotFound"),
            (lambda: ec2.describe_instances(Filters=[{"Name": "vpc-id", "Values": ["v"]}]),
             "InvalidParameterValue"),
            (lambda: ec2.describe_instances(MaxResults=2), "InvalidParameterValue"),
            (lambda: ec2.terminate_instances(InstanceIds=["i-000000ff"]),
             "InvalidInstanceID.NotFound")):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _code(excinfo) == code, code
    assert etree.fromstring(cloud.rpc.ok("one.vmpool.info", -2, -1, -1, -1)).find("VM") is None


def test_run_to_running_and_terminated(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    ec2.import_key_pair(KeyName="laptop", PublicKeyMaterial=PUBLIC_KEY.encode())
    ids = _launch(cloud, ec2, 2, KeyName="laptop", UserData="#!/bin/sh\necho hi\n",
                  TagSpecifications=[{"ResourceType": "instance",
                                      "Tags": [{"Key": "role", "Value": "web"}]}])
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST)
    reservations = ec2.describe_instances()["Reservations"]
    assert len(reservations) == 1
    instances = reservations[0]["Instances"]
    assert [i["InstanceId"] for i in instances] == ids
    first = instances[0]
    assert (first["State"]["Name"], first["KeyName"], first["InstanceType"], first["ImageId"],
            first["PrivateIpAddress"], first["Tags"]) == (
        "running", "laptop", "m1.small", f"ami-{cloud.image:08x}", "10.0.0.10",
        [{"Key": "role", "Value": "web"}])
    vm = _vm(cloud, ids[0])
    assert vm.findtext("TEMPLATE/CONTEXT/SSH_PUBLIC_KEY") == PUBLIC_KEY
    assert base64.b64decode(vm.findtext("TEMPLATE/CONTEXT/USER_DATA")) == b"#!/bin/sh\necho hi\n"
    assert vm.findtext("TEMPLATE/DISK/IMAGE_ID") == str(cloud.image)
    assert vm.findtext("UNAME") == "alice"
    ec2.terminate_instances(InstanceIds=ids)
    ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig=FAST)
    assert ec2.describe_instances()["Reservations"] == []
    again = ec2.terminate_instances(InstanceIds=ids[:1])["TerminatingInstances"][0]
    assert again["CurrentState"]["Name"] == "terminated"


def test_stop_start_reboot(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    ids = _launch(cloud, ec2)
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST)
    with pytest.raises(ClientError) as excinfo:
        ec2.start_instances(InstanceIds=ids)
    assert _code(excinfo) == "IncorrectInstanceState"
    ec2.reboot_instances(InstanceIds=ids)
    stopping = ec2.stop_instances(InstanceIds=ids)["StoppingInstances"][0]
    assert stopping["PreviousState"]["Name"] == "running"
    ec2.get_waiter("instance_stopped").wait(InstanceIds=ids, WaiterConfig=FAST)
    assert _vm(cloud, ids[0]).findtext("STATE") == "8"  # POWEROFF
    started = ec2.start_instances(InstanceIds=ids)["StartingInstances"][0]
    assert started["PreviousState"]["Name"] == "stopped"
    ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=FAST)


def test_filters_and_pages(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    web = _launch(cloud, ec2, 3, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "web"}]}])
    db = _launch(cloud, ec2, 4)
    ec2.get_waiter("instance_running").wait(InstanceIds=web + db, WaiterConfig=FAST)

    def shown(**options) -> list[str]:
        return [i["InstanceId"] for r in ec2.describe_instances(**options)["Reservations"]
                for i in r["Instances"]]

    assert shown(Filters=[{"Name": "tag:role", "Values": ["web"]}]) == web
    assert shown(Filters=[{"Name": "tag-key", "Values": ["role"]}]) == web
    assert shown(Filters=[{"Name": "instance-id", "Values": [db[1]]}]) == [db[1]]
    assert shown(Filters=[{"Name": "instance-state-name", "Values": ["stopped"]}]) == []
    assert shown(InstanceIds=[db[0], web[0]]) == sorted([db[0], web[0]])
    first = ec2.describe_instances(MaxResults=5)
    assert sum(len(r["Instances"]) for r in first["Reservations"]) == 5 and first["NextToken"]
    pages = ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5})
    assert [i["InstanceId"] for p in pages for r in p["Reservations"]
            for i in r["Instances"]] == web + db
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_instances(MaxResults=5, NextToken="not base64!")
    assert _code(excinfo) == "InvalidParameterValue"


def test_pages_stay_whole_when_earlier_instances_terminate(cloud: Cloud) -> None:
    """MaxResults pages come from oned's paged listing; once instances before the token's
    one are gone (it moved to a lower offset), the next page still starts at it."""
    ec2 = cloud.ec2()
    ids = _launch(cloud, ec2, 12)
    first = ec2.describe_instances(MaxResults=5)
    assert [i["InstanceId"] for r in first["Reservations"] for i in r["Instances"]] == ids[:5]
    ec2.terminate_instances(InstanceIds=ids[:2])

    def listed() -> set[int]:
        doc = etree.fromstring(cloud.rpc.ok("one.vmpool.info", -2, -1, -1, -1))
        return {int(vm.findtext("ID")) for vm in doc}
    wait(lambda: not listed() & {int(i[2:], 16) for i in ids[:2]})
    rest, token = [], first["NextToken"]
    while token:
        page = ec2.describe_instances(MaxResults=5, NextToken=token)
        rest += [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]]
        token = page.get("NextToken")
    assert rest == ids[5:]


def test_owners_are_isolated(cloud: Cloud) -> None:
    alice, bob = cloud.ec2("alice"), cloud.ec2("bob")
    ids = _launch(cloud, alice)
    assert bob.describe_instances()["Reservations"] == []
    for call in (lambda: bob.describe_instances(InstanceIds=ids),
                 lambda: bob.terminate_instances(InstanceIds=ids),
                 lambda: bob.stop_instances(InstanceIds=ids),
                 lambda: bob.create_tags(Resources=ids, Tags=[{"Key": "a", "Value": "b"}])):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _code(excinfo) == "InvalidInstanceID.NotFound"
    assert _vm(cloud, ids[0]).findtext("STATE") != "6"  # untouched
    alice.import_key_pair(KeyName="mine", PublicKeyMaterial=PUBLIC_KEY.encode())
    assert bob.describe_key_pairs()["KeyPairs"] == []


PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
              " user@laptop")


def test_min_and_max_count_when_capacity_runs_out(cloud: Cloud, tmp_path) -> None:
    """MaxCount takes what there is once MinCount is met; below MinCount nothing is left."""
    rpc = cloud.rpc
    net = rpc.ok("one.vn.allocate", 'NAME = tiny VN_MAD = dummy BRIDGE = br2 '
                 'AR = [ TYPE = IP4, IP = "10.9.0.1", SIZE = "2" ]', -1)
    rpc.ok("one.vn.chmod", net, -1, -1, -1, -1, -1, -1, 1, -1, -1)
    tid = rpc.ok("one.template.allocate", 'NAME = tiny CPU = 0.1 MEMORY = 32 '
                 'NIC = [ NETWORK = "tiny", NETWORK_UNAME = "oneadmin" ]')
    rpc.ok("one.template.chmod", tid, -1, -1, -1, -1, -1, -1, 1, -1, -1, False)
    server, url = start_econe(cloud.oned, tmp_path, instance_types={"t.tiny": "tiny"})
    try:
        access, secret = cloud.keys["alice"]
        ec2 = boto3.client("ec2", endpoint_url=url, region_name="one",
                           aws_access_key_id=access, aws_secret_access_key=secret)
        ami = f"ami-{cloud.image:08x}"
        with pytest.raises(ClientError) as excinfo:
            ec2.run_instances(ImageId=ami, InstanceType="t.tiny", MinCount=3, MaxCount=3)
        assert _code(excinfo) == "InvalidParameterValue"  # oned: no free address
        # the two made before the third failed are terminated, their addresses freed
        wait(lambda: len(etree.fromstring(rpc.ok("one.vmpool.info", -2, -1, -1, -1))) == 0)
        ran = ec2.run_instances(ImageId=ami, InstanceType="t.tiny", MinCount=1, MaxCount=3)
        assert [i["PrivateIpAddress"] for i in ran["Instances"]] == ["10.9.0.1", "10.9.0.2"]
    finally:
        server.shutdown()
        server.server_close()
