"""one.user.ec2keys_*: EC2 credentials of users, for the EC2 Query API server (one-econe).

OpenNebula's econe uses the login password as the EC2 secret; `one` stores no
usable password, so users get access keys of their own (see one.core.ec2keys).
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from one.core.auth import Session
from one.core.managers import Managers
from one.xmlrpc.api import Api, I, S, returns_id


def _key_xml(fields: dict[str, object]) -> str:
    body = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in fields.items())
    return f"<EC2_KEY>{body}</EC2_KEY>"


def register(api: Api, m: Managers) -> None:
    keys = m.ec2keys

    def create(s: Session, uid: int) -> str:
        access, secret = keys.create(s, uid)
        return _key_xml({"ACCESS_KEY_ID": access, "SECRET_ACCESS_KEY": secret})

    api.add("one.user.ec2keys_create", [I("id")], create,
            "Creates an EC2 access key for a user (-1: the caller); the secret is returned "
            "only this once.")

    def listing(s: Session, uid: int) -> str:
        rows = keys.list(s, uid)
        return "<EC2_KEYS>" + "".join(
            _key_xml({"ACCESS_KEY_ID": k.access_key, "UID": k.uid, "CREATED": k.created})
            for k in rows) + "</EC2_KEYS>"

    api.add("one.user.ec2keys_list", [I("id")], listing,
            "Lists a user's EC2 access key ids (never the secrets).")
    api.add("one.user.ec2keys_delete", [I("id"), S("access_key")], returns_id(keys.delete),
            "Deletes one of a user's EC2 access keys.")

    def secret(s: Session, access_key: str) -> str:
        user, plain = keys.secret(s, access_key)
        return _key_xml({"ACCESS_KEY_ID": access_key, "UID": user.oid, "UNAME": user.name,
                         "ENABLED": int(user.enabled), "SECRET_ACCESS_KEY": plain})

    api.add("one.user.ec2keys_secret", [S("access_key")], secret,
            "oneadmin group only: the owner and secret of an access key, for the EC2 server "
            "to verify a request signature.")
