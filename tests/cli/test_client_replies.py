"""Client.document's reading of XML-RPC replies as other servers (xmlrpc-c) write them."""
from __future__ import annotations

import pytest
from lxml import etree

from one.cli.client import _document_value
from one.cli.errors import ServerError

HEAD = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<methodResponse>\r\n<params>\r\n<param>"
        "<value><array><data>\r\n")


def reply(*values: str) -> bytes:
    return (HEAD + "".join(f"<value>{v}</value>\r\n" for v in values)
            + "</data></array></value>\r\n</param>\r\n</params>\r\n</methodResponse>\r\n").encode()


@pytest.mark.parametrize("escaped", [
    "&lt;VM&gt;&lt;NAME&gt;a &amp;amp; &#233;&#x4e2d; &amp;lt;&quot;&apos;&lt;/NAME&gt;&lt;/VM&gt;",
    "<![CDATA[<VM><NAME>a &amp; \u00e9\u4e2d &lt;\"'</NAME></VM>]]>",
])
def test_numeric_references_and_cdata_read_as_the_envelope_says(escaped: str) -> None:
    document = _document_value("m", reply("<boolean>1</boolean>", f"<string>{escaped}</string>",
                                          "<i4>0</i4>"))
    assert document.findtext("NAME") == "a & \u00e9\u4e2d <\"'"


def test_a_failure_reply_is_a_server_error_with_its_code() -> None:
    with pytest.raises(ServerError) as failure:
        _document_value("m", reply("<boolean>0</boolean>", "<string>[one.vm.info] no &lt;VM&gt;</string>",
                                   "<i4>1024</i4>"))
    assert failure.value.code == 1024 and failure.value.message == "[one.vm.info] no <VM>"


def test_an_untyped_string_value_is_read_too() -> None:
    document = _document_value("m", reply("<boolean>1</boolean>", "&lt;A&gt;b&lt;/A&gt;", "<i4>0</i4>"))
    assert etree.tostring(document) == b"<A>b</A>"
