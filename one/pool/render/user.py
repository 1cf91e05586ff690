"""USER, GROUP and CLUSTER documents of the 7.4 API.

Groups and clusters list their members (users, hosts, networks); those lists
are read from the member tables when the document is asked for, so they are
rendered on read rather than stored.
"""
from __future__ import annotations

from typing import Iterable

from one.pool.credentials import token_fingerprint
from one.pool.models import Cluster, Group, User
from one.pool.render.common import el, esc, ids
from one.pool.render.quota import pool_entry

_END_USER = esc("</USER>").encode()


def _user_head(user: User) -> str:
    """PASSWORD is the stored salted hash (not usable as a secret); a LOGIN_TOKEN's
    TOKEN is only the fingerprint of its digest (the token is shown once, by login)."""
    tokens = "".join(
        f"<LOGIN_TOKEN>{el('TOKEN', token_fingerprint(t['DIGEST']))}"
        f"<EXPIRATION_TIME>{t['EXPIRATION_TIME']}"
        f"</EXPIRATION_TIME><EGID>{t['EGID']}</EGID></LOGIN_TOKEN>" for t in user.tokens)
    return (
        f"<ID>{user.oid}</ID><GID>{user.gid}</GID>{ids('GROUPS', user.groups)}"
        f"{el('GNAME', user.gname)}{el('NAME', user.name)}{el('PASSWORD', user.password)}"
        f"{el('AUTH_DRIVER', user.auth_driver)}<ENABLED>{int(user.enabled)}</ENABLED>"
        f"{tokens}{user.template.to_xml()}"
    )


def render_user(user: User) -> tuple[str, str]:
    """The stored document has no quotas: they live in their own rows and are
    spliced in on read (`user_document`), so charging a VM never re-renders users."""
    body = f"<USER>{_user_head(user)}</USER>"
    return body, body


def user_document(stored: bytes, quotas: bytes, defaults: bytes) -> list[bytes]:
    """one.user.info as escaped chunks: the stored USER with its quota sections and
    the default quotas put before its end tag."""
    return [stored[:-len(_END_USER)], quotas, esc("<DEFAULT_USER_QUOTAS>").encode(), defaults,
            esc("</DEFAULT_USER_QUOTAS></USER>").encode()]


def pool_quotas(oid: int, sections: bytes) -> list[bytes]:
    """A USER_POOL / GROUP_POOL QUOTAS element around escaped sections."""
    return [esc(f"<QUOTAS><ID>{oid}</ID>").encode(), sections, esc("</QUOTAS>").encode()]


def group_xml(group: Group, users: Iterable[int], admins: Iterable[int], quotas: str,
              defaults: str | None) -> str:
    """GROUP; the full document (`defaults` given) has its quotas, VLAN rules and the
    default quotas, a GROUP_POOL entry is followed by its QUOTAS."""
    head = (f"<ID>{group.oid}</ID>{el('NAME', group.name)}{group.template.to_xml()}"
            f"{ids('USERS', users)}{ids('ADMINS', admins)}")
    if defaults is None:
        return f"<GROUP>{head}</GROUP>{pool_entry(group.oid, quotas)}"
    vlans = f"<VLAN_RULES><ID>{group.oid}</ID></VLAN_RULES>"
    return f"<GROUP>{head}{quotas}{vlans}{defaults}</GROUP>"


def cluster_xml(cluster: Cluster, hosts: Iterable[int], datastores: Iterable[int],
                vnets: Iterable[int]) -> str:
    return (f"<CLUSTER><ID>{cluster.oid}</ID>{el('NAME', cluster.name)}"
            f"{ids('HOSTS', hosts)}{ids('DATASTORES', datastores)}{ids('VNETS', vnets)}"
            f"{cluster.template.to_xml()}</CLUSTER>")


def render_on_read(obj: object) -> tuple[str, str]:
    """Stored bodies of groups and clusters stay empty: they are built on read."""
    return "", ""
