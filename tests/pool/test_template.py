"""Tests of the template language: text syntax, XML form, the Template model.

Speed (not asserted): ``timeit`` on the ~0.7 KB ``VM_TEMPLATE`` below, CPython 3.11,
gives about 60 µs per ``parse_text`` call, 50 µs per ``parse_xml`` and 12 µs per
``to_xml``.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from one.errors import InternalError, TemplateSyntaxError
from one.pool.template import Template, parse, parse_text, parse_xml

VM_TEMPLATE = r'''NAME = "web-01"
CPU = 0.5
VCPU = 2
MEMORY = 1024
# the boot disk
DISK = [ IMAGE = "ubuntu-22.04", IMAGE_UNAME = "oneadmin", SIZE = 20480, DEV_PREFIX = "vd" ]
DISK = [ TYPE = "fs", SIZE = 4096, FORMAT = "raw" ]
NIC = [ NETWORK = "Private LAN", NETWORK_UNAME = "oneadmin", MODEL = "virtio" ]
NIC = [ NETWORK = "public", SECURITY_GROUPS = "0,100" ]
GRAPHICS = [ TYPE = "VNC", LISTEN = "0.0.0.0", KEYMAP = "en-us" ]
OS = [ ARCH = "x86_64", BOOT = "disk0" ]
CONTEXT = [ NETWORK = "YES", SSH_PUBLIC_KEY = "$USER[SSH_PUBLIC_KEY]",
  HOSTNAME = "$NAME", ETH0_IP = "$NIC[IP, NETWORK=\"Private LAN\"]",
  START_SCRIPT = "#!/bin/sh\necho hello > /tmp/x" ]
SCHED_REQUIREMENTS = "CLUSTER_ID = 100 & FREE_CPU > 50"
LABELS = "web,prod"
DESCRIPTION = "front end web server for the shop"
'''


def syntax_error(text: str, parser=parse) -> TemplateSyntaxError:
    with pytest.raises(TemplateSyntaxError) as info:
        parser(text)
    return info.value


# ---------------------------------------------------------------- text syntax

def test_vm_template():
    t = parse_text(VM_TEMPLATE)
    assert t.get("name") == "web-01"
    assert t.get("CPU") == "0.5"
    assert [d["SIZE"] for d in t.vectors("DISK")] == ["20480", "4096"]
    assert t.vector("NIC")["NETWORK"] == "Private LAN"
    assert t.vector("CONTEXT")["ETH0_IP"] == '$NIC[IP, NETWORK="Private LAN"]'
    assert t.vector("CONTEXT")["START_SCRIPT"] == "#!/bin/sh\\necho hello > /tmp/x"
    assert t.get("SCHED_REQUIREMENTS") == "CLUSTER_ID = 100 & FREE_CPU > 50"
    assert t.names() == sorted(t.names())
    assert len(t) == 14


def test_comments_blanks_and_several_attributes_per_line():
    text = "# first\n\n   # indented comment\n\tA = 1  B=2\n\n  C =3 # not a comment?\n"
    assert syntax_error(text).line == 6
    t = parse_text("# first\n\n   # indented\n\tA = 1  B=2\r\n\n  C =3\n# last")
    assert t.attrs == [("A", "1"), ("B", "2"), ("C", "3")]


def test_empty_input():
    assert parse_text("") == Template()
    assert parse_text(" \n# only a comment\n") == Template()
    assert parse("   ") == Template()


def test_names_are_case_insensitive_and_upper_cased():
    t = parse_text("memory = 1\nMemory = 2\ndisk = [ image_id = 3 ]")
    assert t.attrs == [("DISK", {"IMAGE_ID": "3"}), ("MEMORY", "1"), ("MEMORY", "2")]
    assert t.values("mEmOrY") == ["1", "2"]
    assert t.vector("Disk") == {"IMAGE_ID": "3"}


@pytest.mark.parametrize(
    "text, value",
    [
        ("A =\nB = 2", ""),
        ("A =", ""),
        ("A =   \t\nB = 2", ""),
        ("A=\n# comment\nB = 2", ""),
        ('A = ""', ""),
        ("A=x", "x"),
        ("A = /var/lib/one:ds-0.5_x", "/var/lib/one:ds-0.5_x"),
        ('A = "two\nlines"', "two\nlines"),
        ('A = "# not a comment"', "# not a comment"),
        (r'A = "q\"uote"', 'q"uote'),
        (r'A = "back\\slash"', "back\\slash"),
        (r'A = "other \n \t \x backslashes\\"', "other \\n \\t \\x backslashes\\"),
        ('A = "CR\r\nLF"', "CR\r\nLF"),
        ('A = "ünïcödé ✓ 𝄞"', "ünïcödé ✓ 𝄞"),
        ("A = ünïcödé", "ünïcödé"),
        ("A = x'y", "x'y"),
    ],
)
def test_single_values(text, value):
    assert parse_text(text).get("A") == value


def test_vectors():
    t = parse_text('D = [\n  k = v,\n  K2 = "v 2" ,k3=\n"v3"\n]\nE=[ONE=1]')
    assert t.vector("D") == {"K": "v", "K2": "v 2", "K3": "v3"}
    assert list(t.vector("D")) == ["K", "K2", "K3"]
    assert t.vector("E") == {"ONE": "1"}


def test_vector_keys_sorted_and_first_repeated_key_wins():
    t = parse_text("D = [ Z = 1, a = 2, z = 3, A = 4 ]")
    assert list(t.vector("D").items()) == [("A", "2"), ("Z", "1")]


def test_empty_vector_values():
    assert parse_text("D = [ A = , B = ]").vector("D") == {"A": "", "B": ""}
    assert parse_text("D = [ A =\n, B =\n]").vector("D") == {"A": "", "B": ""}


def test_repeated_names_keep_order_and_attrs_are_sorted():
    t = parse_text("NIC=[N=2]\nCPU=1\nNIC=[N=1]\nDISK=[S=9]\nNIC=[N=3]")
    assert t.names() == ["CPU", "DISK", "NIC"]
    assert [v["N"] for v in t.vectors("NIC")] == ["2", "1", "3"]


def test_single_and_vector_with_the_same_name():
    t = parse_text("X = [K = 1]\nX = plain")
    assert t.get("X") == "plain"
    assert t.vector("X") == {"K": "1"}
    assert t.values("X") == [{"K": "1"}, "plain"]


@pytest.mark.parametrize(
    "text, message, line, column",
    [
        ("A", "expected '=' after attribute name 'A'", 1, 2),
        ("\n\n  MEMORY 512", "expected '=' after attribute name 'MEMORY'", 3, 10),
        ("A\n= 1", "expected '=' after attribute name 'A'", 2, 1),
        ('A = "open', "unterminated quoted string", 1, 5),
        ('A = 1\nB = "x\\"', "unterminated quoted string", 2, 5),
        ("A = [ ]", "empty vector 'A'", 1, 7),
        ("DISK = [\n\n]", "empty vector 'DISK'", 3, 1),
        (",", "unexpected ','", 1, 1),
        ("A = 1,\nB = 2", "unexpected ','", 1, 6),
        ("A = ,", "unexpected ','", 1, 5),
        ("A = = 1", "unexpected '='", 1, 5),
        ("A = ]", "unexpected ']'", 1, 5),
        ("A = 1 # trailing", "unexpected '#'", 1, 7),
        ("A = x#y", "unexpected '#'", 1, 6),
        ('A = "x"B = 1', "expected a blank or newline after 'A'", 1, 8),
        ("A = [K=1]B=2", "expected a blank or newline after 'A'", 1, 10),
        ("A.B = 1", "invalid character '.' in attribute name 'A.B'", 1, 2),
        ("ÄB = 1", "invalid character 'Ä' in attribute name", 1, 1),
        ('"A" = 1', "unexpected quoted string", 1, 1),
        ("A = [ K = 1", "unterminated vector 'A'", 1, 12),
        ("A = [", "unterminated vector 'A'", 1, 6),
        ("A = [ K = ", "unterminated vector 'A'", 1, 11),
        ("A = [ K = 1,", "unterminated vector 'A'", 1, 13),
        ("A = [ K = 1 L = 2 ]", "expected ',' or ']' in vector 'A'", 1, 13),
        ("A = [ K = 1, ]", "unexpected ']', expected key name of vector 'A'", 1, 14),
        ("A = [ , K = 1 ]", "unexpected ','", 1, 7),
        ("A = [ K ]", "expected '=' after key 'K' in vector 'A'", 1, 9),
        ("A = [ K.X = 1 ]", "invalid character '.' in key name 'K.X' of vector 'A'", 1, 8),
        ("A = [ K = [ L = 1 ] ]", "nested vectors are not allowed", 1, 11),
        ("A = [ K = = ]", "unexpected '=' in vector 'A'", 1, 11),
        ('A = [ K = "x ]', "unterminated quoted string", 1, 11),
        ("A = 1\nB = x\x01y", "character U+0001 is not allowed", 2, 6),
        ("A = '\x00'", "character U+0000 is not allowed", 1, 6),
        ('A = "\ufffe"', "character U+FFFE is not allowed", 1, 6),
        ('A = "\ud800"', "character U+D800 is not allowed", 1, 6),
    ],
)
def test_syntax_errors(text, message, line, column):
    error = syntax_error(text)
    assert message in str(error)
    assert (error.line, error.column) == (line, column)
    assert str(error).startswith(f"Parse error at line {line}, column {column}: ")


def test_syntax_error_is_an_internal_error():
    error = syntax_error("A")
    assert isinstance(error, InternalError)
    assert error.code == 0x2000


# ---------------------------------------------------------------- rendering

def test_to_text():
    t = Template([("b", 'say "hi" \\o/'), ("A", ""), ("d", {"y": "2", "x": "1"})])
    assert t.to_text() == 'A=""\nB="say \\"hi\\" \\\\o/"\nD=[\n  X="1",\n  Y="2" ]\n'
    assert parse_text(t.to_text()) == t
    assert Template().to_text() == ""


def test_to_xml():
    t = Template([("NAME", "vm"), ("DISK", {"SOURCE": "/x"}), ("E", "")])
    assert t.to_xml() == (
        "<TEMPLATE><DISK><SOURCE><![CDATA[/x]]></SOURCE></DISK>"
        "<E><![CDATA[]]></E><NAME><![CDATA[vm]]></NAME></TEMPLATE>"
    )
    assert t.to_xml("USER_TEMPLATE").startswith("<USER_TEMPLATE><DISK>")
    assert Template().to_xml() == "<TEMPLATE></TEMPLATE>"


@pytest.mark.parametrize("value", ["]]>", "a]]>b]]>", "]]]>>", "]]", "x\ry", "\r\n", "<&>"])
def test_xml_escaping_round_trips(value):
    t = Template([("A", value), ("V", {"K": value})])
    assert parse_xml(t.to_xml()) == t


def test_xml_body_skips_names():
    t = Template([("A", "1"), ("B", "2"), ("C", {"K": "3"})])
    assert t.xml_body(skip={"B", "C"}) == "<A><![CDATA[1]]></A>"
    assert t.to_xml() == f"<TEMPLATE>{t.xml_body()}</TEMPLATE>"


def test_names_starting_with_a_digit_survive_xml():
    t = parse_text("1ST = a\nV = [ 2ND = b ]")
    assert t.to_xml() == (
        "<TEMPLATE><_.1ST><![CDATA[a]]></_.1ST>"
        "<V><_.2ND><![CDATA[b]]></_.2ND></V></TEMPLATE>"
    )
    assert parse_xml(t.to_xml()) == t


# ---------------------------------------------------------------- XML form

def test_parse_xml():
    t = parse_xml(
        "<VMTEMPLATE>\n  <name>vm</name>\n  <EMPTY/>\n  <E2></E2>\n"
        "  <DISK>\n    <source><![CDATA[/a]]]]><![CDATA[>b]]></source>\n    <SIZE/>\n  </DISK>\n"
        "  <!-- comment --><?pi x?>\n  <TXT>a &amp; b<!-- c --> c&#13;</TXT>\n</VMTEMPLATE>"
    )
    assert t.attrs == [
        ("DISK", {"SIZE": "", "SOURCE": "/a]]>b"}),
        ("E2", ""),
        ("EMPTY", ""),
        ("NAME", "vm"),
        ("TXT", "a & b c\r"),
    ]


def test_parse_xml_keeps_first_repeated_key_and_repeated_names():
    t = parse_xml("<T><D><K>1</K><k>2</k></D><D><K>3</K></D></T>")
    assert t.vectors("D") == [{"K": "1"}, {"K": "3"}]


def test_parse_xml_with_declaration():
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n<T><A>é</A></T>'
    assert parse(xml) == Template([("A", "é")])
    error = syntax_error('<?xml version="1.0"?>\n<T><A></B></T>')
    assert error.line == 2


@pytest.mark.parametrize(
    "xml, message, line, column",
    [
        ("<T><A>x</B></T>", "Opening and ending tag mismatch", 1, 12),
        ("<T>\n  <1A/></T>", "invalid element name", 2, 4),
        ("<T><A>", "", 1, 7),
        ("", "Document is empty", 1, 1),
        ("<T>\n <D><K><X/></K></D></T>", "nested vectors are not allowed", 2, 5),
        ("<T>\n  <A-B>1</A-B></T>", "invalid attribute name 'A-B'", 2, 3),
        ("<T>\n <D><k.x/></D></T>", "invalid attribute name 'k.x'", 2, 5),
        ("<T><A>&undefined;</A></T>", "Entity 'undefined' not defined", 1, 18),
        ("<T>\x01</T>", "invalid Char value 1", 1, 4),
    ],
)
def test_xml_errors(xml, message, line, column):
    error = syntax_error(xml, parse_xml)
    assert message in str(error)
    assert (error.line, error.column) == (line, column)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE T [<!ENTITY e "expanded">]>',
        '<!DOCTYPE T [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE T [<!ENTITY e SYSTEM "http://127.0.0.1:9/x">]>',
    ],
)
def test_xml_entities_are_never_resolved(doctype):
    error = syntax_error(doctype + "\n<T>\n <A>x&e;</A></T>", parse_xml)
    assert "entity reference &e; is not supported" in str(error)
    assert (error.line, error.column) == (3, 2)


def test_parse_dispatches_on_first_character():
    assert parse("  \n <T><A>1</A></T>") == parse("A = 1")
    assert parse("A = <x>").get("A") == "<x>"


# ---------------------------------------------------------------- the model

def test_constructor_normalises():
    t = Template([("b", "1"), ("a", {"z": "1", "Y": "2", "y": "3"}), ("B", "0")])
    assert t.attrs == [("A", {"Y": "2", "Z": "1"}), ("B", "1"), ("B", "0")]
    for bad in ([("A", {})], [("", "x")], [("A B", "x")], [("A", {"K-1": "x"})]):
        with pytest.raises(ValueError):
            Template(bad)
    for bad in ([("A", 1)], [("A", {"K": 1})]):
        with pytest.raises(TypeError):
            Template(bad)


def test_get_vector_values():
    t = Template([("A", {"K": "v"}), ("A", "s1"), ("A", "s2"), ("B", "b")])
    assert t.get("a") == "s1"
    assert t.get("missing") is None
    assert t.get("missing", "dflt") == "dflt"
    assert t.get("A", "dflt") == "s1"
    assert Template([("V", {"K": "v"})]).get("V", "d") == "d"
    assert t.vector("a") == {"K": "v"}
    assert t.vector("B") is None
    assert t.vectors("B") == []
    assert t.values("A") == [{"K": "v"}, "s1", "s2"]
    assert t.values("Z") == []


def test_set_add_remove():
    t = Template([("NIC", {"N": "1"}), ("NIC", {"N": "2"}), ("CPU", "1")])
    t.add("nic", {"n": "3"})
    t.add("AAA", "first")
    t.add("ZZZ", "last")
    assert t.names() == ["AAA", "CPU", "NIC", "ZZZ"]
    assert [v["N"] for v in t.vectors("NIC")] == ["1", "2", "3"]
    t.set("nic", "plain")
    assert t.values("NIC") == ["plain"]
    t.set("NEW", {"k": "v"})
    assert t.vector("NEW") == {"K": "v"}
    assert t.remove("aaa") == 1
    assert t.remove("AAA") == 0
    assert t.names() == ["CPU", "NEW", "NIC", "ZZZ"]


def test_merge_replaces_every_attribute_of_a_merged_name():
    t = parse_text("CPU=1\nNIC=[N=1]\nNIC=[N=2]\nDISK=[S=1]\nLABEL=x")
    t.merge(parse_text("NIC=[N=9]\nMEMORY=512\nlabel=y\nLABEL=z"))
    assert t == parse_text("CPU=1\nDISK=[S=1]\nLABEL=y\nLABEL=z\nMEMORY=512\nNIC=[N=9]")


def test_merge_does_not_share_vectors():
    other = parse_text("D=[K=1]")
    t = Template()
    t.merge(other)
    other.vector("D")["K"] = "changed"
    assert t.vector("D") == {"K": "1"}


def test_copy_is_deep():
    t = parse_text("D=[K=1]\nA=1")
    c = t.copy()
    assert c == t and c is not t
    c.vector("D")["K"] = "2"
    c.add("B", "2")
    assert t == parse_text("D=[K=1]\nA=1")


def test_contains_len_eq():
    t = parse_text("A=1\nA=2\nV=[K=1]")
    assert "a" in t and "V" in t and "K" not in t and 3 not in t
    assert len(t) == 3
    assert t == parse_xml(t.to_xml())
    assert t != parse_text("A=1\nA=2\nV=[K=2]")
    assert t != parse_text("A=2\nA=1\nV=[K=1]")
    assert t != "A=1"


# ---------------------------------------------------------------- properties

_SPECIAL = ["]]>", "\\", '"', '\\"', "\r", "\r\n", "\n", "#", ",", "[", "]", "=", " ", "\t", "$"]
_CHAR = st.characters(blacklist_categories=("Cs", "Cc")).filter(
    lambda c: c not in "\ufffe\uffff"
)
_TEXT = st.lists(
    st.one_of(st.sampled_from(_SPECIAL), st.text(_CHAR, max_size=4)), max_size=6
).map("".join)
_NAMES = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", min_size=1, max_size=6)
_VALUES = st.one_of(_TEXT, st.dictionaries(_NAMES, _TEXT, min_size=1, max_size=4))
_TEMPLATES = st.lists(st.tuples(_NAMES, _VALUES), max_size=6).map(Template)


@settings(max_examples=150, deadline=None)
@given(_TEMPLATES)
def test_text_round_trip(t):
    assert parse_text(t.to_text()) == t


@settings(max_examples=150, deadline=None)
@given(_TEMPLATES)
def test_xml_round_trip(t):
    assert parse_xml(t.to_xml()) == t
    assert parse(t.to_xml("ANY")) == t


@settings(max_examples=100, deadline=None)
@given(_TEMPLATES)
def test_text_xml_text_identity(t):
    text = t.to_text()
    assert parse_xml(parse_text(text).to_xml()).to_text() == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(' \t\r\n#aZ1_=",[]\\.é\x01') + ["K=", '"x"']), max_size=16))
def test_arbitrary_text_parses_or_fails_with_a_position(pieces):
    text = "".join(pieces)
    try:
        t = parse_text(text)
    except TemplateSyntaxError as error:
        lines = text.split("\n")
        assert 1 <= error.line <= len(lines)
        assert 1 <= error.column <= len(lines[error.line - 1]) + 1
    else:
        assert parse_text(t.to_text()) == t
