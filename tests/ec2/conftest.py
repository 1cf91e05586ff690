"""Fixtures of the EC2 tests: moto's server on loopback, an account, an oned."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from motoserver import Account, MotoServer

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
