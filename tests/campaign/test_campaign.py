"""Issue 10's reliability campaign in bounded form ("How it is shown"); the long
form is `python -m bench.campaign`.

- crash: VM life cycles with kill -9 of oned at random points: nothing lost, stuck,
  leaked, booked twice or applied twice;
- crowd: 50 concurrent clients: no acknowledged append lost, no admin change
  reverted by a user's own update;
- fuzz: every method with hostile arguments as admin and as a plain user: only
  error replies, and every object still readable and deletable afterwards.

Each campaign runs once, against an `oned -f` of its own, and each invariant is a
test of its own, so a run says which ones hold. The seed is fixed so runs repeat;
CAMPAIGN_SEED picks another.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.campaign import crash, crowd, fuzz
from bench.campaign.findings import Findings

pytestmark = pytest.mark.slow
SEED = int(os.environ.get("CAMPAIGN_SEED", "10"))
CRASH = crash.CrashPlan(seed=SEED, vms=12, kills=3)
CAMPAIGNS: dict[str, tuple[Callable[[Path], Findings], tuple[str, ...]]] = {
    "crash": (lambda var: crash.run(CRASH, var), crash.ALL_CHECKS),
    "crowd": (lambda var: crowd.run(crowd.CrowdPlan(seed=SEED, clients=50), var),
              crowd.CHECKS),
    "fuzz": (lambda var: fuzz.run(fuzz.FuzzPlan(seed=SEED, examples=15), var), fuzz.ALL_CHECKS),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Findings]:
    """Each campaign's findings, run on first use; its whole table goes to the output."""
    done: dict[str, Findings] = {}

    def get(name: str) -> Findings:
        if name not in done:
            run, _ = CAMPAIGNS[name]
            done[name] = run(tmp_path_factory.mktemp(name))
            print(done[name].report())
        return done[name]
    return get


@pytest.mark.parametrize("name, check", [(name, check) for name, (_, checks) in CAMPAIGNS.items()
                                         for check in checks])
def test_invariant_holds(results: Callable[[str], Findings], name: str, check: str) -> None:
    findings = results(name)
    assert findings.counts[check] == 0, findings.explain(check)


def test_crash_campaign_ran_its_course(results: Callable[[str], Findings]) -> None:
    """The crash figures mean something only if its kills and life cycles happened."""
    findings = results("crash")
    assert findings.info["kills"] == CRASH.kills, findings.report()
    assert findings.info["VMs driven"] == CRASH.vms, findings.report()
