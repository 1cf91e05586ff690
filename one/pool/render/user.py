"""USER, GROUP and CLUSTER documents of the 7.4 API.

Groups and clusters list their members (users, hosts, networks); those lists
are read from the member tables when the document is asked for, so they are
rendered on read rather than stored.
"""
from __future__ import annotations

from typing import Iterable

from one.pool.credentials import token_fingerprint
from one.pool.models import Cluster, Group, User
from one.pool.render.common import el, ids

QUOTAS = "<DATASTORE_QUOTA/><NETWORK_QUOTA/><VM_QUOTA/><IMAGE_QUOTA/>"


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
    head = _user_head(user)
    full = f"<USER>{head}{QUOTAS}<DEFAULT_USER_QUOTAS>{QUOTAS}</DEFAULT_USER_QUOTAS></USER>"
    return full, f"<USER>{head}</USER>"


def user_pool_tail() -> str:
    """USER_POOL ends with the default quotas, as user_pool.xsd requires."""
    return f"<DEFAULT_USER_QUOTAS>{QUOTAS}</DEFAULT_USER_QUOTAS>"


def group_xml(group: Group, users: Iterable[int], admins: Iterable[int], full: bool) -> str:
    head = (f"<ID>{group.oid}</ID>{el('NAME', group.name)}{group.template.to_xml()}"
            f"{ids('USERS', users)}{ids('ADMINS', admins)}")
    if full:
        head += (f"{QUOTAS}<VLAN_RULES><ID>{group.oid}</ID></VLAN_RULES>"
                 f"<DEFAULT_GROUP_QUOTAS>{QUOTAS}</DEFAULT_GROUP_QUOTAS>")
    return f"<GROUP>{head}</GROUP>"


def group_pool_tail() -> str:
    return f"<DEFAULT_GROUP_QUOTAS>{QUOTAS}</DEFAULT_GROUP_QUOTAS>"


def cluster_xml(cluster: Cluster, hosts: Iterable[int], datastores: Iterable[int],
                vnets: Iterable[int]) -> str:
    return (f"<CLUSTER><ID>{cluster.oid}</ID>{el('NAME', cluster.name)}"
            f"{ids('HOSTS', hosts)}{ids('DATASTORES', datastores)}{ids('VNETS', vnets)}"
            f"{cluster.template.to_xml()}</CLUSTER>")


def render_on_read(obj: object) -> tuple[str, str]:
    """Stored bodies of groups and clusters stay empty: they are built on read."""
    return "", ""
