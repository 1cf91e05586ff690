"""The OneFlow endpoints: /service_template and /service, as its 6.x/7.x API documents them."""
from __future__ import annotations

import logging
from typing import Any

from one.cli.errors import ServerError
from one.flow import actions
from one.flow.api import App, Call, HttpError, Reply
from one.flow.documents import Documents, body_of, number
from one.flow.lifecycle import Reconciler
from one.flow.errors import BadRequest
from one.flow.model import check_template, new_service
from one.flow.vms import Vms

log = logging.getLogger(__name__)
Args = dict[str, str]
NO_CONTENT = Reply(204)
VM_ACTIONS = ("terminate", "terminate-hard", "undeploy", "undeploy-hard", "poweroff",
              "poweroff-hard", "reboot", "reboot-hard", "hold", "release", "stop", "suspend",
              "resume", "delete", "delete-recreate")


def _id(args: Args) -> int:
    if not args["id"].isdigit():
        raise HttpError(404, f"Resource {args['id']} not found")
    return int(args["id"])


def _ownership(docs: Documents, oid: int, perform: str, params: dict[str, Any]) -> int:
    """chown / chmod / rename / clone, the same for templates and services: the id acted
    on (clone: the copy's)."""
    client = docs.client
    if perform == "chown":
        client.call("one.document.chown", oid, int(params.get("owner_id", -1)),
                    int(params.get("group_id", -1)))
    elif perform == "chgrp":
        client.call("one.document.chown", oid, -1, int(params.get("group_id", -1)))
    elif perform == "chmod":
        octet = str(params.get("octet", ""))
        if not (len(octet) == 3 and all(c in "01234567" for c in octet)):
            raise BadRequest("chmod needs params.octet, e.g. \"640\"")
        bits = [(int(d) >> s) & 1 for d in octet for s in (2, 1, 0)]
        client.call("one.document.chmod", oid, *bits)
    elif perform == "rename":  # the name in the JSON body follows, as clients show that one
        name = str(params.get("name", ""))
        client.call("one.document.rename", oid, name)
        docs.save(oid, {**docs.body(oid), "name": name})
    elif perform == "clone":
        return int(client.call("one.document.clone", oid, str(params.get("name", ""))))
    else:
        raise BadRequest(f"Unknown action '{perform}'")
    return oid


# -- service templates ----------------------------------------------------------------
def template_list(call: Call, args: Args) -> Reply:
    return Reply(200, call.templates.listing())


def template_create(call: Call, args: Args) -> Reply:
    body = check_template(call.json())
    return Reply(201, call.templates.show(call.templates.create(body["name"], body)))


def template_show(call: Call, args: Args) -> Reply:
    return Reply(200, call.templates.show(_id(args)))


def template_update(call: Call, args: Args) -> Reply:
    oid = _id(args)
    call.templates.element(oid)
    call.templates.save(oid, check_template(call.json()))
    return Reply(200, call.templates.show(oid))


def template_delete(call: Call, args: Args) -> Reply:
    oid = _id(args)
    call.templates.element(oid)
    call.templates.delete(oid)
    return NO_CONTENT


def template_action(call: Call, args: Args) -> Reply:
    oid = _id(args)
    perform, params = call.action()
    template = body_of(call.templates.element(oid))
    if perform == "instantiate":
        return Reply(201, call.services.show(_instantiate(call, template, params)))
    new = _ownership(call.templates, oid, perform, params)
    return Reply(201, call.templates.show(new)) if perform == "clone" else NO_CONTENT


def _instantiate(call: Call, template: dict[str, Any], params: dict[str, Any]) -> int:
    """A service from the template's body, `merge_template` over it (name, roles by name)."""
    merge = params.get("merge_template") or {}
    if not isinstance(merge, dict):
        raise BadRequest("merge_template must be an object")
    merged = {**template, **{k: v for k, v in merge.items() if k != "roles"}}
    changes = {r.get("name"): r for r in merge.get("roles", []) if isinstance(r, dict)}
    merged["roles"] = [{**r, **changes.get(r["name"], {})} for r in template["roles"]]
    body = check_template(merged)
    name = str(merge.get("name") or f"{template['name']}")
    sid = call.services.create(name, new_service(body, name, call.app.loop.clock()))
    call.app.loop.wake()
    return sid


# -- services ------------------------------------------------------------------------
def service_list(call: Call, args: Args) -> Reply:
    return Reply(200, call.services.listing())


def service_show(call: Call, args: Args) -> Reply:
    return Reply(200, call.services.show(_id(args)))


def service_delete(call: Call, args: Args) -> Reply:
    """The service goes and its VMs with it, whatever its state."""
    oid = _id(args)
    with call.app.loop.mutex:
        body = call.services.body(oid)
        call.services.delete(oid)
        for role in body["roles"]:
            for node in role["nodes"]:
                call.app.loop.vms.remove(node["deploy_id"])
    return NO_CONTENT


def _change(call: Call, oid: int, change: Any) -> None:
    """Apply `change(body)` to the stored body under the loop's mutex and save it with the
    caller's rights; then act on it at once, as OneFlow's scale / shutdown / recover do in
    the request (VMs made or removed). Should oned refuse a VM, the loop carries on later."""
    loop = call.app.loop
    with loop.mutex:
        doc = call.services.element(oid)
        body = body_of(doc)
        change(body)
        call.services.save(oid, body)
        try:
            loop.advance(doc, body)
        except ServerError as refused:
            log.warning("service %d: %s; the loop will retry", oid, refused)


def service_action(call: Call, args: Args) -> Reply:
    oid = _id(args)
    perform, params = call.action()
    loop = call.app.loop
    if perform == "shutdown":
        _change(call, oid, actions.shutdown)
    elif perform == "recover":
        _change(call, oid, lambda body: actions.recover(body, loop.vms))
    else:
        body = call.services.body(oid)
        with loop.mutex:  # a rename rewrites the body
            _ownership(call.services, oid, perform, params)
        if perform in ("chown", "chgrp"):  # the service's VMs follow it, as in OneFlow
            doc = call.services.element(oid)
            for node in (n for role in body["roles"] for n in role["nodes"]):
                loop.vms.client.call("one.vm.chown", node["deploy_id"], number(doc, "UID"),
                                     number(doc, "GID"))
    return NO_CONTENT


def role_scale(call: Call, args: Args) -> Reply:
    sent = call.json()
    if not isinstance(sent, dict):
        raise BadRequest("Expected {\"cardinality\": n, \"force\": bool}")
    sent = sent.get("role", sent)
    _scale(call, _id(args), args["role"], sent)
    return NO_CONTENT


def service_scale(call: Call, args: Args) -> Reply:
    """OneFlow 6's POST /service/<id>/scale {"role_name", "cardinality", "force"}."""
    sent = call.json()
    if not isinstance(sent, dict) or not isinstance(sent.get("role_name"), str):
        raise BadRequest("Expected {\"role_name\": ..., \"cardinality\": n}")
    _scale(call, _id(args), sent["role_name"], sent)
    return NO_CONTENT


def _scale(call: Call, oid: int, role: str, sent: dict[str, Any]) -> None:
    force = sent.get("force") in (True, "true", "yes", 1)
    _change(call, oid, lambda body: actions.scale(body, role, sent.get("cardinality"), force))


def role_action(call: Call, args: Args) -> Reply:
    oid = _id(args)
    perform, _ = call.action()
    if perform not in VM_ACTIONS:
        raise BadRequest(f"Unknown VM action '{perform}'")
    actions.role_action(call.services.body(oid), args["role"], perform, Vms(call.client))
    return Reply(201, call.services.show(oid))


def build_app(endpoint: str, loop: Reconciler) -> App:
    app = App(endpoint, loop)
    for method, pattern, handler in (
            ("GET", "/service_template", template_list),
            ("POST", "/service_template", template_create),
            ("GET", "/service_template/<id>", template_show),
            ("PUT", "/service_template/<id>", template_update),
            ("DELETE", "/service_template/<id>", template_delete),
            ("POST", "/service_template/<id>/action", template_action),
            ("GET", "/service", service_list),
            ("GET", "/service/<id>", service_show),
            ("DELETE", "/service/<id>", service_delete),
            ("POST", "/service/<id>/action", service_action),
            ("POST", "/service/<id>/scale", service_scale),
            ("PUT", "/service/<id>/role/<role>", role_scale),
            ("POST", "/service/<id>/role/<role>/action", role_action)):
        app.route(method, pattern, handler)
    return app
