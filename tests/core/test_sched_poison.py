"""One poisoned row (written straight into the database, as older versions or a
hand edit could leave it) cannot stop a scheduler cycle, nor be left unreadable."""
from __future__ import annotations

import json
from pathlib import Path

import one_dummy

from conftest import Engine, database, start_oned
from one.cli.xmldoc import parse
from one.states import LcmState as L, VmState as S

CONF = "MAX_HOST = 10\n"
HUGE = "h" * (11 * 1024 * 1024)  # beyond libxml2's 10 MB text node


def _poison(var: Path, vms: dict[str, int], hosts: dict[str, int]) -> None:
    with database(var) as db:
        def template(vid: int) -> str:
            return db.execute("SELECT template FROM vm WHERE oid = ?", (vid,)).fetchone()[0]

        for value, vid in (("inf", vms["inf"]), ("1e308", vms["1e308"])):
            text = template(vid).replace("<CPU><![CDATA[1]]></CPU>",
                                         f"<CPU><![CDATA[{value}]]></CPU>")
            db.execute("UPDATE vm SET template = ? WHERE oid = ?", (text, vid))
        db.execute("UPDATE vm SET template = '<TEMPLATE><CPU>' WHERE oid = ?", (vms["corrupt"],))
        user = f"<USER_TEMPLATE><HUGE><![CDATA[{HUGE}]]></HUGE></USER_TEMPLATE>"
        db.execute("UPDATE vm SET user_template = ?, body = '', pool_body = '' WHERE oid = ?",
                   (user, vms["huge"]))
        for column, name, value in (("share", "MAX_CPU", "lots"),
                                    ("monitoring", "FREE_MEM", 10**400)):
            oid = hosts[name]
            row = db.execute(f"SELECT {column} FROM host WHERE oid = ?", (oid,)).fetchone()
            stored = json.loads(row[0])
            stored[name] = value
            db.execute(f"UPDATE host SET {column} = ? WHERE oid = ?", (json.dumps(stored), oid))


def test_poison_rows_are_skipped_and_the_cycle_places_the_rest(tmp_path: Path) -> None:
    one_dummy.reset()
    first = Engine(start_oned(tmp_path, config_text=CONF))
    try:
        good = first.host("good", "TOTALCPU = 1600")
        hosts = {name: first.host(name, "TOTALCPU = 1600") for name in ("MAX_CPU", "FREE_MEM")}
        first.monitor()
        healthy = [first.vm() for _ in range(3)]
        vms = {kind: first.vm() for kind in ("inf", "1e308", "corrupt", "huge")}
    finally:
        first.oned.stop()
    _poison(tmp_path, vms, hosts)

    engine = Engine(start_oned(tmp_path, config_text=CONF))  # across a restart of oned
    try:
        report = engine.oned.managers.scheduler.cycle()
        engine.settle()
        placed = dict(report.dispatched)
        assert placed == {vid: good for vid in [*healthy, vms["huge"]]}
        for kind in ("inf", "1e308"):
            assert engine.phase(vms[kind]) == (S.PENDING, 0)
            message = engine.doc("one.vm.info", vms[kind]).findtext("USER_TEMPLATE/SCHED_MESSAGE")
            assert message.startswith("Cannot schedule VM: CPU attribute must be")
            assert kind in message
        assert engine.phase(vms["corrupt"]) == (S.PENDING, 0)
        assert engine.oned.managers.scheduler.cycle().dispatched == []  # and again, calmly

        # the oversized row can be read, listed (also by the CLI's parser) and terminated
        huge = vms["huge"]
        doc = parse(engine.rpc.ok("one.vm.info", huge))
        assert (doc.findtext("STATE"), doc.findtext("LCM_STATE")) == (str(S.ACTIVE), str(L.RUNNING))
        assert len(doc.findtext("USER_TEMPLATE/HUGE")) == len(HUGE)
        listing = parse(engine.rpc.ok("one.vmpool.info", -2, -1, -1, -1))
        assert str(huge) in [vm.findtext("ID") for vm in listing]
        engine.rpc.ok("one.vm.action", "terminate-hard", huge)
        engine.settle()
        assert parse(engine.rpc.ok("one.vm.info", huge)).findtext("STATE") == str(S.DONE)
    finally:
        engine.oned.stop()
        one_dummy.reset()


def test_oversized_pending_row_can_be_deleted(tmp_path: Path) -> None:
    first = Engine(start_oned(tmp_path, config_text="SCHED = no\n"))
    try:
        vid = first.vm()
    finally:
        first.oned.stop()
    huge = f"<USER_TEMPLATE><HUGE><![CDATA[{HUGE}]]></HUGE></USER_TEMPLATE>"
    with database(tmp_path) as db:
        db.execute("UPDATE vm SET user_template = ?, body = '', pool_body = '' WHERE oid = ?",
                   (huge, vid))
    engine = Engine(start_oned(tmp_path, config_text="SCHED = no\n"))
    try:
        engine.rpc.ok("one.vm.recover", vid, 3)
        engine.settle()
        assert parse(engine.rpc.ok("one.vm.info", vid)).findtext("STATE") == str(S.DONE)
        assert parse(engine.rpc.ok("one.vmpool.info", -2, -1, -1, -1)).find("VM") is None
    finally:
        engine.oned.stop()
