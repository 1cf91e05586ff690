"""The hybrid virtual cluster of issue 13, end to end through oneflow-server's REST API:
a front-end at home, workers at home while there is room and on EC2 (moto) after, every
worker told the front-end's IP; scaled up onto EC2 and down newest-first; shut down."""
from __future__ import annotations

from flow.conftest import MAX_ROUNDS, Clock, Http

from conftest import ADMIN
from one.flow.server import FlowServer
from one.states import ServiceState as S, VmState

from .conftest import Cloud


def _run(cloud: Cloud, server: FlowServer) -> None:
    """Flow steps, scheduling and the life cycle until the services stop changing."""
    before = None
    for _ in range(MAX_ROUNDS):
        server.step()
        cloud.schedule()
        cloud.settle()
        now = cloud.rpc.ok("one.documentpool.info", -2, -1, -1, 100)
        if now == before:
            return
        before = now
    raise AssertionError("the service never settled")


def test_hybrid_virtual_cluster(cloud: Cloud) -> None:
    cloud.ec2_host()
    cloud.local_host()  # room for 3 VMs of 1 CPU
    cloud.monitor()
    cloud.rpc.ok("one.vn.allocate", 'NAME = private VN_MAD = dummy BRIDGE = br0 '
                                    'AR = [ TYPE = IP4, IP = 10.0.0.10, SIZE = 100 ]', -1)
    front_t = cloud.rpc.ok("one.template.allocate", 'NAME = frontend CPU = 1 MEMORY = 512 '
                           'NIC = [ NETWORK = private ] CONTEXT = [ NETWORK = YES ]')
    worker_t = cloud.rpc.ok("one.template.allocate", (
        'NAME = worker CPU = 1 MEMORY = 512 NIC = [ NETWORK = private ] '
        'CONTEXT = [ NETWORK = YES ] '
        f'PUBLIC_CLOUD = [ TYPE = ec2, AMI = "{cloud.account.ami()}", '
        'INSTANCETYPE = "m1.small" ]'))
    clock = Clock()
    server = FlowServer(cloud.oned.endpoint, ADMIN, port=0, clock=clock)
    server.serve_in_thread()
    try:
        api = Http(server.url)
        status, doc = api("POST", "/service_template", {
            "name": "cluster", "deployment": "straight", "roles": [
                {"name": "frontend", "cardinality": 1, "template_id": front_t},
                {"name": "worker", "cardinality": 4, "template_id": worker_t,
                 "parents": ["frontend"], "min_vms": 1, "max_vms": 8, "cooldown": 30}]})
        assert status == 201
        status, doc = api("POST", f"/service_template/{doc['DOCUMENT']['ID']}/action",
                          {"action": {"perform": "instantiate"}})
        sid = doc["DOCUMENT"]["ID"]

        def roles() -> dict[str, list[int]]:
            body = api("GET", f"/service/{sid}")[1]["DOCUMENT"]["TEMPLATE"]["BODY"]
            return {r["name"]: [n["deploy_id"] for n in r["nodes"]] for r in body["roles"]}

        server.step()
        assert roles()["worker"] == []  # the front-end first
        _run(cloud, server)
        assert api("GET", f"/service/{sid}")[1]["DOCUMENT"]["TEMPLATE"]["BODY"]["state"] == \
            S.RUNNING
        front, workers = roles()["frontend"][0], roles()["worker"]
        assert cloud.host_of(front) == "home"
        assert [cloud.host_of(v) for v in workers] == ["home"] * 2 + ["ec2-east"] * 2
        front_ip = cloud.doc("one.vm.info", front).findtext("TEMPLATE/NIC/IP")
        assert {cloud.doc("one.vm.info", v).findtext("TEMPLATE/CONTEXT/FRONTEND_IP")
                for v in workers} == {front_ip}
        assert len(cloud.account.instances(ONE_HOST="ec2-east")) == 2

        assert api("PUT", f"/service/{sid}/role/worker", {"cardinality": 6})[0] == 204
        _run(cloud, server)
        grown = roles()["worker"]
        assert [cloud.host_of(v) for v in grown[4:]] == ["ec2-east"] * 2
        running = [i for i in cloud.account.instances(ONE_HOST="ec2-east")
                   if i["State"]["Name"] == "running"]
        assert len(running) == 4

        clock.now += 31
        _run(cloud, server)
        assert api("PUT", f"/service/{sid}/role/worker", {"cardinality": 2})[0] == 204
        _run(cloud, server)
        assert roles()["worker"] == grown[:2]  # the newest, the EC2 ones, went first
        assert {i["State"]["Name"] for i in cloud.account.instances(ONE_HOST="ec2-east")} == {
            "terminated"}

        clock.now += 31
        _run(cloud, server)
        assert api("POST", f"/service/{sid}/action", {"action": {"perform": "shutdown"}})[0] \
            == 204
        _run(cloud, server)
        assert api("GET", f"/service/{sid}")[0] == 404  # DONE, then deleted as by OneFlow 6+
        assert {int(cloud.doc("one.vm.info", v).findtext("STATE")) for v in [front, *grown]} \
            == {VmState.DONE}
        assert not [i for i in cloud.account.instances() if i["State"]["Name"] != "terminated"]
    finally:
        server.stop()
