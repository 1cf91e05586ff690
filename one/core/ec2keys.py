"""EC2 credentials: access keys whose secrets the EC2 front-end (one-econe) can read back.

EC2 signatures are HMACs, so whoever verifies one must hold the secret itself,
not a hash of it. Secrets are therefore stored encrypted (Fernet: AES-CBC +
HMAC) with a key that lives only in oned's var directory (`ec2_keys.key`,
mode 0600): a copy of the database alone reveals none of them. A secret is
shown to its user once, at creation; afterwards only the oneadmin group (the
account one-econe runs as) can read it, through `secret`.
"""
from __future__ import annotations

import base64
import os
import secrets
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from one.core.auth import Session
from one.core.authz import require_admin
from one.errors import ActionError, InternalError, NoExistsError
from one.pool.models import Ec2Key, User
from one.pool.pools import Pools

KEY_FILE = "ec2_keys.key"
MAX_KEYS = 2  # per user, as AWS allows
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _access_key_id() -> str:
    """AWS's shape: AKIA + 16 base32 characters (boto3 and the aws CLI accept any id)."""
    return "AKIA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def _secret_key() -> str:
    return base64.b64encode(secrets.token_bytes(30)).decode()  # 40 characters, as AWS's


def load_key(var_dir: str) -> Fernet:
    """The front-end key, created (0600, never overwritten) on first use."""
    path = Path(var_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key())
    return Fernet(path.read_bytes().strip())


class Ec2KeyManager:
    def __init__(self, pools: Pools, var_dir: str) -> None:
        self.pools = pools
        self.var_dir = var_dir
        self._fernet: Fernet | None = None

    @property
    def fernet(self) -> Fernet:
        if self._fernet is None:
            self._fernet = load_key(self.var_dir)
        return self._fernet

    def _owner(self, session: Session, uid: int) -> User:
        uid = session.uid if uid == -1 else uid
        if uid != session.uid:
            require_admin(session, f"MANAGE user [{uid}]")
        return self.pools.users.get(uid)

    def create(self, session: Session, uid: int) -> tuple[str, str]:
        """A new (access key id, secret); the secret is never returned again."""
        user = self._owner(session, uid)
        access, secret = _access_key_id(), _secret_key()
        sealed = self.fernet.encrypt(secret.encode()).decode()
        with self.pools.store.write():
            if Ec2Key.select().where(Ec2Key.uid == user.oid).count() >= MAX_KEYS:
                raise ActionError(f"User [{user.oid}] already has {MAX_KEYS} EC2 keys; "
                                  "delete one first.")
            Ec2Key.create(access_key=access, uid=user.oid, secret=sealed, created=int(time.time()))
        return access, secret

    def list(self, session: Session, uid: int) -> list[Ec2Key]:
        user = self._owner(session, uid)
        return list(Ec2Key.select().where(Ec2Key.uid == user.oid).order_by(Ec2Key.created))

    def delete(self, session: Session, uid: int, access_key: str) -> None:
        user = self._owner(session, uid)
        with self.pools.store.write():
            deleted = Ec2Key.delete().where((Ec2Key.access_key == access_key)
                                            & (Ec2Key.uid == user.oid)).execute()
        if not deleted:
            raise NoExistsError(f"Error getting EC2 key [{access_key}] of user [{user.oid}].")

    def secret(self, session: Session, access_key: str) -> tuple[User, str]:
        """The owner and plain secret of a key: for the EC2 front-end verifying a signature."""
        require_admin(session, "READ EC2 secret")
        key = Ec2Key.get_or_none(Ec2Key.access_key == access_key)
        user = User.get_or_none(User.oid == key.uid) if key is not None else None
        if key is None or user is None:
            raise NoExistsError(f"Error getting EC2 key [{access_key}].")
        try:
            return user, self.fernet.decrypt(key.secret.encode()).decode()
        except InvalidToken:
            raise InternalError(f"EC2 key [{access_key}] does not decrypt with {KEY_FILE}; "
                                "was the front-end key replaced?") from None
