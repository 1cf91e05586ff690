"""Services through the REST API against a real oned: straight deployment, SERVICE_ID and
ROLE_NAME on VMs, parents' IPs in children's context, failures, recover, shutdown in reverse
order, scale (newest first), cooldown, role actions, and a restart of the server."""
from __future__ import annotations

from typing import Any

from lxml import etree

from one.flow.documents import body_template
from one.flow.model import ServiceState as S
from one.states import LcmState, VmState

from .conftest import Flow


def cluster(workers: int = 2, **worker: Any) -> dict[str, Any]:
    return {"name": "cluster", "deployment": "straight", "roles": [
        {"name": "frontend", "cardinality": 1, "vm_template": 0},
        {"name": "worker", "cardinality": workers, "vm_template": 0, "parents": ["frontend"],
         "min_vms": 1, "max_vms": 6, "cooldown": 60, **worker}]}


def setup(flow: Flow) -> None:
    flow.host("h0")
    flow.host("h1")
    flow.monitor()
    flow.rpc.ok("one.vn.allocate", 'NAME = lan VN_MAD = dummy BRIDGE = br0 '
                'AR = [ TYPE = IP4, IP = "10.0.0.10", SIZE = 50 ]', -1)
    assert flow.rpc.ok("one.template.allocate", 'NAME = node CPU = 0.1 MEMORY = 64 '
                       'NIC = [ NETWORK = lan ] CONTEXT = [ NETWORK = "YES" ]') == 0


def vm(flow: Flow, vid: int) -> etree._Element:
    return etree.fromstring(flow.rpc.ok("one.vm.info", vid).encode())


def ids(role: dict[str, Any]) -> list[int]:
    return [n["deploy_id"] for n in role["nodes"]]


def test_straight_deployment_parents_first_with_context(flow: Flow) -> None:
    setup(flow)
    sid = flow.instantiate(flow.template(cluster()))
    assert flow.service(sid)["state"] == S.PENDING
    flow.server.step()
    roles = flow.roles(sid)
    assert flow.service(sid)["state"] == S.DEPLOYING
    assert len(ids(roles["frontend"])) == 1 and ids(roles["worker"]) == []
    flow.run()
    roles = flow.roles(sid)
    assert flow.service(sid)["state"] == S.RUNNING
    assert {r["state"] for r in roles.values()} == {S.RUNNING}
    front = vm(flow, ids(roles["frontend"])[0])
    front_ip = front.findtext("TEMPLATE/NIC/IP")
    for vid in ids(roles["worker"]):
        doc = vm(flow, vid)
        assert (doc.findtext("STATE"), doc.findtext("LCM_STATE")) == ("3", "3")
        assert doc.findtext("USER_TEMPLATE/SERVICE_ID") == str(sid)
        assert doc.findtext("USER_TEMPLATE/ROLE_NAME") == "worker"
        assert doc.findtext("TEMPLATE/CONTEXT/FRONTEND_IP") == front_ip
        assert doc.findtext("TEMPLATE/CONTEXT/NETWORK") == "YES"  # the template's context kept
        assert doc.findtext("NAME").startswith("worker_") and f"(service_{sid})" in doc.findtext(
            "NAME")


def test_failure_warning_and_recover(flow: Flow) -> None:
    setup(flow)
    sid = flow.instantiate(flow.template(cluster()))
    flow.run()
    victim = ids(flow.roles(sid)["worker"])[0]
    flow.rpc.ok("one.vm.recover", victim, 3)  # the VM disappears under the service
    flow.settle()
    flow.run()
    assert flow.service(sid)["state"] == S.WARNING
    assert flow.roles(sid)["worker"]["state"] == S.WARNING
    assert flow.http("POST", f"/service/{sid}/action", {"action": {"perform": "recover"}})[0] == 204
    flow.run()
    workers = ids(flow.roles(sid)["worker"])
    assert flow.service(sid)["state"] == S.COOLDOWN and victim not in workers
    assert len(workers) == 2


def test_failed_deploying_then_recover(flow: Flow) -> None:
    setup(flow)
    for host in (0, 1):
        flow.rpc.ok("one.host.update", host, 'DUMMY_FAIL = "deploy"', 1)
    sid = flow.instantiate(flow.template(cluster()))
    flow.run()
    assert flow.service(sid)["state"] == S.FAILED_DEPLOYING
    roles = flow.roles(sid)
    assert roles["frontend"]["state"] == S.FAILED_DEPLOYING
    assert roles["worker"]["nodes"] == []  # children wait for their parents
    failed = ids(roles["frontend"])
    status, reply = flow.http("POST", f"/service/{sid}/role/worker", {"cardinality": 3})
    assert status == 405
    status, reply = flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 3})
    assert status == 400 and "FAILED_DEPLOYING" in reply["error"]["message"]
    for host in (0, 1):
        flow.rpc.ok("one.host.update", host, 'DUMMY_FAIL = ""', 1)
    assert flow.http("POST", f"/service/{sid}/action", {"action": {"perform": "recover"}})[0] == 204
    flow.run()
    assert flow.service(sid)["state"] == S.RUNNING
    assert not set(failed) & set(ids(flow.roles(sid)["frontend"]))
    assert int(vm(flow, failed[0]).findtext("STATE")) == VmState.DONE


def test_shutdown_reverse_order_and_restart(flow: Flow) -> None:
    setup(flow)
    sid = flow.instantiate(flow.template(cluster()))
    flow.run()
    every = [v for r in flow.roles(sid).values() for v in ids(r)]
    flow.restart()  # all state is in oned's documents
    assert flow.http("POST", f"/service/{sid}/action",
                     {"action": {"perform": "shutdown"}})[0] == 204
    flow.server.step()
    roles = flow.roles(sid)
    assert roles["worker"]["state"] == S.UNDEPLOYING and roles["frontend"]["state"] == S.RUNNING
    flow.run()
    assert {int(vm(flow, v).findtext("STATE")) for v in every} == {VmState.DONE}
    assert flow.http("GET", f"/service/{sid}")[0] == 404  # DONE: deleted, as by OneFlow 6+
    status, reply = flow.http("POST", f"/service/{sid}/action", {"action": {"perform": "shutdown"}})
    assert status == 404 and reply["error"]["message"]


def test_scale_newest_first_limits_and_cooldown(flow: Flow) -> None:
    setup(flow)
    sid = flow.instantiate(flow.template(cluster()))
    flow.run()
    first = ids(flow.roles(sid)["worker"])
    assert flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 4})[0] == 204
    flow.run()
    assert flow.service(sid)["state"] == S.COOLDOWN
    grown = ids(flow.roles(sid)["worker"])
    assert len(grown) == 4 and grown[:2] == first
    status, reply = flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 9})
    assert status == 400 and "outside" in reply["error"]["message"]
    flow.clock.now += 61
    flow.run()
    assert flow.service(sid)["state"] == S.RUNNING
    assert flow.http("POST", f"/service/{sid}/scale",
                     {"role_name": "worker", "cardinality": 0, "force": True})[0] == 204
    flow.run()
    assert ids(flow.roles(sid)["worker"]) == []
    flow.clock.now += 61
    assert flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 1,
                                                             "force": False})[0] == 204
    flow.run()
    flow.clock.now += 61
    flow.run()
    assert flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 3})[0] == 204
    flow.run()
    kept = ids(flow.roles(sid)["worker"])
    flow.clock.now += 61
    flow.run()
    assert flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 1})[0] == 204
    flow.run()
    assert ids(flow.roles(sid)["worker"]) == kept[:1]  # the newest went first
    for gone in kept[1:]:
        assert int(vm(flow, gone).findtext("STATE")) == VmState.DONE


def test_role_action(flow: Flow) -> None:
    setup(flow)
    sid = flow.instantiate(flow.template(cluster()))
    flow.run()
    status, _ = flow.http("POST", f"/service/{sid}/role/worker/action",
                          {"action": {"perform": "poweroff"}})
    assert status == 201
    flow.settle()
    for vid in ids(flow.roles(sid)["worker"]):
        assert int(vm(flow, vid).findtext("STATE")) == VmState.POWEROFF
    assert LcmState.RUNNING == int(vm(flow, ids(flow.roles(sid)["frontend"])[0]).findtext(
        "LCM_STATE"))
    status, reply = flow.http("POST", f"/service/{sid}/role/nope/action",
                              {"action": {"perform": "poweroff"}})
    assert status == 400 and "nope" in reply["error"]["message"]


def test_scale_acts_in_the_request(flow: Flow) -> None:
    """As OneFlow's scale: the PUT itself makes the new VMs, or removes the newest, before it
    answers; the loop only watches them run."""
    setup(flow)
    sid = flow.instantiate(flow.template(cluster()))
    flow.run()
    first = ids(flow.roles(sid)["worker"])
    assert flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 4})[0] == 204
    grown = ids(flow.roles(sid)["worker"])  # no pass of the loop in between
    assert flow.service(sid)["state"] == S.SCALING and len(grown) == 4 and grown[:2] == first
    assert all(vm(flow, v).findtext("USER_TEMPLATE/ROLE_NAME") == "worker" for v in grown[2:])
    status, reply = flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 2})
    assert status == 400 and "SCALING" in reply["error"]["message"]
    flow.run()
    flow.clock.now += 61
    flow.run()
    assert flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 1})[0] == 204
    assert {int(vm(flow, v).findtext("LCM_STATE")) for v in grown[1:]} != {LcmState.RUNNING}
    flow.server.step()  # the removed VMs are told to go but not gone yet: still listed
    assert flow.service(sid)["state"] == S.SCALING and ids(flow.roles(sid)["worker"]) == grown
    flow.settle()
    assert {int(vm(flow, v).findtext("STATE")) for v in grown[1:]} == {VmState.DONE}
    flow.server.step()  # gone: dropped, and the role cools down, as in OneFlow
    assert flow.service(sid)["state"] == S.COOLDOWN and ids(flow.roles(sid)["worker"]) == first[:1]


def test_shutdown_acts_in_the_request(flow: Flow) -> None:
    setup(flow)
    sid = flow.instantiate(flow.template(cluster()))
    flow.run()
    workers = ids(flow.roles(sid)["worker"])
    assert flow.http("POST", f"/service/{sid}/action",
                     {"action": {"perform": "shutdown"}})[0] == 204
    roles = flow.roles(sid)  # the children's VMs are told to go before the reply
    assert roles["worker"]["state"] == S.UNDEPLOYING and roles["frontend"]["state"] == S.RUNNING
    flow.settle()
    assert {int(vm(flow, v).findtext("STATE")) for v in workers} == {VmState.DONE}


def test_a_scale_refused_to_the_caller_makes_no_vm(flow: Flow) -> None:
    """The caller's rights on the service are checked before any VM is made."""
    setup(flow)
    flow.rpc.ok("one.user.allocate", "bob", "pw", "core", [])
    sid = flow.instantiate(flow.template(cluster()))
    flow.run()
    assert flow.http("POST", f"/service/{sid}/action",
                     {"action": {"perform": "chmod", "params": {"octet": "604"}}})[0] == 204
    before = flow.service(sid)
    vms = flow.rpc.ok("one.vmpool.info", -2, -1, -1, -1)
    status, reply = flow.http.as_user("bob:pw")("PUT", f"/service/{sid}/role/worker",
                                                {"cardinality": 4})
    assert status == 403 and "not authorized" in reply["error"]["message"].lower()
    assert flow.rpc.ok("one.vmpool.info", -2, -1, -1, -1) == vms
    assert flow.service(sid) == before


def test_a_service_left_done_is_deleted(flow: Flow) -> None:
    """A service stored DONE (by an earlier server) goes at the next pass, like one that
    reaches DONE."""
    body = {"name": "old", "deployment": "none", "state": int(S.DONE), "roles": [
        {"name": "r", "cardinality": 0, "template_id": 0, "state": int(S.DONE), "nodes": []}]}
    sid = flow.rpc.ok("one.document.allocate", body_template(body, "old"), 100)
    assert flow.server.step() == {sid: S.DONE}
    assert flow.http("GET", f"/service/{sid}")[0] == 404
    assert flow.server.step() == {}


def test_delete_while_scaled_down_vms_are_leaving(flow: Flow) -> None:
    """The removed VMs still listed in their role may be DONE by the time the service is
    deleted: that is no error."""
    setup(flow)
    sid = flow.instantiate(flow.template(cluster(workers=3)))
    flow.run()
    every = [v for r in flow.roles(sid).values() for v in ids(r)]
    assert flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 1})[0] == 204
    flow.settle()  # the two leaving VMs are DONE, not yet dropped by a pass
    assert len(ids(flow.roles(sid)["worker"])) == 3
    assert flow.http("DELETE", f"/service/{sid}")[0] == 204
    flow.settle()
    assert {int(vm(flow, v).findtext("STATE")) for v in every} == {VmState.DONE}
    assert flow.http("GET", f"/service/{sid}")[0] == 404


def test_a_vm_lost_while_others_leave_fails_the_scale(flow: Flow) -> None:
    setup(flow)
    sid = flow.instantiate(flow.template(cluster(workers=3)))
    flow.run()
    workers = ids(flow.roles(sid)["worker"])
    assert flow.http("PUT", f"/service/{sid}/role/worker", {"cardinality": 1})[0] == 204
    flow.rpc.ok("one.vm.recover", workers[0], 5)  # the one that stays vanishes from the books
    flow.server.step()
    assert flow.service(sid)["state"] == S.FAILED_SCALING
    assert flow.roles(sid)["worker"]["state"] == S.FAILED_SCALING
