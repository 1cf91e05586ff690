"""Shared fixtures: a real oned on 127.0.0.1:0 and an XML-RPC caller."""
from __future__ import annotations

import hashlib
import os
import xmlrpc.client
from pathlib import Path
from typing import Any, Iterator

import pytest
from lxml import etree

from one.config import Config
from one.daemon import Oned, build

ADMIN_PASSWORD = "secret"
ADMIN = f"oneadmin:{ADMIN_PASSWORD}"
CLASSIC_ADMIN = f"oneadmin:{hashlib.sha1(ADMIN_PASSWORD.encode()).hexdigest()}"
REPO = Path(__file__).resolve().parent.parent
NS = "http://opennebula.org/XMLSchema"


def start_oned(var: Path, db: str = "") -> Oned:
    auth = var / "one_auth"
    if not auth.exists():
        auth.write_text(f"oneadmin:{ADMIN_PASSWORD}\n")
    oned = build(Config(var_location=str(var), port=0, db=db), auth)
    oned.serve_in_thread()
    return oned


@pytest.fixture
def oned(tmp_path: Path) -> Iterator[Oned]:
    server = start_oned(tmp_path)
    yield server
    server.stop()


class Caller:
    """Calls methods with a session and returns the `[ok, value, code]` triple."""

    def __init__(self, endpoint: str, session: str = ADMIN) -> None:
        self.endpoint = endpoint
        self.proxy = xmlrpc.client.ServerProxy(endpoint)
        self.session = session

    def __call__(self, method: str, *args: Any) -> list[Any]:
        return getattr(self.proxy, method)(self.session, *args)

    def ok(self, method: str, *args: Any) -> Any:
        reply = self(method, *args)
        assert reply[0] is True, reply
        assert len(reply) == 3 and reply[2] == 0
        return reply[1]

    def fails(self, method: str, *args: Any, code: int) -> str:
        reply = self(method, *args)
        assert reply[0] is False and reply[2] == code, reply
        assert len(reply) == 3
        return reply[1]

    def as_user(self, session: str) -> "Caller":
        return Caller(self.endpoint, session)


@pytest.fixture
def rpc(oned: Oned) -> Caller:
    return Caller(oned.endpoint)


@pytest.fixture
def classic_rpc(oned: Oned) -> Caller:
    return Caller(oned.endpoint, CLASSIC_ADMIN)


def xsd_dir() -> Path:
    return Path(os.environ.get("ONE_XSD_DIR", REPO.parent / "shared" / "reference" / "xsd" / "7.4.0"))


_SCHEMAS: dict[str, etree.XMLSchema] = {}


def validate(document: str, schema: str) -> etree._Element:
    """Validate an oned document (no namespace) against an XSD of the 7.4 set."""
    directory = xsd_dir()
    if not directory.is_dir():
        pytest.skip(f"XSD directory {directory} is absent (set ONE_XSD_DIR)")
    if schema not in _SCHEMAS:
        _SCHEMAS[schema] = etree.XMLSchema(etree.parse(str(directory / schema)))
    root = etree.fromstring(document.encode())
    for element in root.iter(etree.Element):
        element.tag = f"{{{NS}}}{etree.QName(element).localname}"
    xsd = _SCHEMAS[schema]
    if not xsd.validate(root):
        raise AssertionError(f"{schema}: {xsd.error_log}\n{document[:2000]}")
    return etree.fromstring(document.encode())
