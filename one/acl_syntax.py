"""The string form of OpenNebula's ACL rules, shared by oned and the CLI.

A rule is `USER RESOURCE RIGHTS [ZONE]`, each part a 64-bit number whose upper
32 bits say what kind of id the lower 32 bits hold (AclRule.h): `#id` an
individual user/object/zone, `@id` a group, `*` all, `%id` a cluster
(resources only). RESOURCE also carries one bit per object type
(PoolObjectSQL::ObjectType); RIGHTS is USE 0x1, MANAGE 0x2, ADMIN 0x4,
CREATE 0x8. No imports from the core: `oneacl` parses with this module as
OpenNebula's Ruby client does before it calls one.acl.addrule.
"""
from __future__ import annotations

import re
from typing import Sequence

INDIVIDUAL, GROUP, ALL, CLUSTER = 0x1_0000_0000, 0x2_0000_0000, 0x4_0000_0000, 0x8_0000_0000
ID_MASK = 0xFFFF_FFFF
SELECTORS = 0xF_0000_0000
TYPE_MASK = 0xFFFF_FFF0_0000_0000
UNKNOWN_TYPES = 0xFE80_0000_0000_0000  # HOOK, SCHEDULEDACTION and beyond: no rule names them
ZONE_ID = 0  # this oned's zone

# In OpenNebula's order (AclRule::pool_objects): the order of the string form.
TYPES: dict[str, int] = {
    "VM": 0x10_0000_0000, "HOST": 0x20_0000_0000, "NET": 0x40_0000_0000,
    "IMAGE": 0x80_0000_0000, "USER": 0x100_0000_0000, "TEMPLATE": 0x200_0000_0000,
    "GROUP": 0x400_0000_0000, "DATASTORE": 0x1000_0000_0000, "CLUSTER": 0x2000_0000_0000,
    "DOCUMENT": 0x4000_0000_0000, "ZONE": 0x8000_0000_0000, "SECGROUP": 0x1_0000_0000_0000,
    "VDC": 0x2_0000_0000_0000, "VROUTER": 0x4_0000_0000_0000,
    "MARKETPLACE": 0x8_0000_0000_0000, "MARKETPLACEAPP": 0x10_0000_0000_0000,
    "VMGROUP": 0x20_0000_0000_0000, "VNTEMPLATE": 0x40_0000_0000_0000,
    "BACKUPJOB": 0x100_0000_0000_0000,
}
ACL_TYPE = 0x800_0000_0000  # the ACL methods themselves: never written in a rule string
RIGHTS: dict[str, int] = {"USE": 0x1, "MANAGE": 0x2, "ADMIN": 0x4, "CREATE": 0x8}

NO_CLUSTER = (TYPES["VM"] | TYPES["IMAGE"] | TYPES["USER"] | TYPES["TEMPLATE"] | TYPES["GROUP"]
              | ACL_TYPE | TYPES["CLUSTER"] | TYPES["DOCUMENT"] | TYPES["ZONE"]
              | TYPES["SECGROUP"] | TYPES["VDC"] | TYPES["VROUTER"] | TYPES["MARKETPLACE"]
              | TYPES["MARKETPLACEAPP"] | TYPES["VMGROUP"] | TYPES["VNTEMPLATE"])
NO_GROUP = TYPES["HOST"] | TYPES["GROUP"] | TYPES["CLUSTER"] | TYPES["ZONE"] | TYPES["VDC"]
FEDERATED = TYPES["USER"] | TYPES["GROUP"] | TYPES["ZONE"] | ACL_TYPE | TYPES["VDC"]
_ID_TEXT = re.compile(r"[#@%]\d+|\*")
_SIGILS = {"#": INDIVIDUAL, "@": GROUP, "%": CLUSTER}
_SIGIL_OF = {bit: sigil for sigil, bit in _SIGILS.items()}


def _id_text(value: int, order: Sequence[int]) -> str:
    for selector in order:
        if value & selector:
            return "*" if selector == ALL else f"{_SIGIL_OF[selector]}{signed(value)}"
    return "??"


def signed(value: int) -> int:
    """The lower 32 bits as oned reads them: a C int."""
    low = value & ID_MASK
    return low - (1 << 32) if low >= 1 << 31 else low


# -- the string form ------------------------------------------------------------
def _id_value(text: str) -> int:
    if not _ID_TEXT.fullmatch(text):
        raise ValueError(f"ID string '{text}' malformed")
    return ALL if text == "*" else _SIGILS[text[0]] + int(text[1:])


def _named(text: str, table: dict[str, int], what: str) -> int:
    value = 0
    for name in text.split("+"):
        if name.upper() not in table:
            raise ValueError(f"{what} '{name}' does not exist")
        value |= table[name.upper()]
    return value


def parse(text: str) -> tuple[int, int, int, int]:
    """`USER RESOURCE RIGHTS [ZONE]` to numbers, as OpenNebula's clients parse it;
    a missing zone is this zone (`#0`)."""
    parts = text.split()
    if len(parts) not in (3, 4):
        raise ValueError("String needs three components: User, Resource, Rights")
    types, slash, selector = parts[1].partition("/")
    if not slash or "/" in selector:
        raise ValueError(f"Resource '{parts[1]}' malformed")
    zone = _id_value(parts[3]) if len(parts) == 4 else INDIVIDUAL | ZONE_ID
    return (_id_value(parts[0]), _named(types, TYPES, "Resource") | _id_value(selector),
            _named(parts[2], RIGHTS, "Right"), zone)


def number(text: str, what: str) -> int:
    """One part sent to one.acl.addrule: hexadecimal text, `0x` allowed, as oned reads it."""
    try:
        value = int(text.strip(), 16)
    except ValueError:
        raise ValueError(f"Wrong [{what}] '{text[:40]}': a hexadecimal number is expected.") from None
    if not 0 <= value < 1 << 64:
        raise ValueError(f"Wrong [{what}] '{text[:40]}': out of range.")
    return value




def rule_text(user: int, resource: int, rights: int, zone: int) -> str:
    """`@1 VM+IMAGE/* CREATE *`: the STRING of a rule (AclRule::build_str)."""
    types = "+".join(name for name, bit in TYPES.items() if resource & bit)
    names = "+".join(name for name, bit in RIGHTS.items() if rights & bit)
    return (f"{_id_text(user, (GROUP, INDIVIDUAL, ALL))} {types}/"
            f"{_id_text(resource, (GROUP, INDIVIDUAL, CLUSTER, ALL))} {names} "
            f"{_id_text(zone, (INDIVIDUAL, ALL))}")
