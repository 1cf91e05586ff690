"""ACL rules in oned: validity, and matching over the rules held in memory.

The numbers and the string form are `one.acl_syntax`'s. `RuleSet` holds every
rule indexed by its user part, as oned's multimap does, so a check never
touches the database (AclManager::authorize, ::reverse_search).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from one.acl_syntax import (ALL, CLUSTER, FEDERATED, GROUP, ID_MASK, INDIVIDUAL, NO_CLUSTER,
                            NO_GROUP, SELECTORS, TYPE_MASK, UNKNOWN_TYPES, ZONE_ID, rule_text,
                            signed)


@dataclass(frozen=True)
class Rule:
    oid: int
    user: int
    resource: int
    rights: int
    zone: int

    @property
    def key(self) -> tuple[int, int, int, int]:
        return self.user, self.resource, self.rights, self.zone

    @property
    def text(self) -> str:
        return rule_text(*self.key)

    def xml(self) -> str:
        """One ACL element of ACL_POOL: numbers in lower-case hex, as oned prints them."""
        return (f"<ACL><ID>{self.oid}</ID><USER>{self.user:x}</USER>"
                f"<RESOURCE>{self.resource:x}</RESOURCE><RIGHTS>{self.rights:x}</RIGHTS>"
                f"<ZONE>{self.zone:x}</ZONE><STRING>{self.text}</STRING></ACL>")


# -- validity (AclRule::malformed) ----------------------------------------------
def _exclusive(value: int, part: str, pairs: Iterable[tuple[int, int, str]]) -> list[str]:
    return [f"[{part}] {text} bits are exclusive" for a, b, text in pairs
            if value & a and value & b]


def _id_checks(value: int, part: str) -> list[str]:
    errors = [f"[{part}] ID cannot be negative"] if signed(value) < 0 else []
    if value & ALL and value & ID_MASK:
        errors.append(f"when using the ALL bit, [{part}] ID must be 0")
    return errors


def _user_errors(user: int) -> list[str]:
    errors = _exclusive(user, "user", ((INDIVIDUAL, GROUP, "INDIVIDUAL (#) and GROUP (@)"),
                                       (INDIVIDUAL, ALL, "INDIVIDUAL (#) and ALL (*)"),
                                       (GROUP, ALL, "GROUP (@) and ALL (*)")))
    if not user & (INDIVIDUAL | GROUP | ALL):
        errors.append("[user] is missing one of the INDIVIDUAL, GROUP or ALL bits")
    return errors + _id_checks(user, "user")


def _resource_errors(resource: int, zone: int) -> list[str]:
    selector, kinds, errors = resource & SELECTORS, resource & TYPE_MASK, []
    if selector and selector not in (INDIVIDUAL, GROUP, CLUSTER, ALL):
        errors.append("[resource] INDIVIDUAL (#), GROUP (@), CLUSTER (%) and ALL (*) bits "
                      "are exclusive")
    if resource & CLUSTER and kinds & NO_CLUSTER:
        errors.append("[resource] CLUSTER(%) selector can be applied only to DATASTORE, HOST "
                      "and NET types")
    if resource & GROUP and kinds & NO_GROUP:
        errors.append("[resource] GROUP(@) selector cannot be applied to HOST, GROUP, CLUSTER, "
                      "ZONE or VDC types")
    if not selector:
        errors.append("[resource] is missing one of the INDIVIDUAL, GROUP, CLUSTER or ALL bits")
    errors += _id_checks(resource, "resource")
    if not kinds:
        errors.append("[resource] type is missing")
    if resource & UNKNOWN_TYPES:
        errors.append("wrong [resource] type")
    if zone & ALL and resource & INDIVIDUAL and kinds & FEDERATED != kinds:
        errors.append("[resource] INDIVIDUAL(#) selector cannot be applied to ALL zones, "
                      "except for USER, GROUP and ZONE types")
    return errors


def _rights_errors(rights: int) -> list[str]:
    if rights == 0:
        return ["wrong [rights], it cannot be 0"]
    return ["wrong [rights], it cannot be bigger than 0xF"] if rights > 0xF else []


def _zone_errors(zone: int) -> list[str]:
    errors = ["[zone] GROUP (@) bit is not supported"] if zone & GROUP else []
    errors += _exclusive(zone, "zone", ((INDIVIDUAL, ALL, "INDIVIDUAL (#) and ALL (*)"),))
    if not zone & (INDIVIDUAL | GROUP | ALL):
        errors.append("[zone] is missing one of the INDIVIDUAL or ALL bits")
    return errors + _id_checks(zone, "zone")


def malformed(user: int, resource: int, rights: int, zone: int) -> str:
    """What is wrong with a rule, in oned's words ('' when nothing is)."""
    errors = (_user_errors(user) + _resource_errors(resource, zone) + _rights_errors(rights)
              + _zone_errors(zone))
    return "; ".join(errors)


# -- the rule set ----------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """What a check asks: `rights` on an object of type `kind` (a TYPES bit) with
    id `oid` and group `gid` (-1: none, as for a creation) in `clusters`."""

    kind: int
    rights: int
    oid: int = -1
    gid: int = -1
    clusters: tuple[int, ...] = ()


@dataclass
class Reach:
    """The objects of one type rules let a user reach (AclManager::reverse_search)."""

    all: bool = False
    oids: set[int] = field(default_factory=set)
    gids: set[int] = field(default_factory=set)
    cids: set[int] = field(default_factory=set)


def _zone_applies(zone: int) -> bool:
    return bool(zone & ALL) or zone & (INDIVIDUAL | ID_MASK) == INDIVIDUAL | ZONE_ID


def _resource_applies(resource: int, req: Request) -> bool:
    kind = req.kind
    if resource & (kind | ALL) == kind | ALL:
        return True
    wanted = [(GROUP, req.gid), (INDIVIDUAL, req.oid)] + [(CLUSTER, c) for c in req.clusters]
    return any(ident >= 0 and resource & (kind | selector | ID_MASK) == kind | selector | ident
               for selector, ident in wanted)


class RuleSet:
    """Every rule, in memory. Writers (under the store's writer lock) replace the
    index as a whole, so readers never lock and never see half a change."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._lock = threading.Lock()
        self._index: dict[int, tuple[Rule, ...]] = {}
        self.replace(rules)

    def replace(self, rules: Iterable[Rule]) -> None:
        index: dict[int, list[Rule]] = {}
        for rule in sorted(rules, key=lambda r: r.oid):
            index.setdefault(rule.user, []).append(rule)
        with self._lock:
            self._index = {user: tuple(found) for user, found in index.items()}

    def add(self, rule: Rule) -> None:
        with self._lock:
            index = dict(self._index)
            index[rule.user] = index.get(rule.user, ()) + (rule,)
            self._index = index

    def remove(self, oid: int) -> None:
        with self._lock:
            index = {user: tuple(r for r in rules if r.oid != oid)
                     for user, rules in self._index.items()}
            self._index = {user: rules for user, rules in index.items() if rules}

    def __iter__(self) -> Iterator[Rule]:
        """oned's order: by user part, then by id."""
        index = self._index
        return (rule for user in sorted(index) for rule in index[user])

    def get(self, oid: int) -> Rule | None:
        return next((rule for rule in self if rule.oid == oid), None)

    def find(self, key: tuple[int, int, int, int]) -> Rule | None:
        return next((rule for rule in self._index.get(key[0], ()) if rule.key == key), None)

    def _applying(self, uid: int, groups: Iterable[int], rights: int) -> Iterator[Rule]:
        index = self._index
        for user in (ALL, INDIVIDUAL | uid, *(GROUP | g for g in sorted(groups))):
            for rule in index.get(user, ()):
                if rule.rights & rights == rights and _zone_applies(rule.zone):
                    yield rule

    def grants(self, uid: int, groups: Iterable[int], req: Request) -> bool:
        """AclManager::authorize over the stored rules."""
        return any(_resource_applies(rule.resource, req)
                   for rule in self._applying(uid, groups, req.rights))

    def reach(self, uid: int, groups: Iterable[int], kind: int, rights: int) -> Reach:
        """Which objects of `kind` the rules open to this user for `rights`."""
        reach = Reach()
        for rule in self._applying(uid, groups, rights):
            resource, ident = rule.resource, rule.resource & ID_MASK
            if resource & (kind | ALL) == kind | ALL:
                return Reach(all=True)
            for selector, found in ((GROUP, reach.gids), (CLUSTER, reach.cids),
                                    (INDIVIDUAL, reach.oids)):
                if resource & (kind | selector) == kind | selector:
                    found.add(ident)
        return reach
