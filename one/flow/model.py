"""OneFlow's JSON: service templates and services, their states and their checks.

Service templates are documents of TYPE 101 and services of TYPE 100, their
JSON in the document's BODY, as OneFlow 6.x/7.x keeps them; the shapes and
numbers below are OneFlow's so its clients (Sunstone, the Ansible module,
scripts written against its REST API) read them unchanged.
"""
from __future__ import annotations

from typing import Any

from one.flow.elasticity import check_policies
from one.flow.errors import BadRequest
from one.states import ServiceState

TEMPLATE_TYPE, SERVICE_TYPE = 101, 100
DEPLOYMENTS = ("none", "straight")
SHUTDOWN_ACTIONS = ("terminate", "terminate-hard", "shutdown", "shutdown-hard")


# Roles share the numbers of the states they have in common with services.
RoleState = ServiceState


def _int(role: dict[str, Any], key: str, default: int | None = None) -> int | None:
    value = role.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise BadRequest(f"Role '{role.get('name')}': {key} must be a non-negative integer")
    return int(value)


def check_role(role: Any, names: set[str]) -> dict[str, Any]:
    """One role, normalised: numbers as numbers, limits around the cardinality."""
    if not isinstance(role, dict) or not isinstance(role.get("name"), str) or not role["name"]:
        raise BadRequest("Every role needs a name")
    name = role["name"]
    template = role.get("template_id", role.get("vm_template"))
    if template is None:
        raise BadRequest(f"Role '{name}': template_id (or vm_template) is required")
    _int({"name": name, "template_id": template}, "template_id")
    cardinality = _int(role, "cardinality", 1)
    low, high = _int(role, "min_vms"), _int(role, "max_vms")
    if (low is not None and cardinality is not None and cardinality < low) or (
            high is not None and cardinality is not None and cardinality > high):
        raise BadRequest(f"Role '{name}': cardinality must be between min_vms and max_vms")
    parents = role.get("parents", [])
    if not isinstance(parents, list) or any(p not in names or p == name for p in parents):
        raise BadRequest(f"Role '{name}': parents must name other roles of the template")
    if role.get("shutdown_action", "terminate") not in SHUTDOWN_ACTIONS:
        raise BadRequest(f"Role '{name}': shutdown_action must be one of "
                         f"{', '.join(SHUTDOWN_ACTIONS)}")
    for key in ("elasticity_policies", "scheduled_policies"):
        if not isinstance(role.get(key, []), list):
            raise BadRequest(f"Role '{name}': {key} must be a list")
    check_policies(role)
    return {**role, "cardinality": cardinality}


def check_template(body: Any) -> dict[str, Any]:
    """A service template body as OneFlow accepts it (400 otherwise)."""
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise BadRequest("A service template needs a name")
    if body.get("deployment", "none") not in DEPLOYMENTS:
        raise BadRequest("deployment must be 'none' or 'straight'")
    roles = body.get("roles")
    if not isinstance(roles, list) or not roles:
        raise BadRequest("A service template needs a list of roles")
    names = {r.get("name") for r in roles if isinstance(r, dict)}
    if len(names) != len(roles):
        raise BadRequest("Role names must be unique")
    checked = [check_role(role, names) for role in roles]  # type: ignore[arg-type]
    ordered(checked)
    return {**body, "deployment": body.get("deployment", "none"), "roles": checked}


def ordered(roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Roles parents first (deployment order); a cycle is a bad request."""
    done: list[dict[str, Any]] = []
    left = list(roles)
    while left:
        ready = [r for r in left if all(p in {d["name"] for d in done} for p in r.get("parents", []))]
        if not ready:
            raise BadRequest("The roles' parents form a cycle")
        done += ready
        left = [r for r in left if r not in ready]
    return done


def new_service(template: dict[str, Any], name: str, now: float) -> dict[str, Any]:
    """The body of a service instantiated from `template` (its roles PENDING, no VMs)."""
    roles = [{**role, "state": RoleState.PENDING, "nodes": [], "last_vmname": 0,
              "template_id": int(role.get("template_id", role.get("vm_template")))}
             for role in template["roles"]]
    return {**template, "name": name, "state": ServiceState.PENDING, "roles": roles,
            "start_time": int(now), "log": []}
