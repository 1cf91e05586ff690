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


Target = tuple[int, int]  # (selector bit, id): what a rule's resource part selects
_SELECTOR_OF = {GROUP: "gids", CLUSTER: "cids", INDIVIDUAL: "oids"}


def _by_target(rules: Iterable[Rule]) -> dict[Target, tuple[Rule, ...]]:
    """One user part's rules that apply in this zone, by what they select. A stored
    rule is never malformed, so it has exactly one selector bit."""
    index: dict[Target, list[Rule]] = {}
    for rule in rules:
        if _zone_applies(rule.zone):
            selector = rule.resource & SELECTORS
            index.setdefault((selector, 0 if selector == ALL else rule.resource & ID_MASK),
                             []).append(rule)
    return {target: tuple(found) for target, found in index.items()}


def _grant(rules: Iterable[Rule], kind: int, rights: int) -> bool:
    return any(rule.resource & kind and rule.rights & rights == rights for rule in rules)


class RuleSet:
    """Every rule, in memory, by user part and then by what it selects, so a check
    looks only at the rules that could match (oned scans them all). Writers (under
    the store's writer lock) swap in a new index, so readers never lock and never
    see half a change."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._lock = threading.Lock()
        self._rules: dict[int, tuple[Rule, ...]] = {}
        self._targets: dict[int, dict[Target, tuple[Rule, ...]]] = {}
        self.replace(rules)

    def _swap(self, rules: dict[int, tuple[Rule, ...]], changed: Iterable[int]) -> None:
        """Install `rules`, re-indexing the user parts that `changed`; hold the lock."""
        targets = dict(self._targets)
        for user in changed:
            targets.pop(user, None)
            if rules.get(user):
                targets[user] = _by_target(rules[user])
        self._rules = {user: found for user, found in rules.items() if found}
        self._targets = targets

    def replace(self, rules: Iterable[Rule]) -> None:
        index: dict[int, list[Rule]] = {}
        for rule in sorted(rules, key=lambda r: r.oid):
            index.setdefault(rule.user, []).append(rule)
        with self._lock:
            self._targets = {}
            self._swap({user: tuple(found) for user, found in index.items()}, index)

    def add(self, rule: Rule) -> None:
        with self._lock:
            self._swap({**self._rules, rule.user: self._rules.get(rule.user, ()) + (rule,)},
                       (rule.user,))

    def remove(self, oid: int) -> None:
        with self._lock:
            users = [user for user, rules in self._rules.items() if any(r.oid == oid for r in rules)]
            self._swap({**self._rules, **{user: tuple(r for r in self._rules[user] if r.oid != oid)
                                          for user in users}}, users)

    def __iter__(self) -> Iterator[Rule]:
        """oned's order: by user part, then by id."""
        index = self._rules
        return (rule for user in sorted(index) for rule in index[user])

    def get(self, oid: int) -> Rule | None:
        return next((rule for rule in self if rule.oid == oid), None)

    def find(self, key: tuple[int, int, int, int]) -> Rule | None:
        return next((rule for rule in self._rules.get(key[0], ()) if rule.key == key), None)

    def _held(self, uid: int, groups: Iterable[int]) -> Iterator[dict[Target, tuple[Rule, ...]]]:
        """The indexed rules for everyone, for the user, and for each of their groups."""
        targets = self._targets
        for user in (ALL, INDIVIDUAL | uid, *(GROUP | g for g in sorted(groups))):
            if user in targets:
                yield targets[user]

    def grants(self, uid: int, groups: Iterable[int], req: Request) -> bool:
        """AclManager::authorize over the stored rules."""
        wanted = [(ALL, 0)] + [(selector, ident) for selector, ident in
                               ((GROUP, req.gid), (INDIVIDUAL, req.oid)) if ident >= 0]
        wanted += [(CLUSTER, cid) for cid in req.clusters]
        return any(_grant(held.get(target, ()), req.kind, req.rights)
                   for held in self._held(uid, groups) for target in wanted)

    def reach(self, uid: int, groups: Iterable[int], kind: int, rights: int) -> Reach:
        """Which objects of `kind` the rules open to this user for `rights`."""
        reach = Reach()
        for held in self._held(uid, groups):
            for (selector, ident), rules in held.items():
                if not _grant(rules, kind, rights):
                    continue
                if selector == ALL:
                    return Reach(all=True)
                getattr(reach, _SELECTOR_OF[selector]).add(ident)
        return reach
