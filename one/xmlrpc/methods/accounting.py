"""one.vmpool.accounting, one.vmpool.showback and one.vmpool.calculateshowback."""
from __future__ import annotations

from one.core.auth import Session
from one.core.managers import Managers
from one.xmlrpc.api import Api, I
from one.xmlrpc.methods.listing import escaped_pool
from one.xmlrpc.wire import Escaped

MONTHS = [I("first_month"), I("first_year"), I("last_month"), I("last_year")]


def register(api: Api, m: Managers) -> None:
    books = m.accounting

    def accounting(s: Session, flag: int, start: int, end: int) -> Escaped:
        return escaped_pool("HISTORY_RECORDS", books.records(s, flag, start, end))

    api.add("one.vmpool.accounting", [I("filter"), I("start"), I("end")], accounting,
            "HISTORY records overlapping [start, end) (-1: open) of the VMs the filter selects.")

    def showback(s: Session, flag: int, first_month: int, first_year: int, last_month: int,
                 last_year: int) -> Escaped:
        return escaped_pool("SHOWBACK_RECORDS", books.showback(
            s, flag, first_month, first_year, last_month, last_year))

    api.add("one.vmpool.showback", [I("filter"), *MONTHS], showback,
            "Monthly costs stored by calculateshowback (-1/-1: no limit).")

    def calculate(s: Session, first_month: int, first_year: int, last_month: int,
                  last_year: int) -> str:
        books.calculate(s, first_month, first_year, last_month, last_year)
        return ""

    api.add("one.vmpool.calculateshowback", MONTHS, calculate,
            "Computes and stores each VM's monthly cost (oneadmin group only).")
