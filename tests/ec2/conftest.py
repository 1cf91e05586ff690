"""Fixtures of the EC2 tests: moto's server on loopback, an account, an oned."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import one_dummy
import pytest

from conftest import Engine, start_oned
from one.daemon import Oned

from .motoserver import Account, MotoServer

# boto3 must never look beyond the endpoint given: no metadata service, no files.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def account(moto: MotoServer) -> Account:
    return moto.fresh_account()


# Local dummy hosts have room for 3 VMs of 1 CPU; EC2 instances are polled fast.
CONFIG = """
VM_MAD = [ NAME = "ec2", POLL_INTERVAL = "0.05", BOOT_TIMEOUT = "20" ]
IM_MAD = [ NAME = "dummy", TOTALCPU = "300" ]
MONITORING_INTERVAL = 3600
MAX_HOST = 10
"""


class Cloud(Engine):
    """An oned (life cycle inline) with dummy hosts at home and EC2 accounts on moto."""

    def __init__(self, oned: Oned, account: Account) -> None:
        super().__init__(oned)
        self.account = account

    def ec2_host(self, name: str = "ec2-east", template: str = "") -> int:
        hid = self.rpc.ok("one.host.allocate", name, "ec2", "ec2", -1)
        self.rpc.ok("one.host.update", hid, template or self.account.host_template(), 1)
        return hid

    def ec2_vm(self, extra: str = "", host: int | None = None) -> int:
        """A VM with a PUBLIC_CLOUD section of an AMI moto knows."""
        section = f'PUBLIC_CLOUD = [ TYPE = "ec2", AMI = "{self.account.ami()}", ' \
                  f'INSTANCETYPE = "m1.small" ]'
        return self.vm(f"CPU = 1 MEMORY = 512 {section} {extra}", host=host)

    def local_host(self, name: str = "home") -> int:
        """A dummy host with room for 3 VMs of 1 CPU (see CONFIG)."""
        return self.host(name)

    def schedule(self) -> None:
        """Scheduler cycles until one places nothing more."""
        while self.oned.managers.scheduler.cycle().dispatched:
            self.settle()

    def host_of(self, vid: int) -> str | None:
        return self.doc("one.vm.info", vid).findtext("HISTORY_RECORDS/HISTORY[last()]/HOSTNAME")

    def user_template(self, vid: int, key: str) -> str | None:
        return self.doc("one.vm.info", vid).findtext(f"USER_TEMPLATE/{key}")


def start_cloud(var: Path, account: Account) -> Cloud:
    return Cloud(start_oned(var, config_text=CONFIG), account)


@pytest.fixture
def cloud(tmp_path: Path, account: Account) -> Iterator[Cloud]:
    one_dummy.reset()
    engine = start_cloud(tmp_path, account)
    yield engine
    engine.oned.stop()
    one_dummy.reset()
