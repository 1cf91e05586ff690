"""When the loop saves a service's body: a VM that merely moved on (placed, booting)
costs no save; the nodes' vm_info STATE / LCM_STATE are brought up to date whenever the
body is saved for a change of its own."""
from __future__ import annotations

from one.flow.model import ServiceState as S
from one.states import LcmState, VmState

from .conftest import Flow
from .test_lifecycle import cluster, ids, setup, vm


def _stored(flow: Flow, sid: int) -> list[tuple[int, int]]:
    """Each worker's (STATE, LCM_STATE) as the service's stored body gives them."""
    return [(int(n["vm_info"]["VM"]["STATE"]), int(n["vm_info"]["VM"]["LCM_STATE"]))
            for n in flow.roles(sid)["worker"]["nodes"]]


def test_a_vm_that_moved_on_costs_no_save_until_the_body_changes(flow: Flow) -> None:
    setup(flow)
    sid = flow.instantiate(flow.template({**cluster(), "deployment": "none"}))
    flow.server.step()  # the VMs made: saved, INIT
    assert flow.service(sid)["state"] == S.DEPLOYING
    assert _stored(flow, sid) == [(int(VmState.INIT), 0)] * 2
    flow.oned.managers.scheduler.cycle()  # placed: on their way, not running yet
    workers = ids(flow.roles(sid)["worker"])
    assert all(int(vm(flow, v).findtext("STATE")) != VmState.INIT for v in workers)
    assert not all(int(vm(flow, v).findtext("LCM_STATE")) == LcmState.RUNNING for v in workers)
    stored = flow.rpc.ok("one.document.info", sid)
    assert flow.server.step() == {sid: S.DEPLOYING}
    assert flow.rpc.ok("one.document.info", sid) == stored  # nothing saved
    flow.run()  # all run: saved, with the VMs' states as read
    assert flow.service(sid)["state"] == S.RUNNING
    assert _stored(flow, sid) == [(int(VmState.ACTIVE), int(LcmState.RUNNING))] * 2
