"""EC2 accounts as hosts: capacity from CAPACITY, errors from EC2, secrets kept."""
from __future__ import annotations

import logging

import pytest

from conftest import CLASSIC_ADMIN
from one.states import HostState, LcmState as L, VmState as S

from .conftest import Cloud
from .motoserver import free_port


def _host(cloud: Cloud, hid: int, path: str) -> str | None:
    return cloud.doc("one.host.info", hid).findtext(path)


def test_capacity_by_instance_type(cloud: Cloud) -> None:
    hid = cloud.ec2_host(template=cloud.account.host_template('M1_SMALL = "4", M1_LARGE = "2"'))
    cloud.monitor()
    assert _host(cloud, hid, "STATE") == str(HostState.MONITORED)
    assert _host(cloud, hid, "HOST_SHARE/MAX_CPU") == str(4 * 100 + 2 * 200)
    assert _host(cloud, hid, "HOST_SHARE/MAX_MEM") == str((4 * 1740 + 2 * 7680) * 1024)
    assert _host(cloud, hid, "TEMPLATE/PUBLIC_CLOUD") == "YES"
    assert _host(cloud, hid, "TEMPLATE/HYPERVISOR") == "ec2"


def test_instances_of_the_host_count_as_used(cloud: Cloud) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    cloud.ec2_vm(host=hid)
    cloud.monitor()
    assert _host(cloud, hid, "MONITORING/CAPACITY/USED_CPU") == "100"
    assert _host(cloud, hid, "MONITORING/CAPACITY/FREE_CPU") == "300"
    assert _host(cloud, hid, "TEMPLATE/RUNNING_INSTANCES") == "m1.small=1"


def _error_then_back(cloud: Cloud, hid: int, message: str, fix: str) -> None:
    """The host is in ERROR with EC2's message; after `fix` it is MONITORED again."""
    cloud.monitor()
    assert _host(cloud, hid, "STATE") == str(HostState.ERROR)
    assert message in _host(cloud, hid, "TEMPLATE/ERROR")
    cloud.rpc.ok("one.host.update", hid, fix, 1)
    cloud.monitor()
    assert _host(cloud, hid, "STATE") == str(HostState.MONITORED)
    assert cloud.doc("one.host.info", hid).find("TEMPLATE/ERROR") is None


def test_bad_credentials_error_then_back(cloud: Cloud) -> None:
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.ec2_vm(host=hid)
    cloud.rpc.ok("one.host.update", hid, 'EC2_SECRET = "not-the-secret"', 1)
    cloud.monitor()
    assert cloud.phase(vid) == (S.ACTIVE, L.UNKNOWN)
    _error_then_back(cloud, hid, "AuthFailure", f'EC2_SECRET = "{cloud.account.secret}"')
    assert cloud.phase(vid) == (S.ACTIVE, L.RUNNING)


def test_endpoint_down_then_back(cloud: Cloud) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    hid = cloud.ec2_host(template=cloud.account.host_template(endpoint=nowhere))
    _error_then_back(cloud, hid, "Could not connect to the endpoint URL",
                     f'EC2_ENDPOINT = "{cloud.account.endpoint}"')


def test_unknown_instance_type_in_capacity(cloud: Cloud) -> None:
    hid = cloud.ec2_host(template=cloud.account.host_template('Q9_HUGE = "1"'))
    cloud.monitor()
    assert _host(cloud, hid, "STATE") == str(HostState.ERROR)
    assert "unknown instance type Q9_HUGE" in _host(cloud, hid, "TEMPLATE/ERROR")


def test_secrets_are_masked_and_never_logged(cloud: Cloud, caplog: pytest.LogCaptureFixture,
                                             tmp_path) -> None:
    caplog.set_level(logging.INFO)                       # oned's level
    for name in ("one", "botocore", "boto3", "urllib3"):  # and everything on the EC2 path
        caplog.set_level(logging.DEBUG, logger=name)
    secret, access = cloud.account.secret, cloud.account.access
    hid = cloud.ec2_host()
    cloud.monitor()
    vid = cloud.ec2_vm(host=hid)
    cloud.monitor()
    cloud.rpc.ok("one.user.allocate", "alice", "pw", "", [])
    for caller in (cloud.rpc, cloud.rpc.as_user("alice:pw"), cloud.rpc.as_user(CLASSIC_ADMIN)):
        for document in (caller.ok("one.host.info", hid), caller.ok("one.hostpool.info")):
            assert secret not in document and access not in document
            assert "<EC2_SECRET><![CDATA[********]]></EC2_SECRET>" in document
    revealed = cloud.rpc.ok("one.host.info", hid, True)
    assert secret in revealed and access in revealed
    assert secret not in cloud.rpc.as_user("alice:pw").ok("one.host.info", hid, True)
    # A template read back from a document keeps the stored secret.
    cloud.rpc.ok("one.host.update", hid, 'EC2_SECRET = "********"', 1)
    assert secret in cloud.rpc.ok("one.host.info", hid, True)
    logs = caplog.text + (tmp_path / "vms" / str(vid) / "vm.log").read_text()
    assert secret not in logs
