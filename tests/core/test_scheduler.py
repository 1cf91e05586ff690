"""The scheduling cycle: filters, capacity, policies, limits, resched, messages,
failures that must not stop a cycle, and agreement with a naive reference
that re-ranks every host for every VM."""
from __future__ import annotations

import random
from typing import Any

import pytest

from one.core.scheduler.expressions import compile_rank, compile_requirements
from one.core.scheduler.policies import rounded_free_cpu
from one.core.scheduler.scheduler import (
    NO_HOSTS, CycleReport, PendingVm, SchedConfig, SchedHost, Scheduler,
)
from one.errors import TemplateSyntaxError

GB = 1024 ** 2  # KB


def host(id: int, cpu: int = 400, mem: int = 4 * GB, cluster: int = 0, running: int = 0,
         cpu_usage: int = 0, mem_usage: int = 0, free_cpu: int | None = None,
         **template: Any) -> SchedHost:
    """A host whose expression variables look like the core's: template text
    first, then HOST_SHARE numbers, then ID/NAME/CLUSTER_ID."""
    variables = {"HOSTNAME": f"host{id}", "HYPERVISOR": "kvm", "TOTALCPU": str(cpu), **template,
                 "MAX_CPU": cpu, "MAX_MEM": mem, "CPU_USAGE": cpu_usage, "MEM_USAGE": mem_usage,
                 "RUNNING_VMS": running, "ID": id, "NAME": f"host{id}", "CLUSTER_ID": cluster}
    return SchedHost(id, f"host{id}", cluster, cpu, cpu_usage, mem, mem_usage, running,
                     cpu - cpu_usage if free_cpu is None else free_cpu, variables)


def vm(id: int, cpu: float = 1, memory: int = 512, **fields: Any) -> PendingVm:
    return PendingVm(id, cpu, memory, **fields)


def run(vms: list[PendingVm], hosts: list[SchedHost], **config: Any) -> CycleReport:
    config = {"max_dispatch": 1000, "max_host": 1000, **config}
    return Scheduler(SchedConfig(**config), lambda vm_id, host_id, resched: None).cycle(vms, hosts)


def placed(vms: list[PendingVm], hosts: list[SchedHost], **config: Any) -> dict[int, int]:
    return dict(run(vms, hosts, **config).dispatched)


# --- filtering -------------------------------------------------------------------

@pytest.mark.parametrize("requirements, expected", [
    ("TOTALCPU > 400", 2),                 # template text "800" compares as a number
    ('HOSTNAME = "host1"', 1),
    ('HOSTNAME = "host*" & !(HOSTNAME = "host1")', 2),
    ('HYPERVISOR = "lx?"', 3),
    ("GPUS > 0", 3),                       # missing on hosts 1 and 2: counts as 0
    ("GPUS < 1", 1),
    ('RACK = "a"', None),                  # missing string: never equal
])
def test_requirements_choose_the_host(requirements: str, expected: int | None) -> None:
    hosts = [host(1), host(2, cpu=800), host(3, HYPERVISOR="lxc", GPUS="2")]
    assert placed([vm(1, requirements=requirements)], hosts).get(1) == expected


@pytest.mark.parametrize("cpu, memory, expected", [
    (2, 1024, 2),     # exact fit of both on host 2
    (2.5, 1024, 3),   # one CPU share too many for host 2
    (2, 1025, 3),     # one MB too many for host 2
    (0, 0, 1),        # no CPU/MEMORY needs nothing: even a full host fits
    (9, 1, None),
])
def test_capacity_counts_cpu_and_memory(cpu: float, memory: int, expected: int | None) -> None:
    hosts = [host(1, cpu=400, cpu_usage=400, mem=GB, mem_usage=GB),
             host(2, cpu=400, cpu_usage=200, mem=2 * GB, mem_usage=GB),
             host(3, cpu=800, mem=8 * GB)]
    assert placed([vm(1, cpu, memory, rank="-ID")], hosts).get(1) == expected


def test_capacity_booked_in_the_cycle_is_seen_by_later_vms() -> None:
    hosts = [host(1, cpu=300), host(2, cpu=300)]
    assert placed([vm(i, cpu=2) for i in range(3)], hosts, policy=0) == {0: 1, 1: 2}


def test_requirements_on_booked_variables_are_evaluated_again() -> None:
    hosts = [host(1), host(2)]
    vms = [vm(i, cpu=0.1, requirements="RUNNING_VMS < 2") for i in range(5)]
    assert placed(vms, hosts, policy=0) == {0: 1, 1: 1, 2: 2, 3: 2}


def test_cluster_filter() -> None:
    hosts = [host(1, cluster=100), host(2, cluster=101), host(3, cluster=102)]
    vms = [vm(1, cluster_ids=frozenset({101, 102})), vm(2, cluster_ids=frozenset({102}))]
    assert placed(vms, hosts, policy=0) == {1: 2, 2: 3}


def test_frozen_inputs_are_left_alone() -> None:
    hosts = [host(1)]
    before = dict(hosts[0].variables)
    run([vm(1), vm(2)], hosts)
    assert hosts[0].variables == before and hosts[0].running_vms == 0


# --- ranking ---------------------------------------------------------------------

def test_packing_fills_one_host_first() -> None:
    hosts = [host(1, cpu=200), host(2, cpu=200), host(3, cpu=200, running=1)]
    assert placed([vm(i) for i in range(5)], hosts, policy=0) == {
        0: 3, 1: 3, 2: 1, 3: 1, 4: 2}


def test_striping_spreads() -> None:
    hosts = [host(1), host(2), host(3, running=1)]
    assert placed([vm(i, cpu=0.5) for i in range(5)], hosts, policy=1) == {
        0: 1, 1: 2, 2: 1, 3: 2, 4: 3}


def test_load_aware_prefers_free_cpu_and_counts_what_it_books() -> None:
    hosts = [host(1, free_cpu=100), host(2, free_cpu=300), host(3, free_cpu=250)]
    assert placed([vm(i) for i in range(3)], hosts, policy=2) == {0: 2, 1: 3, 2: 2}


def test_load_aware_rounds_nearly_idle_hosts_up() -> None:
    """97 % and 99 % idle both count as idle, so the host id decides."""
    hosts = [host(1, free_cpu=388), host(2, free_cpu=396), host(3, free_cpu=350)]
    assert placed([vm(1)], hosts, policy=2) == {1: 1}
    assert placed([vm(1)], hosts, policy=2, cpu_threshold=0.99) == {1: 2}
    assert rounded_free_cpu(350, 400, 0.9) == 350 and rounded_free_cpu(360, 400, 0.9) == 400


def test_custom_policy_rank() -> None:
    hosts = [host(1), host(2, cpu=800), host(3, cpu=600)]
    assert placed([vm(1)], hosts, policy=3, rank="TOTALCPU") == {1: 2}
    assert placed([vm(1)], hosts, policy=3, rank="-TOTALCPU") == {1: 1}


def test_fixed_policy_ranks_by_priority() -> None:
    hosts = [host(1, PRIORITY="5"), host(2, PRIORITY="9"), host(3)]
    assert placed([vm(1), vm(2)], hosts, policy=4) == {1: 2, 2: 2}


def test_vm_rank_overrides_the_policy() -> None:
    hosts = [host(1), host(2, cpu=800)]
    vms = [vm(1, rank="TOTALCPU"), vm(2), vm(3, rank="-RUNNING_VMS")]
    assert placed(vms, hosts, policy=0) == {1: 2, 2: 2, 3: 1}


def test_ties_go_to_the_lowest_host_id_whatever_the_input_order() -> None:
    hosts = [host(i, cpu=100 * (i % 3 + 1)) for i in range(30)]
    vms = [vm(i, cpu=0.5, rank="-RUNNING_VMS" if i % 2 else "") for i in range(60)]
    expected = run(vms, hosts, policy=0).dispatched
    shuffler = random.Random(7)
    for _ in range(3):
        shuffler.shuffle(hosts)
        shuffler.shuffle(vms)
        assert run(vms, hosts, policy=0).dispatched == expected
    assert expected[:2] == [(0, 0), (1, 1)]


def test_bad_policy_configuration_fails_at_start() -> None:
    with pytest.raises(ValueError):
        Scheduler(SchedConfig(policy=7), lambda *args: None)
    with pytest.raises(TemplateSyntaxError):
        Scheduler(SchedConfig(policy=3, rank="FREE_CPU +"), lambda *args: None)


# --- limits ----------------------------------------------------------------------

def test_max_vm_takes_the_lowest_ids() -> None:
    report = run([vm(i) for i in (5, 3, 9, 1)], [host(1)], max_vm=2)
    assert [vm_id for vm_id, _ in report.dispatched] == [1, 3]
    assert report.matched == 2 and report.messages == {}


def test_max_dispatch() -> None:
    report = run([vm(i, cpu=0.1) for i in range(5)], [host(1), host(2)], max_dispatch=2)
    assert report.dispatched == [(0, 1), (1, 2)] and report.matched == 2
    assert set(report.messages) == {2, 3, 4}
    assert "MAX_DISPATCH (2)" in report.messages[4]


def test_max_host() -> None:
    report = run([vm(i, cpu=0.1) for i in range(5)], [host(1), host(2)], max_host=2, policy=0)
    assert report.dispatched == [(0, 1), (1, 1), (2, 2), (3, 2)]
    assert "MAX_HOST (2)" in report.messages[4]


# --- resched ---------------------------------------------------------------------

def test_resched_moves_to_another_host() -> None:
    calls: list[tuple[int, int, bool]] = []
    hosts = [host(1, running=5), host(2, running=1), host(3, running=2)]
    report = Scheduler(SchedConfig(), lambda *args: calls.append(args)).cycle(
        [vm(1, resched=True, host_id=2)], hosts)
    assert calls == [(1, 3, True)] and report.dispatched == [(1, 3)]


def test_resched_stays_when_no_other_host_fits() -> None:
    hosts = [host(1, cpu=100), host(2), host(3, HYPERVISOR="xen")]
    report = run([vm(1, cpu=2, resched=True, host_id=2, requirements='HYPERVISOR = "kvm"')],
                 hosts)
    assert report.dispatched == []
    assert report.messages[1] == ("No host other than the current one meets capacity and "
                                  'SCHED_REQUIREMENTS: HYPERVISOR = "kvm"')


# --- messages and failures -------------------------------------------------------

@pytest.mark.parametrize("pending, hosts, message", [
    (vm(1), [], NO_HOSTS),
    (vm(1, cpu=8), [host(1)], "No host with enough capacity to deploy the VM"),
    (vm(1, memory=8192), [host(1)], "No host with enough capacity to deploy the VM"),
    (vm(1, requirements="ID = 2"), [host(1)],
     "No host meets capacity and SCHED_REQUIREMENTS: ID = 2"),
    (vm(1, cluster_ids=frozenset({100, 7})), [host(1)],
     "No host in the VM's clusters (7, 100) is enabled to run VMs"),
    (vm(1, requirements="ID = = 2"), [host(1)],
     "Error in SCHED_REQUIREMENTS: 'ID = = 2', error: Parse error at line 1, column 6: "
     "expected a value after '=', found '='"),
    (vm(1, rank="FREE_CPU *"), [host(1)],
     "Error in SCHED_RANK: 'FREE_CPU *', error: Parse error at line 1, column 11: "
     "unexpected end of expression, expected a number or variable"),
])
def test_messages(pending: PendingVm, hosts: list[SchedHost], message: str) -> None:
    report = run([pending], hosts)
    assert report.messages == {1: message} and report.dispatched == []


def test_a_larger_vm_of_a_group_gets_the_same_answer() -> None:
    vms = [vm(1, cpu=2, requirements="ID = 1"), vm(2, cpu=1, requirements="ID = 1"),
           vm(3, cpu=3, requirements="ID = 1")]
    report = run(vms, [host(1, cpu=150), host(2)])
    assert report.dispatched == [(2, 1)]
    assert report.messages[1] == report.messages[3] == (
        "No host meets capacity and SCHED_REQUIREMENTS: ID = 1")


def test_a_bad_expression_does_not_stop_the_others() -> None:
    vms = [vm(1, requirements="CPU >"), vm(2), vm(3, rank="("), vm(4, requirements="CPU >")]
    report = run(vms, [host(1)])
    assert report.dispatched == [(2, 1)] and sorted(report.messages) == [1, 3, 4]
    assert report.matched == 4


def test_a_failing_deploy_does_not_stop_the_cycle_nor_book_the_host() -> None:
    def deploy(vm_id: int, host_id: int, resched: bool) -> None:
        if vm_id == 1:
            raise RuntimeError("VM 1 changed state")

    report = Scheduler(SchedConfig(max_host=1), deploy).cycle([vm(1), vm(2)], [host(7)])
    assert report.dispatched == [(2, 7)]
    assert report.messages == {1: "Cannot dispatch VM to host 7: VM 1 changed state"}


# --- agreement with a naive reference --------------------------------------------

REQUIREMENTS = ["", 'HYPERVISOR = "kvm"', "ID = 3", "ID > 20", "RUNNING_VMS < 2",
                'HOSTNAME = "host1*" | CPU_USAGE > 300', "MEM_USAGE < 1048576", "BAD >"]
RANKS = ["", "", "FREE_CPU", "RUNNING_VMS", "-CPU_USAGE", "PRIORITY - RUNNING_VMS"]


def reference(vms: list[PendingVm], hosts: list[SchedHost],
              config: SchedConfig) -> list[tuple[int, int]]:
    """The cycle as specified, with no caching and a full sort per VM."""
    hosts = sorted(hosts, key=lambda h: h.id)
    cpu_free = {h.id: h.max_cpu - h.cpu_usage for h in hosts}
    mem_free = {h.id: h.max_mem - h.mem_usage for h in hosts}
    load = {h.id: rounded_free_cpu(h.free_cpu, h.max_cpu, config.cpu_threshold) for h in hosts}
    got = dict.fromkeys(cpu_free, 0)
    variables = {h.id: {**h.variables, "CPU_USAGE": h.cpu_usage, "MEM_USAGE": h.mem_usage,
                        "RUNNING_VMS": h.running_vms} for h in hosts}
    policy = {0: "RUNNING_VMS", 1: "-RUNNING_VMS", 3: config.rank, 4: "PRIORITY"}
    dispatched = []
    for pending in sorted(vms, key=lambda v: v.id)[:config.max_vm]:
        if len(dispatched) >= config.max_dispatch or "BAD" in pending.requirements:
            continue
        cpu, memory = round(pending.cpu * 100), pending.memory * 1024
        text = pending.rank or policy.get(config.policy)
        rank = (lambda h: load[h.id]) if text is None else (
            lambda h: compile_rank(text)(variables[h.id]))
        fit = [h for h in hosts if cpu_free[h.id] >= cpu and mem_free[h.id] >= memory
               and got[h.id] < config.max_host and not (pending.resched and h.id == pending.host_id)
               and (pending.cluster_ids is None or h.cluster_id in pending.cluster_ids)
               and compile_requirements(pending.requirements)(variables[h.id])]
        if fit:
            best = min(fit, key=lambda h: (-rank(h), h.id)).id
            cpu_free[best] -= cpu
            mem_free[best] -= memory
            load[best] -= cpu
            got[best] += 1
            for name, step in (("CPU_USAGE", cpu), ("MEM_USAGE", memory), ("RUNNING_VMS", 1)):
                variables[best][name] += step
            dispatched.append((pending.id, best))
    return dispatched


def random_case(seed: int) -> tuple[list[PendingVm], list[SchedHost], SchedConfig]:
    rng = random.Random(seed)
    hosts = [host(i, cpu=rng.choice((100, 200, 400)), mem=rng.choice((1, 2, 4)) * GB,
                  cluster=rng.choice((0, 1)), running=rng.randrange(3),
                  cpu_usage=rng.choice((0, 50, 100)), free_cpu=rng.randrange(0, 420, 10),
                  HYPERVISOR=rng.choice(("kvm", "kvm", "lxc")), PRIORITY=str(rng.randrange(4)))
             for i in rng.sample(range(40), rng.randrange(0, 30))]
    vms = [vm(i, cpu=rng.choice((0, 0.1, 0.5, 1, 2)), memory=rng.choice((0, 128, 512, 2048)),
              requirements=rng.choice(REQUIREMENTS), rank=rng.choice(RANKS),
              resched=(resched := rng.random() < 0.1),
              host_id=rng.randrange(40) if resched else -1,
              cluster_ids=rng.choice((None, None, frozenset({1}))))
           for i in rng.sample(range(500), 150)]
    config = SchedConfig(max_vm=rng.choice((50, 150)), max_dispatch=rng.choice((20, 150)),
                         max_host=rng.choice((1, 3, 50)), policy=rng.randrange(5),
                         rank="FREE_CPU - RUNNING_VMS * 10", cpu_threshold=rng.random())
    return vms, hosts, config


@pytest.mark.parametrize("seed", range(40))
def test_agrees_with_the_naive_reference(seed: int) -> None:
    vms, hosts, config = random_case(seed)
    report = Scheduler(config, lambda *args: None).cycle(vms, hosts)
    assert report.dispatched == reference(vms, hosts, config)
    considered = {v.id for v in sorted(vms, key=lambda v: v.id)[:config.max_vm]}
    assert set(report.messages) == considered - {vm_id for vm_id, _ in report.dispatched}


def test_a_rank_that_cannot_be_evaluated_skips_only_its_vms() -> None:
    """A number no float can hold makes the rank raise on one host: the VMs
    ranking by it get a SCHED_MESSAGE, the others are placed."""
    hosts = [host(1, FREE_MEM=10**400), host(2)]
    report = run([vm(1, rank="FREE_MEM * 1.5"), vm(2), vm(3, rank="FREE_MEM * 1.5")], hosts)
    assert [vm_id for vm_id, _ in report.dispatched] == [2]
    assert report.messages[1].startswith("Cannot schedule VM: OverflowError")
    assert report.messages[3] == report.messages[1]
