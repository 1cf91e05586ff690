"""Users: accounts, passwords and login tokens (stored hashed, see
`one.pool.credentials`), bootstrap."""
from __future__ import annotations

import secrets
import time
from contextlib import contextmanager
from typing import Iterator

from one.core.acl import AclManager
from one.core.auth import Authenticator, Session, is_sha1
from one.core.authz import ADMIN, MANAGE, USE, require, require_create
from one.core.ownership import check_name, updated_template
from one.errors import ActionError, AllocateError, ApiError, AuthorizationError, NoExistsError
from one.pool.credentials import hash_password, sha1_hex, token_digest, token_fingerprint
from one.pool.models import Ec2Key, Group, User
from one.pool.pools import Pools
from one.pool.template import Template, parse

USERS_GROUP = 1


class UserManager:
    def __init__(self, pools: Pools, auth: Authenticator, acl: AclManager) -> None:
        self.pools = pools
        self.auth = auth
        self.acl = acl

    @contextmanager
    def _changing(self, uid: int) -> Iterator[User]:
        """The user, read and saved in one write (an administrator's change made
        meanwhile is never put back); cached sessions are dropped once the change
        is committed, never before."""
        with self.pools.users.modify(uid) as user:
            self.pools.store.after_commit(self.auth.forget)
            yield user

    def _self_or(self, session: Session, uid: int, right: int) -> int:
        """Anyone acts on their own account; on another's, with `right` over it."""
        uid = session.uid if uid == -1 else uid
        if uid != session.uid:
            require(session, self.pools.users.get(uid), right, "USER")
        return uid

    def _checked(self, session: Session, uid: int, right: int) -> User:
        user = self.pools.users.get(uid)
        require(session, user, right, "USER")
        return user

    def _joining(self, session: Session, gid: int) -> Group:
        """A group a user is put in: the caller must MANAGE it."""
        group = self.pools.groups.get(gid)
        require(session, group, MANAGE, "GROUP")
        return group

    @staticmethod
    def set_password(user: User, password: str, classic: bool) -> None:
        """Classic callers send the SHA1 hex already; modern ones the password."""
        if not password:
            raise ApiError("Invalid password, it cannot be empty.")
        user.password = hash_password(
            password.lower() if classic and is_sha1(password) else sha1_hex(password))

    def allocate(self, session: Session, name: str, password: str, driver: str = "core",
                 group_ids: list[int] | None = None) -> int:
        require_create(session, "USER")
        check_name(name, "user", strict=True)
        groups = list(group_ids or [USERS_GROUP if session.gid == 0 else session.gid])
        found = {g.oid: g for g in Group.select().where(Group.oid.in_(groups))}
        missing = [g for g in groups if g not in found]
        if missing:
            raise NoExistsError(f"Error getting group [{missing[0]}].")
        for gid in set(groups) - {session.gid}:
            require(session, found[gid], MANAGE, "GROUP")
        with self.pools.store.write():
            taken = self.pools.users.get_by_name(name)
            if taken is not None:
                raise AllocateError(f"NAME is already taken by USER {taken.oid}.")
            user = User(name=name, gid=groups[0], gname=found[groups[0]].name,
                        groups=sorted(set(groups)), auth_driver=driver or "core", template=Template())
            self.set_password(user, password, session.classic)
            self.pools.users.allocate(user)
        return user.oid

    def bootstrap(self, name: str, password: str) -> None:
        """First start: oneadmin (uid 0) in group oneadmin, from ONE_AUTH."""
        user = User(name=name, gid=0, gname="oneadmin", groups=[0], template=Template())
        self.set_password(user, password, classic=False)
        self.pools.users.allocate(user, oid=0)

    def info(self, session: Session, uid: int) -> User:
        return self.pools.users.get(self._self_or(session, uid, USE))

    def delete(self, session: Session, uid: int) -> None:
        user = self._checked(session, uid, ADMIN)
        if user.oid == 0:
            raise ActionError("oneadmin cannot be deleted.")
        with self.pools.store.write():
            self.pools.users.drop(user)
            self.acl.drop_user(uid)
            self.pools.quotas.drop("user", uid)
            Ec2Key.delete().where(Ec2Key.uid == user.oid).execute()  # its EC2 credentials
            self.pools.store.after_commit(self.auth.forget)

    def passwd(self, session: Session, uid: int, password: str) -> None:
        with self._changing(self._self_or(session, uid, MANAGE)) as user:
            self.set_password(user, password, session.classic)

    def enable(self, session: Session, uid: int, enabled: bool) -> None:
        with self._changing(uid) as user:
            require(session, user, ADMIN, "USER")
            if user.oid == 0 and not enabled:
                raise ActionError("oneadmin cannot be disabled.")
            user.enabled = enabled

    def update(self, session: Session, uid: int, text: str, append: int) -> None:
        new = parse(text, self.pools.limits)
        with self._changing(self._self_or(session, uid, MANAGE)) as user:
            user.template = updated_template(user.template, new, append, self.pools.limits)

    def chgrp(self, session: Session, uid: int, gid: int) -> None:
        with self._changing(uid) as user:
            require(session, user, MANAGE, "USER")
            group = self._joining(session, gid)
            if user.gid != group.oid:
                self.acl.demote(user.gid, uid)
            user.groups = sorted((set(user.groups) - {user.gid}) | {group.oid})
            user.gid, user.gname = group.oid, group.name

    def addgroup(self, session: Session, uid: int, gid: int, add: bool) -> None:
        with self._changing(uid) as user:
            require(session, user, MANAGE, "USER")
            group = self._joining(session, gid)
            if not add and group.oid == user.gid:
                raise ActionError("Cannot remove the user from its primary group.")
            if not add:
                self.acl.demote(group.oid, uid)
            groups = set(user.groups)
            groups = groups | {group.oid} if add else groups - {group.oid}
            user.groups = sorted(groups)

    def login(self, session: Session, name: str, token: str, valid: int, egid: int = -1) -> str:
        """A token that authenticates as the password does; valid 0 revokes, -1 never expires.

        Only the token's digest is stored, so the token is returned this once.
        Revoking takes the token itself or the fingerprint user documents show.
        """
        user = self.pools.users.get_by_name(name)
        if user is None:
            raise NoExistsError(f"Error getting user [{name}].")
        if user.oid != session.uid and not session.is_admin:
            raise AuthorizationError(f"User [{session.uid}] : Not authorized to login as {name}.")
        digest, now = token_digest(token), time.time()
        with self._changing(user.oid) as user:
            # expired tokens go too, as OpenNebula's LoginTokenPool::reset_expired: a client
            # taking a token an hour (one-econe) must not grow the user without bound
            tokens = [t for t in user.tokens
                      if t["DIGEST"] != digest and token_fingerprint(t["DIGEST"]) != token
                      and (t["EXPIRATION_TIME"] < 0 or t["EXPIRATION_TIME"] > now)]
            if valid == 0:
                user.tokens = tokens if token else []
                return token
            token = token or secrets.token_hex(20)
            expires = -1 if valid < 0 else int(time.time()) + valid
            user.tokens = tokens + [{"DIGEST": token_digest(token), "EXPIRATION_TIME": expires,
                                     "EGID": egid}]
        return token
