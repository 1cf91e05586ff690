"""Key pairs, tags, the action table's refusals, and error shapes, through boto3."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from lxml import etree

from tests.econe.conftest import Cloud
from tests.econe.test_instances import PUBLIC_KEY, _code, _launch
from tests.econe.test_signatures import _send, _v4


def test_key_pairs(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    made = ec2.create_key_pair(KeyName="made")
    private = serialization.load_pem_private_key(made["KeyMaterial"].encode(), None)
    assert made["KeyName"] == "made" and len(made["KeyFingerprint"].split(":")) == 20
    imported = ec2.import_key_pair(KeyName="laptop", PublicKeyMaterial=PUBLIC_KEY.encode())
    assert len(imported["KeyFingerprint"].split(":")) == 16
    listed = ec2.describe_key_pairs()["KeyPairs"]
    assert [(k["KeyName"], k["KeyFingerprint"]) for k in listed] == [
        ("laptop", imported["KeyFingerprint"]), ("made", made["KeyFingerprint"])]
    assert [k["KeyName"] for k in ec2.describe_key_pairs(KeyNames=["made"])["KeyPairs"]] == [
        "made"]
    ids = _launch(cloud, ec2, KeyName="made")
    vm = etree.fromstring(cloud.rpc.ok("one.vm.info", int(ids[0][2:], 16)))
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
    assert vm.findtext("TEMPLATE/CONTEXT/SSH_PUBLIC_KEY") == public
    ec2.delete_key_pair(KeyName="made")
    ec2.delete_key_pair(KeyName="made")  # a second time succeeds, as in EC2
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["laptop"]


def test_key_pair_errors(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    ec2.import_key_pair(KeyName="laptop", PublicKeyMaterial=PUBLIC_KEY.encode())
    for call, code in (
            (lambda: ec2.create_key_pair(KeyName="laptop"), "InvalidKeyPair.Duplicate"),
            (lambda: ec2.import_key_pair(KeyName="bad", PublicKeyMaterial=b"ssh-rsa nonsense"),
             "InvalidKey.Format"),
            (lambda: ec2.describe_key_pairs(KeyNames=["none"]), "InvalidKeyPair.NotFound"),
            (lambda: ec2.create_key_pair(KeyName="x" * 256), "InvalidParameterValue")):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _code(excinfo) == code, code
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["laptop"]


def test_tags(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    ids = _launch(cloud, ec2, 2)
    ec2.create_tags(Resources=ids, Tags=[{"Key": "env", "Value": "prod"},
                                          {"Key": "team", "Value": "a b \"c\""}])
    tags = ec2.describe_tags()["Tags"]
    assert sorted((t["ResourceId"], t["Key"], t["Value"]) for t in tags) == sorted(
        (i, k, v) for i in ids for k, v in (("env", "prod"), ("team", 'a b "c"')))
    filtered = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [ids[1]]},
                                          {"Name": "key", "Values": ["env"]}])["Tags"]
    assert [(t["ResourceId"], t["ResourceType"], t["Value"]) for t in filtered] == [
        (ids[1], "instance", "prod")]
    ec2.delete_tags(Resources=[ids[0]], Tags=[{"Key": "env", "Value": "other"}])  # no match
    ec2.delete_tags(Resources=[ids[0]], Tags=[{"Key": "team"}])
    assert {(t["Key"]) for t in ec2.describe_tags(
        Filters=[{"Name": "resource-id", "Values": [ids[0]]}])["Tags"]} == {"env"}
    ec2.delete_tags(Resources=[ids[1]])  # no Tag.N: every tag goes
    assert [t["ResourceId"] for t in ec2.describe_tags()["Tags"]] == [ids[0]]


def test_tag_errors(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    ids = _launch(cloud, ec2)
    many = [{"Key": f"k{n}", "Value": "v"} for n in range(51)]
    for call, code in (
            (lambda: ec2.create_tags(Resources=["ami-00000000"], Tags=[{"Key": "a"}]),
             "InvalidID"),
            (lambda: ec2.create_tags(Resources=ids, Tags=many), "TagLimitExceeded"),
            (lambda: ec2.create_tags(Resources=ids, Tags=[]), "MissingParameter"),
            (lambda: ec2.describe_tags(Filters=[{"Name": "owner", "Values": ["x"]}]),
             "InvalidParameterValue"),
            (lambda: ec2.run_instances(ImageId=f"ami-{cloud.image:08x}", MinCount=1,
                                       MaxCount=1, TagSpecifications=[{
                                           "ResourceType": "volume",
                                           "Tags": [{"Key": "a", "Value": "b"}]}]),
             "InvalidParameterValue")):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _code(excinfo) == code, code
    assert ec2.describe_tags()["Tags"] == []


def test_unsupported_invalid_and_missing(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    for call, code in (
            (lambda: ec2.create_volume(AvailabilityZone="one-a", Size=1),
             "UnsupportedOperation"),
            (lambda: ec2.allocate_address(), "UnsupportedOperation"),
            (lambda: ec2.run_instances(ImageId=f"ami-{cloud.image:08x}", MinCount=1,
                                       MaxCount=1, UserData="\u00e9" * 17000),
             "InvalidParameterValue")):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _code(excinfo) == code, code
    for body, code in (("Action=FlyToTheMoon", "InvalidAction"),
                       ("Action=RunInstances&MinCount=1", "MissingParameter"),
                       ("Action=RunInstances&ImageId=ami-00000000&UserData=%25%25",
                        "InvalidParameterValue"),
                       ("Action=RunInstances&ImageId=ami-00000000&MinCount=x",
                        "InvalidParameterValue"),
                       ("Action=TerminateInstances", "MissingParameter"),
                       ("Action=DescribeInstances&Filter.1.Value.1=x", "MissingParameter")):
        assert _send(cloud.url + "/", _v4(cloud, body=body), body) == (400, code), body


def test_oned_down_is_unavailable(cloud: Cloud) -> None:
    ec2 = cloud.ec2(config=Config(retries={"max_attempts": 1}))
    cloud.oned.stop()
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_regions()
    assert _code(excinfo) == "Unavailable"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_not_ec2_at_all(cloud: Cloud) -> None:
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(cloud.url + "/?Action=DescribeRegions", timeout=10)
    error = etree.fromstring(excinfo.value.read())
    assert (excinfo.value.code, error.findtext("Errors/Error/Code")) == (401, "AuthFailure")
