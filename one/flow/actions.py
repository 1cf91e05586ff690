"""What a REST request changes in a service's body; the reconcile loop does the rest.

Each command checks the state it is given in and says what the service asks
for next (states, cardinalities); VMs are only made or removed by the loop,
except that recover clears the failed ones out of the way first.
"""
from __future__ import annotations

from typing import Any

from one.flow.lifecycle import GONE, node_ids, role_named
from one.flow.errors import BadRequest
from one.flow.model import RoleState, ServiceState
from one.flow.vms import Vms, VmStatus

_SHUTDOWN_FROM = {ServiceState.PENDING, ServiceState.DEPLOYING, ServiceState.RUNNING,
                  ServiceState.WARNING, ServiceState.SCALING, ServiceState.COOLDOWN,
                  ServiceState.FAILED_DEPLOYING, ServiceState.FAILED_SCALING}
_SCALE_FROM = {ServiceState.RUNNING, ServiceState.WARNING, ServiceState.COOLDOWN}
# A failed role goes back to this state; the service to the one the loop retries in.
_RECOVER = {ServiceState.FAILED_DEPLOYING: (RoleState.FAILED_DEPLOYING, RoleState.DEPLOYING,
                                            ServiceState.DEPLOYING),
            ServiceState.FAILED_SCALING: (RoleState.FAILED_SCALING, RoleState.SCALING,
                                          ServiceState.SCALING),
            ServiceState.WARNING: (RoleState.WARNING, RoleState.RUNNING, ServiceState.RUNNING),
            ServiceState.FAILED_UNDEPLOYING: (RoleState.FAILED_UNDEPLOYING, RoleState.RUNNING,
                                              ServiceState.UNDEPLOYING)}


def _state(body: dict[str, Any]) -> ServiceState:
    return ServiceState(body["state"])


def shutdown(body: dict[str, Any]) -> None:
    if _state(body) not in _SHUTDOWN_FROM:
        raise BadRequest(f"Service cannot be shut down in state {_state(body).name}")
    body["state"] = int(ServiceState.UNDEPLOYING)


def recover(body: dict[str, Any], vms: Vms) -> None:
    """Failed VMs removed (the loop makes their replacements), failed roles retried."""
    if _state(body) not in _RECOVER:
        raise BadRequest(f"Service cannot be recovered in state {_state(body).name}")
    failed_role, retry_role, retry_service = _RECOVER[_state(body)]
    statuses = vms.statuses(node_ids([body]))
    undeploying = retry_service == ServiceState.UNDEPLOYING
    for role in body["roles"]:
        if role["state"] != failed_role:
            continue
        bad = [n for n in role["nodes"] if undeploying or _failed(statuses, n["deploy_id"])]
        for node in bad:
            if statuses.get(node["deploy_id"], GONE) is not GONE:
                vms.remove(node["deploy_id"])
        if not undeploying:
            role["nodes"] = [n for n in role["nodes"] if n not in bad]
        role["state"] = int(retry_role)
    body["state"] = int(retry_service)


def _failed(statuses: dict[int, VmStatus], vid: int) -> bool:
    return statuses.get(vid, GONE).failed


def scale(body: dict[str, Any], name: str, cardinality: Any, force: bool) -> None:
    role = role_named(body, name)
    if role is None:
        raise BadRequest(f"Role '{name}' not found in the service")
    if isinstance(cardinality, bool) or not isinstance(cardinality, int) or cardinality < 0:
        raise BadRequest("cardinality must be a non-negative integer")
    low, high = role.get("min_vms"), role.get("max_vms")
    if not force and ((low is not None and cardinality < int(low)) or
                      (high is not None and cardinality > int(high))):
        raise BadRequest(f"Cardinality {cardinality} is outside min_vms..max_vms of role "
                         f"'{name}' ({low}..{high}); use force")
    if _state(body) not in _SCALE_FROM:
        raise BadRequest(f"Service cannot be scaled in state {_state(body).name}")
    role["cardinality"] = cardinality


def role_action(body: dict[str, Any], name: str, action: str, vms: Vms) -> list[int]:
    """A VM action on every VM of a role; the ids it was applied to."""
    role = role_named(body, name)
    if role is None:
        raise BadRequest(f"Role '{name}' not found in the service")
    done = []
    for node in role["nodes"]:
        vms.action(node["deploy_id"], action)
        done.append(node["deploy_id"])
    return done
