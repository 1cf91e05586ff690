"""Elasticity and scheduled policies: the maths, the cron subset, and a role that grows and
shrinks with the CPU the dummy hypervisor reports, on a clock the test moves."""
from __future__ import annotations

import dataclasses
from typing import Any

import one_dummy
import pytest

from one.flow.elasticity import adjusted, cron_fields, elastic_change, evaluate, scheduled_change
from one.flow.errors import BadRequest
from one.flow.model import ServiceState as S

from .conftest import Flow

ROLE = {"name": "w", "cardinality": 4, "min_vms": 2, "max_vms": 10}


@pytest.mark.parametrize("policy, wanted", [
    ({"type": "CHANGE", "adjust": 3}, 7), ({"type": "CHANGE", "adjust": -1}, 3),
    ({"type": "CHANGE", "adjust": -5}, 2), ({"type": "CHANGE", "adjust": 50}, 10),
    ({"type": "CARDINALITY", "adjust": 6}, 6), ({"type": "CARDINALITY", "adjust": 0}, 2),
    ({"type": "PERCENTAGE_CHANGE", "adjust": 50}, 6),
    ({"type": "PERCENTAGE_CHANGE", "adjust": 10}, 4),
    ({"type": "PERCENTAGE_CHANGE", "adjust": 10, "min_adjust_step": 2}, 6),
    ({"type": "PERCENTAGE_CHANGE", "adjust": -10, "min_adjust_step": 1}, 3),
    ({"type": "PERCENTAGE_CHANGE", "adjust": -75}, 2),
])
def test_adjustments_stay_within_limits(policy: dict[str, Any], wanted: int) -> None:
    assert adjusted(dict(ROLE), policy) == wanted


def test_expressions() -> None:
    assert evaluate("CPU > 80", {"CPU": 80.5}) == (True, "CPU[80.50] > 80")
    assert evaluate("CPU > 80 && MEMORY < 100", {"CPU": 90, "MEMORY": 200})[0] is False
    assert evaluate("CPU > 80 || MEMORY < 100", {"CPU": 10, "MEMORY": 50})[0] is True
    assert evaluate("LOAD >= 1", {})[0] is False  # no value: the term is false
    for bad in ("CPU >", "CPU ~ 3", "rm -rf", ""):
        with pytest.raises(BadRequest):
            evaluate(bad, {})


def test_period_number_and_period() -> None:
    role = {**ROLE, "elasticity_policies": [
        {"type": "CHANGE", "adjust": 2, "expression": "CPU > 80", "period": 60,
         "period_number": 3}]}
    assert elastic_change(role, {"CPU": 90}, 1000) is None
    assert elastic_change(role, {"CPU": 90}, 1030) is None  # within the period: not evaluated
    assert elastic_change(role, {"CPU": 90}, 1060) is None
    assert elastic_change(role, {"CPU": 10}, 1120) is None  # false: the count starts again
    assert elastic_change(role, {"CPU": 90}, 1180) is None
    assert elastic_change(role, {"CPU": 90}, 1240) is None
    assert elastic_change(role, {"CPU": 90}, 1300) == 6
    assert role["elasticity_policies"][0]["expression_evaluated"] == "CPU[90.00] > 80"


def test_cron_and_start_time() -> None:
    assert cron_fields("0 9 * * mon-fri")[4] == {1, 2, 3, 4, 5}
    assert cron_fields("*/20 * * * *")[0] == {0, 20, 40}
    for bad in ("* * * *", "61 * * * *", "a b c d e", "5-1 * * * *"):
        with pytest.raises(BadRequest):
            cron_fields(bad)
    monday_0859 = 1_704_704_340  # 2024-01-08 08:59 UTC, a Monday
    role = {**ROLE, "scheduled_policies": [
        {"type": "CARDINALITY", "adjust": 8, "recurrence": "0 9 * * mon-fri"}]}
    assert scheduled_change(role, monday_0859) is None
    assert scheduled_change(role, monday_0859 + 90) == 8
    assert scheduled_change(role, monday_0859 + 150) is None  # once per matching minute
    once = {**ROLE, "scheduled_policies": [
        {"type": "CHANGE", "adjust": -1, "start_time": "2024-01-08T09:00:00Z"}]}
    assert scheduled_change(once, monday_0859) is None
    assert scheduled_change(once, monday_0859 + 61) == 3
    assert scheduled_change(once, monday_0859 + 3600) is None


def _cpu(percent: float) -> None:
    """Every dummy guest now reports this CPU."""
    for host in ("h0", "h1"):
        hypervisor = one_dummy.hypervisor(host)
        hypervisor.adopt({d: dataclasses.replace(dom, cpu=percent)
                          for d, dom in hypervisor.domains().items()})


def test_role_follows_cpu_with_cooldown(flow: Flow) -> None:
    flow.host("h0")
    flow.host("h1")
    flow.monitor()
    flow.rpc.ok("one.template.allocate", "NAME = n CPU = 0.1 MEMORY = 16")
    sid = flow.instantiate(flow.template({"name": "elastic", "roles": [{
        "name": "w", "template_id": 0, "cardinality": 2, "min_vms": 1, "max_vms": 4,
        "cooldown": 100, "elasticity_policies": [
            {"type": "CHANGE", "adjust": 2, "expression": "CPU > 80", "period": 60,
             "period_number": 2},
            {"type": "CHANGE", "adjust": -5, "expression": "CPU < 20", "period": 60,
             "period_number": 1}]}]}))
    flow.run()
    assert flow.service(sid)["state"] == S.RUNNING
    _cpu(95.0)
    flow.monitor()
    for _ in range(2):
        flow.clock.now += 60
        flow.run()
    role = flow.roles(sid)["w"]
    assert (role["cardinality"], len(role["nodes"])) == (4, 4)
    assert flow.service(sid)["state"] == S.COOLDOWN
    _cpu(95.0)
    flow.monitor()
    flow.clock.now += 120
    for _ in range(3):
        flow.clock.now += 60
        flow.run()
    assert flow.roles(sid)["w"]["cardinality"] == 4  # max_vms holds
    _cpu(5.0)
    flow.monitor()
    flow.clock.now += 60
    flow.run()
    role = flow.roles(sid)["w"]
    assert (role["cardinality"], len(role["nodes"])) == (1, 1)  # min_vms holds
