"""Restricted attributes: what only the oneadmin group may write into a template.

OpenNebula's oned.conf lists them as `VM_RESTRICTED_ATTR`, `IMAGE_RESTRICTED_ATTR`
and `VNET_RESTRICTED_ATTR`: `NAME` is any attribute so called, `VECTOR/KEY` that
key in any such vector. They name what reaches the front-end's files, the hosts'
devices or other users' resources, so a plain user may not set them. On an update
a restricted attribute whose values do not change is allowed, so a user may send
back the whole template they were shown.
"""
from __future__ import annotations

from one.config import Config
from one.core.auth import Session
from one.errors import AuthorizationError
from one.pool.template import Template

_LABELS = {"VM": "VM Template", "IMAGE": "Image Template", "VNET": "Virtual Network Template"}


def _values(template: Template, attribute: str) -> list[str]:
    name, _, key = attribute.partition("/")
    if not key:
        return [v if isinstance(v, str) else repr(sorted(v.items())) for v in template.values(name)]
    return [vector[key] for vector in template.vectors(name) if key in vector]


class RestrictedAttributes:
    """The three lists of one oned, checked for callers outside the oneadmin group."""

    def __init__(self, config: Config) -> None:
        self.lists = {"VM": config.vm_restricted_attr, "IMAGE": config.image_restricted_attr,
                      "VNET": config.vnet_restricted_attr}

    def check(self, session: Session, kind: str, template: Template,
              current: Template | None = None) -> None:
        """Refuse (AUTHORIZATION) the first restricted attribute `template` sets or
        changes compared with `current`; the oneadmin group may set them all."""
        if session.is_admin:
            return
        for attribute in self.lists[kind]:
            given = _values(template, attribute)
            before = _values(current, attribute) if current is not None else []
            if any(value not in before for value in given):
                raise restricted(kind, attribute)


def restricted(kind: str, attribute: str) -> AuthorizationError:
    """OpenNebula's wording, naming the attribute."""
    return AuthorizationError(f"{_LABELS[kind]} includes a restricted attribute {attribute}")
