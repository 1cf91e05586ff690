"""Tests of ``$VARIABLE`` substitution (OpenNebula's vm_var forms)."""
from __future__ import annotations

import pytest

from one.errors import TemplateSyntaxError
from one.pool.template import Template, parse_text
from one.pool.template_vars import substitute, substitute_template

VM = parse_text(
    """NAME = vm-7
    MEMORY = 512
    NIC = [ IP = 10.0.0.5, NETWORK = "Public", MAC = "02:00" ]
    NIC = [ IP = 192.168.1.9, NETWORK = "Private LAN" ]
    DISK = [ TARGET = vda, IMAGE = "base" ]
    DISK = [ TARGET = vdb, IMAGE = "data" ]
    VEC_ONLY = [ K = 1 ]
    """
)
NETWORKS = {
    ("NAME", "net"): Template([("GATEWAY", "10.0.0.1"), ("DNS", "8.8.8.8")]),
    ("NETWORK_ID", "3"): Template([("GATEWAY", "172.16.0.1"), ("V", {"K": "x"})]),
}
calls: list[tuple[str, str]] = []


def lookup(key: str, value: str) -> Template | None:
    calls.append((key, value))
    return NETWORKS.get((key, value))


def expand(text: str, **kwargs) -> str:
    return substitute(text, VM, lookup, {"UNAME": "oneadmin", "uid": "0"}, **kwargs)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("plain text, no variables", "plain text, no variables"),
        ("$NAME", "vm-7"),
        ("host-$name.example", "host-vm-7.example"),
        ("$MEMORY$MEMORY", "512512"),
        ("$UNAME:$UID", "oneadmin:0"),
        ("$MISSING|", "|"),
        ("$VEC_ONLY", ""),
        ("$NIC[IP]", "10.0.0.5"),
        ("$nic[ip]", "10.0.0.5"),
        ("$NIC[ MAC ]", "02:00"),
        ('$NIC[IP, NETWORK="Private LAN"]', "192.168.1.9"),
        ('$NIC[IP,network = "Private LAN" ]', "192.168.1.9"),
        ("$NIC[IP, NETWORK=Public]", "10.0.0.5"),
        ('$NIC[IP, NETWORK="private lan"]', ""),
        ('$NIC[MAC, NETWORK="Private LAN"]', ""),
        ("$NIC[NOPE]", ""),
        ("$DISK[TARGET]", "vda"),
        ('$DISK[TARGET, IMAGE="data"]', "vdb"),
        ("$NOVEC[X]", ""),
        ("$NAME[X]", ""),
        ('$NETWORK[GATEWAY, NAME="net"]', "10.0.0.1"),
        ('$network[dns, name="net"]', "8.8.8.8"),
        ('$NETWORK[GATEWAY, NETWORK_ID="3"]', "172.16.0.1"),
        ("$NETWORK[GATEWAY, NETWORK_ID=3]", "172.16.0.1"),
        ("$NETWORK[V, NETWORK_ID=3]", ""),
        ('$NETWORK[GATEWAY, NAME="other"]', ""),
        ("$NETWORK[GATEWAY]", ""),
        ("costs $5 or $_x or $", "costs $5 or $_x or $"),
        ("$$NAME", "$vm-7"),
        ("$NAME [IP]", "vm-7 [IP]"),
        ("a\nb $NAME\n", "a\nb vm-7\n"),
        ('ip=$NIC[IP] gw=$NETWORK[GATEWAY, NAME="net"] n=$NAME', "ip=10.0.0.5 gw=10.0.0.1 n=vm-7"),
    ],
)
def test_substitute(text, expected):
    assert expand(text) == expected


def test_extra_is_consulted_first():
    assert substitute("$NAME", VM, extra={"name": "override"}) == "override"


def test_network_lookup_receives_upper_key_and_raw_value():
    calls.clear()
    expand('$NETWORK[GATEWAY, name="net"] $NETWORK[DNS, network_id=3]')
    assert calls == [("NAME", "net"), ("NETWORK_ID", "3")]


def test_networks_without_lookup_expand_to_nothing():
    assert substitute('[$NETWORK[GATEWAY, NAME="net"]]', VM) == "[]"


@pytest.mark.parametrize(
    "text, message, line, column",
    [
        ("$NIC[", "unterminated variable '$NIC['", 1, 5),
        ("ab $NIC[IP", "unterminated variable '$NIC['", 1, 8),
        ("$NIC[IP,", "unterminated variable '$NIC['", 1, 5),
        ('$NIC[IP, NETWORK="x"', "unterminated variable '$NIC['", 1, 5),
        ('$NIC[IP, NETWORK="x]', "unterminated quoted string", 1, 18),
        ("$NIC[]", "expected an attribute name", 1, 6),
        ("$NIC[IP,,]", "expected an attribute name", 1, 9),
        ("$NIC[IP NETWORK]", "expected ']'", 1, 9),
        ("$NIC[IP, NETWORK]", "expected '=' after 'NETWORK'", 1, 17),
        ("$NIC[IP, NETWORK=]", "expected a value", 1, 18),
        ("line\n  $DISK[A.B]", "expected ']' in variable '$DISK['", 2, 10),
    ],
)
def test_malformed_variables(text, message, line, column):
    with pytest.raises(TemplateSyntaxError) as info:
        expand(text)
    assert message in str(info.value)
    assert (info.value.line, info.value.column) == (line, column)


def test_substitute_template_context_and_requirements():
    vm = parse_text(
        'NAME = web\nNIC = [ IP = 1.2.3.4 ]\nCONTEXT = [ HOSTNAME = "$NAME", IP = "$NIC[IP]",'
        ' USER = "$UNAME", SELF = "$CONTEXT[HOSTNAME]" ]\nREQUIREMENTS = "NAME != \\"$NAME\\""\n'
        "OTHER = $NAME"
    )
    substitute_template(vm, ["context", "REQUIREMENTS"], extra={"UNAME": "ann"})
    assert vm.vector("CONTEXT") == {
        "HOSTNAME": "web", "IP": "1.2.3.4", "SELF": "$NAME", "USER": "ann",
    }
    assert vm.get("REQUIREMENTS") == 'NAME != "web"'
    assert vm.get("OTHER") == "$NAME"


def test_substitute_template_with_a_separate_vm_and_networks():
    t = parse_text('CONTEXT = [ GW = "$NETWORK[GATEWAY, NAME=\\"net\\"]", M = "$MEMORY" ]')
    substitute_template(t, ["CONTEXT"], VM, lookup)
    assert t.vector("CONTEXT") == {"GW": "10.0.0.1", "M": "512"}
