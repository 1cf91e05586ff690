"""one.user.ec2keys_*: EC2 credentials, their documents, their secrecy, every refusal."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest
from lxml import etree

from conftest import Caller
from one.pool.models import Ec2Key

AUTHORIZATION, NO_EXISTS, ACTION = 0x200, 0x400, 0x800
SCHEMA = etree.XMLSchema(etree.fromstring(b"""
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="EC2_KEYS"><xs:complexType><xs:sequence>
    <xs:element ref="EC2_KEY" minOccurs="0" maxOccurs="unbounded"/>
  </xs:sequence></xs:complexType></xs:element>
  <xs:element name="EC2_KEY"><xs:complexType><xs:sequence>
    <xs:element name="ACCESS_KEY_ID" type="xs:string"/>
    <xs:element name="UID" type="xs:integer" minOccurs="0"/>
    <xs:element name="UNAME" type="xs:string" minOccurs="0"/>
    <xs:element name="ENABLED" type="xs:integer" minOccurs="0"/>
    <xs:element name="CREATED" type="xs:integer" minOccurs="0"/>
    <xs:element name="SECRET_ACCESS_KEY" type="xs:string" minOccurs="0"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""))


def _doc(text: str) -> etree._Element:
    root = etree.fromstring(text.encode())
    SCHEMA.assertValid(root)
    return root


def _user(rpc: Caller, name: str) -> tuple[int, Caller]:
    return rpc.ok("one.user.allocate", name, "pw", "core", []), rpc.as_user(f"{name}:pw")


def test_create_list_secret_delete(rpc: Caller, oned) -> None:
    uid, alice = _user(rpc, "alice")
    key = _doc(alice.ok("one.user.ec2keys_create", -1))
    access, secret = key.findtext("ACCESS_KEY_ID"), key.findtext("SECRET_ACCESS_KEY")
    assert access.startswith("AKIA") and len(access) == 20 and len(secret) == 40
    listed = _doc(alice.ok("one.user.ec2keys_list", -1))
    assert [k.findtext("ACCESS_KEY_ID") for k in listed] == [access]
    assert listed.find("EC2_KEY/SECRET_ACCESS_KEY") is None  # shown once, at creation
    assert [k.findtext("UID") for k in _doc(rpc.ok("one.user.ec2keys_list", uid))] == [str(uid)]
    looked_up = _doc(rpc.ok("one.user.ec2keys_secret", access))
    assert (looked_up.findtext("UNAME"), looked_up.findtext("UID"),
            looked_up.findtext("SECRET_ACCESS_KEY")) == ("alice", str(uid), secret)
    assert alice.ok("one.user.ec2keys_delete", -1, access) == -1  # the id as given
    assert len(_doc(alice.ok("one.user.ec2keys_list", -1))) == 0
    rpc.fails("one.user.ec2keys_secret", access, code=NO_EXISTS)


def test_stored_encrypted_with_a_private_key_file(rpc: Caller, oned, tmp_path: Path) -> None:
    _, alice = _user(rpc, "alice")
    secret = _doc(alice.ok("one.user.ec2keys_create", -1)).findtext("SECRET_ACCESS_KEY")
    stored = Ec2Key.get().secret
    assert secret not in stored and stored.startswith("gAAAAA")  # a Fernet token
    key_file = tmp_path / "ec2_keys.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_refusals(rpc: Caller, oned) -> None:
    alice_id, alice = _user(rpc, "alice")
    bob_id, bob = _user(rpc, "bob")
    access = _doc(alice.ok("one.user.ec2keys_create", -1)).findtext("ACCESS_KEY_ID")
    assert "Not authorized" in bob.fails("one.user.ec2keys_secret", access, code=AUTHORIZATION)
    bob.fails("one.user.ec2keys_create", alice_id, code=AUTHORIZATION)
    bob.fails("one.user.ec2keys_list", alice_id, code=AUTHORIZATION)
    bob.fails("one.user.ec2keys_delete", alice_id, access, code=AUTHORIZATION)
    bob.fails("one.user.ec2keys_delete", -1, access, code=NO_EXISTS)  # not bob's key
    rpc.fails("one.user.ec2keys_create", 99, code=NO_EXISTS)
    rpc.fails("one.user.ec2keys_secret", "AKIANOSUCHKEY0000000", code=NO_EXISTS)
    alice.ok("one.user.ec2keys_create", -1)
    assert "already has 2" in alice.fails("one.user.ec2keys_create", -1, code=ACTION)
    assert len(_doc(alice.ok("one.user.ec2keys_list", -1))) == 2  # stored state unchanged
    assert _doc(rpc.ok("one.user.ec2keys_secret", access)).findtext("UNAME") == "alice"
    assert bob_id > alice_id


def test_deleting_a_user_drops_its_keys(rpc: Caller, oned) -> None:
    uid, alice = _user(rpc, "alice")
    access = _doc(alice.ok("one.user.ec2keys_create", -1)).findtext("ACCESS_KEY_ID")
    rpc.ok("one.user.delete", uid)
    rpc.fails("one.user.ec2keys_secret", access, code=NO_EXISTS)
    assert Ec2Key.select().count() == 0


@pytest.mark.parametrize("args", [(), ("x",), (-1, 5)])
def test_bad_arguments(rpc: Caller, oned, args: tuple) -> None:
    reply = rpc("one.user.ec2keys_delete", *args)
    assert reply[0] is False and reply[2] == 0x1000


def test_expired_login_tokens_are_dropped_at_the_next_login(rpc: Caller, oned) -> None:
    """one-econe takes a login token per user and hour: expired ones must not pile up."""
    import time
    rpc.ok("one.user.allocate", "carol", "pw", "core", [])
    rpc.ok("one.user.login", "carol", "", 1, -1)
    expiry = time.time() + 1
    while time.time() <= expiry + 0.05:  # bounded: the token's one second
        time.sleep(0.05)
    rpc.ok("one.user.login", "carol", "", 3600, -1)
    user = etree.fromstring(rpc.ok("one.user.info", 1).encode())
    assert len(user.findall("LOGIN_TOKEN")) == 1
