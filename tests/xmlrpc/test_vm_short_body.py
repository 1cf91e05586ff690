"""The short VM body (`one.vmpool.info`) keeps what OpenNebula's keeps plus the EC2_*
facts one-econe lists instances from, so DescribeInstances never needs the full bodies."""
from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from conftest import Caller, database, start_oned, validate
from one.cli.client import Client
from one.pool.db import SCHEMA_VERSION

TEMPLATE = ('CPU = 1 MEMORY = 16 LABELS = "x" OTHER = "not listed" EC2_VECTOR = [ A = 1 ]\n'
            'EC2_TAGS = "{\\"Name\\": \\"a & <b> \\u00e9\\"}" EC2_RESERVATION = "r-0000002a"')


def test_short_listing_carries_the_ec2_single_attributes(rpc: Caller) -> None:
    vid = rpc.ok("one.vm.allocate", TEMPLATE, True)
    rpc.ok("one.vm.allocate", "CPU = 1 MEMORY = 16", True)
    text = rpc.ok("one.vmpool.info", -2, -1, -1, -1)
    validate(text, "vm_pool.xsd")
    validate(rpc.ok("one.vm.info", vid), "vm.xsd")
    first, plain = etree.fromstring(text).findall("VM")
    user = first.find("USER_TEMPLATE")
    assert [e.tag for e in user] == ["LABELS", "EC2_RESERVATION", "EC2_TAGS"]
    assert user.findtext("EC2_TAGS") == '{"Name": "a & <b> \\u00e9"}'
    assert [e.tag for e in plain.find("USER_TEMPLATE")] == []


def test_client_document_reads_the_listing_as_xmlrpc_client_does(rpc: Caller) -> None:
    """Client.document cuts the document out of the reply's bytes: same tree as decoding
    the XML-RPC string first, entities and non-ASCII text included."""
    rpc.ok("one.vm.allocate", TEMPLATE + '\nNAME = "é & <it> \\"q\\""', True)
    client = Client(rpc.endpoint, rpc.session)
    fast = client.document("one.vmpool.info", -2, -1, -1, -1)
    slow = etree.fromstring(rpc.ok("one.vmpool.info", -2, -1, -1, -1).encode())
    assert etree.tostring(fast) == etree.tostring(slow)
    assert fast.findtext("VM/NAME") == 'é & <it> "q"'


def test_a_schema_4_database_lists_the_ec2_facts_of_its_vms(tmp_path: Path) -> None:
    """Short bodies stored before they carried EC2_* are rendered again after the upgrade."""
    first = start_oned(tmp_path)
    vid = Caller(first.endpoint).ok("one.vm.allocate", TEMPLATE, True)
    first.stop()
    with database(tmp_path) as db:
        old = db.execute("SELECT pool_body FROM vm WHERE oid = ?", (vid,)).fetchone()[0]
        db.execute("UPDATE vm SET pool_body = ? WHERE oid = ?",
                   (re.sub(r"<EC2_\w+>[^<]*</EC2_\w+>", "", old), vid))
        db.execute("UPDATE schema_version SET version = 4")
    second = start_oned(tmp_path)
    try:
        listed = etree.fromstring(Caller(second.endpoint).ok("one.vmpool.info", -2, -1, -1, -1))
        assert listed.findtext("VM/USER_TEMPLATE/EC2_RESERVATION") == "r-0000002a"
    finally:
        second.stop()
    with database(tmp_path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone() == (SCHEMA_VERSION,)
