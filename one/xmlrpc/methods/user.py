"""one.user.*, one.userpool.info, one.group.*, one.grouppool.info."""
from __future__ import annotations

from functools import partial

import peewee as pw

from one.core.auth import Session
from one.core.authz import USE, acl_visible, require
from one.core.managers import Managers
from one.errors import ApiError
from one.pool.models import Group, User
from one.pool.render import classic
from one.pool.render.common import wrap
from one.pool.pool import SHORT
from one.pool.quotas import DEFAULTS
from one.pool.render.user import pool_quotas, user_document
from one.xmlrpc.api import A, Api, B, I, S, returns_id
from one.xmlrpc.methods.listing import escaped_pool
from one.xmlrpc.wire import Escaped


def _or(mine: pw.Expression, granted: pw.Expression | None) -> pw.Expression | None:
    """What the caller sees anyway, or what rules open too (None: everything)."""
    return None if granted is None else mine | granted


def register(api: Api, m: Managers) -> None:
    users, groups = m.users, m.groups

    def allocate(s: Session, name: str, password: str, driver: str = "core",
                 group_ids: list | None = None) -> int:
        if group_ids and not all(type(g) is int for g in group_ids):
            raise ApiError("Group ids must be integers.")
        return users.allocate(s, name, password, driver or "core", group_ids or None)

    api.add("one.user.allocate", [S("username"), S("password"), S("driver"), A("group_ids", [])],
            allocate, "Allocates a new user (modern form: plain password and auth driver).")
    api.add("one.user.allocate", [S("username"), S("password")], allocate,
            "Classic form: the password as its SHA1 hex.")

    def info(s: Session, uid: int, decrypt: bool = False) -> str | Escaped:
        user = users.info(s, uid)
        if s.classic:
            return classic.user_xml(user)
        quotas, defaults = m.pools.quotas.texts("user", [user.oid, DEFAULTS])
        return Escaped(user_document(m.pools.users.text(user.oid), quotas, defaults))

    api.add("one.user.info", [I("id"), B("decrypt", False)], info, "Returns a user (-1: the caller).")

    api.add("one.user.delete", [I("id")], returns_id(users.delete), "Deletes a user.")
    api.add("one.user.passwd", [I("id"), S("password")], returns_id(users.passwd),
            "Changes a password.")
    api.add("one.user.login", [S("username"), S("token"), I("valid"), I("egid", -1)],
            users.login, "Creates (or with valid 0, revokes) a login token.")

    api.add("one.user.update", [I("id"), S("template"), I("append", 0)],
            returns_id(users.update), "Replaces (0) or merges (1) the user template.")
    api.add("one.user.chgrp", [I("id"), I("gid")], returns_id(users.chgrp),
            "Changes the primary group.")
    api.add("one.user.addgroup", [I("id"), I("gid")],
            returns_id(lambda s, uid, gid: users.addgroup(s, uid, gid, True)), "Adds a group.")
    api.add("one.user.delgroup", [I("id"), I("gid")],
            returns_id(lambda s, uid, gid: users.addgroup(s, uid, gid, False)),
            "Removes a secondary group.")
    api.add("one.user.enable", [I("id"), B("enable")], returns_id(users.enable),
            "Enables or disables a user.")

    def pool(s: Session) -> str | Escaped:
        where = None if s.is_admin else _or(User.oid == s.uid, acl_visible(User, s, "USER"))
        if s.classic:
            return wrap("USER_POOL", (classic.user_xml(u) for u in m.pools.users.select(where)))
        oids = m.pools.users.ids(where)
        quotas = m.pools.quotas.texts("user", [*oids, DEFAULTS])
        chunks = []
        for oid, text, sections in zip(oids, m.pools.users.texts(oids, SHORT), quotas):
            chunks += [text, *pool_quotas(oid, sections)]
        return escaped_pool("USER_POOL", chunks, tail=m.quotas.defaults_xml("user"))

    api.add("one.userpool.info", [], pool, "Lists users (all for oneadmin, else the caller).")
    _register_quotas(api, m, "user")
    _register_groups(api, m, groups)


def _register_groups(api: Api, m: Managers, groups) -> None:
    api.add("one.group.allocate", [S("name")], groups.allocate, "Allocates a group.")

    api.add("one.group.delete", [I("id")], returns_id(groups.delete), "Deletes an empty group.")

    def info(s: Session, gid: int, decrypt: bool = False) -> str:
        group = m.pools.groups.get(s.gid if gid == -1 else gid)
        require(s, group, USE, "GROUP")
        return groups.xml(group)

    api.add("one.group.info", [I("id"), B("decrypt", False)], info, "Returns a group.")

    for verb, add, doc in (("addadmin", True, "Makes a member an administrator of the group."),
                           ("deladmin", False, "Removes an administrator of the group.")):
        api.add(f"one.group.{verb}", [I("id"), I("user_id")],
                returns_id(partial(groups.set_admin, add=add)), doc)

    api.add("one.group.update", [I("id"), S("template"), I("append", 0)],
            returns_id(groups.update), "Replaces (0) or merges (1) the group template.")

    def pool(s: Session) -> str:
        where = None if s.is_admin else _or(Group.oid.in_(list(s.groups)),
                                            acl_visible(Group, s, "GROUP"))
        bodies = (groups.xml(g, full=False) for g in m.pools.groups.select(where))
        return wrap("GROUP_POOL", bodies, m.quotas.defaults_xml("group"))

    api.add("one.grouppool.info", [], pool, "Lists groups.")
    _register_quotas(api, m, "group")


def _register_quotas(api: Api, m: Managers, owner: str) -> None:
    """one.<owner>.quota and the default quotas, one.<owner>quota.info|update."""
    quotas = m.quotas
    api.add(f"one.{owner}.quota", [I("id"), S("template")],
            returns_id(lambda s, oid, text: quotas.set(s, owner, oid, text)),
            f"Sets the quota limits of a {owner} (-1: the default quota, -2: unlimited).")
    api.add(f"one.{owner}quota.info", [], lambda s: quotas.defaults_xml(owner),
            f"Returns the default {owner} quotas.")
    api.add(f"one.{owner}quota.update", [S("template")],
            lambda s, text: quotas.set_defaults(s, owner, text),
            f"Sets the default {owner} quotas (-2: unlimited) and returns them.")
