"""The REST API with a real HTTP client: service templates' CRUD and actions, status codes
201/200/204/400/401/403/404/405, OneFlow's error JSON, and that bad requests change nothing."""
from __future__ import annotations

from conftest import validate
from one.flow.model import ServiceState as S

from .conftest import Flow, Http

SIMPLE = {"name": "web", "deployment": "none",
          "roles": [{"name": "www", "cardinality": 1, "template_id": 0}]}


def test_template_crud_and_document_shape(flow: Flow) -> None:
    status, created = flow.http("POST", "/service_template", SIMPLE)
    assert status == 201
    doc = created["DOCUMENT"]
    assert (doc["NAME"], doc["TYPE"], doc["UNAME"]) == ("web", "101", "oneadmin")
    assert doc["TEMPLATE"]["BODY"]["roles"][0]["name"] == "www"
    assert doc["PERMISSIONS"]["OWNER_U"] == "1"
    tid = doc["ID"]
    validate(flow.rpc.ok("one.document.info", int(tid)), "document.xsd")
    status, listed = flow.http("GET", "/service_template")
    assert status == 200 and [d["ID"] for d in listed["DOCUMENT_POOL"]["DOCUMENT"]] == [tid]
    changed = {**SIMPLE, "description": "two"}
    status, shown = flow.http("PUT", f"/service_template/{tid}", changed)
    assert status == 200 and shown["DOCUMENT"]["TEMPLATE"]["BODY"]["description"] == "two"
    status, copy = flow.http("POST", f"/service_template/{tid}/action",
                             {"action": {"perform": "clone", "params": {"name": "web2"}}})
    assert status == 201 and copy["DOCUMENT"]["NAME"] == "web2"
    assert flow.http("POST", f"/service_template/{tid}/action",
                     {"action": {"perform": "rename", "params": {"name": "w"}}})[0] == 204
    assert flow.http("POST", f"/service_template/{tid}/action",
                     {"action": {"perform": "chmod", "params": {"octet": "644"}}})[0] == 204
    shown = flow.http("GET", f"/service_template/{tid}")[1]["DOCUMENT"]
    assert shown["NAME"] == "w" and shown["PERMISSIONS"]["OTHER_U"] == "1"
    assert shown["TEMPLATE"]["BODY"]["name"] == "w"
    assert flow.http("DELETE", f"/service_template/{tid}")[0] == 204
    assert flow.http("GET", f"/service_template/{tid}")[0] == 404
    assert flow.http("GET", "/service")[1] == {"DOCUMENT_POOL": {"DOCUMENT": []}}


def test_authentication(flow: Flow) -> None:
    for credentials in (None, "oneadmin:wrong", "nocolon"):
        status, reply = flow.http.as_user(credentials)("GET", "/service")
        assert status == 401 and reply["error"]["message"]
    status, reply = flow.http.as_user("ghost:x")("POST", "/service_template", SIMPLE)
    assert status == 401
    assert flow.http("GET", "/service_template")[1]["DOCUMENT_POOL"]["DOCUMENT"] == []


def test_bad_requests_change_nothing(flow: Flow) -> None:
    tid = flow.template(SIMPLE)
    before = flow.rpc.ok("one.documentpool.info", -2, -1, -1, -1)
    bad_bodies = [
        b"{not json", b"[]", b'{"name": "x"}', b'{"name": "x", "roles": []}',
        b'{"name": "x", "deployment": "fast", "roles": [{"name": "a", "template_id": 0}]}',
        b'{"name": "x", "roles": [{"name": "a"}]}',
        b'{"name": "x", "roles": [{"name": "a", "template_id": 0, "cardinality": -1}]}',
        b'{"name": "x", "roles": [{"name": "a", "template_id": 0, "parents": ["b"]}]}',
        b'{"name": "x", "roles": [{"name": "a", "template_id": 0, "cardinality": 5, '
        b'"max_vms": 2}]}',
        b'{"name": "x", "roles": [{"name": "a", "template_id": 0}, {"name": "a", '
        b'"template_id": 0}]}',
        b'{"name": "x", "roles": [{"name": "a", "template_id": 0, "parents": ["b"]}, '
        b'{"name": "b", "template_id": 0, "parents": ["a"]}]}',
        b'{"name": "x", "roles": [{"name": "a", "template_id": 0, '
        b'"shutdown_action": "explode"}]}',
    ]
    for raw in bad_bodies:
        status, reply = flow.http("POST", "/service_template", raw=raw)
        assert status == 400 and reply["error"]["message"], raw
        assert flow.http("PUT", f"/service_template/{tid}", raw=raw)[0] == 400, raw
    for action in ({"perform": "explode"}, {"nothing": 1}, "text",
                   {"perform": "chmod", "params": {"octet": "999"}}):
        status, reply = flow.http("POST", f"/service_template/{tid}/action", {"action": action})
        assert status == 400, action
    assert flow.http("GET", "/service_template/77")[0] == 404
    assert flow.http("GET", "/service_template/abc")[0] == 404
    assert flow.http("GET", "/nowhere")[0] == 404
    assert flow.http("PATCH", "/service")[0] == 405
    assert flow.http("POST", "/service/77/action", {"action": {"perform": "shutdown"}})[0] == 404
    assert flow.rpc.ok("one.documentpool.info", -2, -1, -1, -1) == before


def test_other_users(flow: Flow) -> None:
    flow.rpc.ok("one.user.allocate", "bob", "pw", "core", [])
    bob = flow.http.as_user("bob:pw")
    tid = flow.template(SIMPLE)
    status, reply = bob("GET", f"/service_template/{tid}")
    assert status == 403 and "not authorized" in reply["error"]["message"].lower()
    assert bob("DELETE", f"/service_template/{tid}")[0] == 403
    assert bob("GET", "/service_template")[1]["DOCUMENT_POOL"]["DOCUMENT"] == []
    flow.http("POST", f"/service_template/{tid}/action",
              {"action": {"perform": "chmod", "params": {"octet": "604"}}})
    assert bob("GET", f"/service_template/{tid}")[0] == 200
    assert bob("PUT", f"/service_template/{tid}", SIMPLE)[0] == 403


def test_service_owned_by_its_user_with_vms(flow: Flow) -> None:
    flow.host("h0")
    flow.monitor()
    flow.rpc.ok("one.template.allocate", "NAME = t CPU = 0.1 MEMORY = 16")
    uid = flow.rpc.ok("one.user.allocate", "bob", "pw", "core", [])
    flow.rpc.ok("one.template.chmod", 0, -1, -1, -1, -1, -1, -1, 1, 0, 0, False)
    bob = flow.http.as_user("bob:pw")
    status, doc = bob("POST", "/service_template", SIMPLE)
    status, svc = bob("POST", f"/service_template/{doc['DOCUMENT']['ID']}/action",
                      {"action": {"perform": "instantiate",
                                  "params": {"merge_template": {"name": "mine"}}}})
    assert status == 201 and svc["DOCUMENT"]["UNAME"] == "bob"
    sid = int(svc["DOCUMENT"]["ID"])
    flow.run()
    body = bob("GET", f"/service/{sid}")[1]["DOCUMENT"]["TEMPLATE"]["BODY"]
    assert body["state"] == S.RUNNING and body["name"] == "mine"
    vid = body["roles"][0]["nodes"][0]["deploy_id"]
    assert f"<UID>{uid}</UID>" in flow.rpc.ok("one.vm.info", vid)
    assert flow.http.as_user("oneadmin:secret")("GET", f"/service/{sid}")[0] == 200
    assert bob("DELETE", f"/service/{sid}")[0] == 204
    flow.settle()
    assert bob("GET", f"/service/{sid}")[0] == 404
    assert "<STATE>6</STATE>" in flow.rpc.ok("one.vm.info", vid)


def test_ansible_style_client(flow: Flow) -> None:
    """What community.general.one_service sends: find the template by name, instantiate it,
    wait for RUNNING, scale a role through PUT /service/<id>/role/<name>, delete."""
    flow.host("h0")
    flow.monitor()
    flow.rpc.ok("one.template.allocate", "NAME = t CPU = 0.1 MEMORY = 16")
    flow.template({**SIMPLE, "roles": [{**SIMPLE["roles"][0], "min_vms": 1, "max_vms": 3}]})
    api = Http(flow.server.url)
    pool = api("GET", "/service_template")[1]["DOCUMENT_POOL"]["DOCUMENT"]
    tid = next(t["ID"] for t in pool if t["NAME"] == "web")
    status, result = api("POST", f"/service_template/{tid}/action", {"action": {
        "perform": "instantiate", "params": {"merge_template": {
            "custom_attrs_values": {}, "name": "ansible-svc"}}}})
    assert status == 201
    sid = result["DOCUMENT"]["ID"]
    for _ in range(10):  # wait: poll GET /service/<id> until RUNNING
        flow.run()
        body = api("GET", f"/service/{sid}")[1]["DOCUMENT"]["TEMPLATE"]["BODY"]
        if body["state"] == S.RUNNING:
            break
    assert body["state"] == S.RUNNING
    assert api("PUT", f"/service/{sid}/role/www", {"cardinality": 3, "force": False})[0] == 204
    flow.run()
    role = api("GET", f"/service/{sid}")[1]["DOCUMENT"]["TEMPLATE"]["BODY"]["roles"][0]
    assert role["cardinality"] == 3 and len(role["nodes"]) == 3
    bob = flow.rpc.ok("one.user.allocate", "bob", "pw", "core", [])
    assert api("POST", f"/service/{sid}/action", {"action": {
        "perform": "chown", "params": {"owner_id": bob, "group_id": 1}}})[0] == 204
    assert api("GET", f"/service/{sid}")[1]["DOCUMENT"]["UNAME"] == "bob"
    for node in role["nodes"]:  # its VMs follow the service
        assert f"<UID>{bob}</UID><GID>1</GID>" in flow.rpc.ok("one.vm.info", node["deploy_id"])
    assert api("DELETE", f"/service/{sid}")[0] == 204
    pool = api("GET", "/service")[1]["DOCUMENT_POOL"]["DOCUMENT"]
    assert sid not in [s["ID"] for s in pool]


def test_rename_a_service_and_its_body(flow: Flow) -> None:
    """The document's NAME and the name in its JSON body change together; a bad name changes
    neither."""
    sid = flow.instantiate(flow.template(SIMPLE))
    assert flow.http("POST", f"/service/{sid}/action",
                     {"action": {"perform": "rename", "params": {"name": "shop"}}})[0] == 204
    shown = flow.http("GET", f"/service/{sid}")[1]["DOCUMENT"]
    assert shown["NAME"] == "shop" and shown["TEMPLATE"]["BODY"]["name"] == "shop"
    validate(flow.rpc.ok("one.document.info", sid), "document.xsd")
    before = flow.rpc.ok("one.document.info", sid)
    for bad in ("", "a\nb"):
        status, reply = flow.http("POST", f"/service/{sid}/action",
                                  {"action": {"perform": "rename", "params": {"name": bad}}})
        assert status == 400 and reply["error"]["message"], bad
    assert flow.rpc.ok("one.document.info", sid) == before
