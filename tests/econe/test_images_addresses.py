"""RegisterImage/DeregisterImage and Elastic IPs over the configured public network."""
from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from lxml import etree

from tests.econe.conftest import REGION, Cloud, start_econe, wait
from tests.econe.test_instances import _code, _launch


def test_register_and_deregister(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> None:
    ec2 = cloud.ec2()
    images = tmp_path_factory.mktemp("images")  # users may only register from SAFE_DIRS
    cloud.rpc.ok("one.datastore.update", 1, f'SAFE_DIRS = "{images}"', 1)
    disk = images / "debian.img"
    disk.write_bytes(b"\0" * 2048)
    ami = ec2.register_image(Name="debian", ImageLocation=str(disk),
                             Description="my own")["ImageId"]
    oid = int(ami[4:], 16)
    image = etree.fromstring(cloud.rpc.ok("one.image.info", oid))
    assert (image.findtext("UNAME"), image.findtext("PATH"), image.findtext("TYPE")) == (
        "alice", str(disk), "0")
    wait(lambda: ec2.describe_images(ImageIds=[ami])["Images"][0]["State"] == "available")
    assert ec2.describe_images(ImageIds=[ami])["Images"][0]["Description"] == "my own"
    with pytest.raises(ClientError) as excinfo:
        ec2.register_image(ImageLocation=str(disk), Name="debian")
    assert _code(excinfo) == "InvalidParameterValue"  # oned's refusal: the name is taken
    with pytest.raises(ClientError) as excinfo:
        cloud.ec2("bob").deregister_image(ImageId=ami)
    assert _code(excinfo) == "InvalidAMIID.NotFound"
    ec2.deregister_image(ImageId=ami)
    wait(lambda: ami not in {i["ImageId"] for i in ec2.describe_images()["Images"]})
    for call, code in ((lambda: ec2.deregister_image(ImageId="ami-000000ff"),
                        "InvalidAMIID.NotFound"),
                       (lambda: ec2.register_image(Name="xyz", ImageLocation="/etc/shadow"),
                        "UnauthorizedOperation")):  # outside SAFE_DIRS
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _code(excinfo) == code, code


def test_elastic_addresses(cloud: Cloud, tmp_path: Path) -> None:
    cloud.rpc.ok("one.vn.allocate", 'NAME = public VN_MAD = dummy BRIDGE = br1 '
                 'AR = [ TYPE = IP4, IP = "192.0.2.10", SIZE = "2" ]', -1)
    public = etree.fromstring(cloud.rpc.ok("one.vnpool.info", -2, -1, -1))[-1].findtext("ID")
    cloud.rpc.ok("one.vn.chmod", int(public), -1, -1, -1, -1, -1, -1, 1, 1, -1)
    server, url = start_econe(cloud.oned, tmp_path, public_network="public")
    try:
        access, secret = cloud.keys["alice"]
        ec2 = boto3.client("ec2", endpoint_url=url, region_name=REGION,
                           aws_access_key_id=access, aws_secret_access_key=secret)
        ids = _launch(cloud, ec2)
        address = ec2.allocate_address(Domain="vpc")
        assert address["PublicIp"] == "192.0.2.10"
        ec2.associate_address(InstanceId=ids[0], AllocationId=address["AllocationId"])
        shown = ec2.describe_addresses()["Addresses"]
        assert [(a["PublicIp"], a["InstanceId"]) for a in shown] == [("192.0.2.10", ids[0])]
        instance = ec2.describe_instances()["Reservations"][0]["Instances"][0]
        assert instance["PublicIpAddress"] == "192.0.2.10"
        with pytest.raises(ClientError) as excinfo:
            ec2.release_address(AllocationId=address["AllocationId"])
        assert _code(excinfo) == "InvalidIPAddress.InUse"
        ec2.disassociate_address(PublicIp="192.0.2.10")
        assert "PublicIpAddress" not in ec2.describe_instances()["Reservations"][0]["Instances"][0]
        assert "InstanceId" not in ec2.describe_addresses()["Addresses"][0]
        second = ec2.allocate_address(Domain="vpc")["PublicIp"]
        with pytest.raises(ClientError):
            ec2.allocate_address(Domain="vpc")  # the public range is exhausted
        assert cloud.ec2("bob").describe_addresses()["Addresses"] == []
        ec2.release_address(AllocationId=address["AllocationId"])
        assert [a["PublicIp"] for a in ec2.describe_addresses()["Addresses"]] == [second]
        for call, code in (
                (lambda: ec2.release_address(AllocationId="eipalloc-000000ff"),
                 "InvalidAllocationID.NotFound"),
                (lambda: ec2.release_address(PublicIp="203.0.113.1"),
                 "InvalidAddress.NotFound"),
                (lambda: ec2.associate_address(InstanceId="i-000000ff", PublicIp=second),
                 "InvalidInstanceID.NotFound")):
            with pytest.raises(ClientError) as excinfo:
                call()
            assert _code(excinfo) == code, code
    finally:
        server.shutdown()
        server.server_close()
