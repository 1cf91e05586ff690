"""onezone: the zone and its servers, with each server's role in a highly available
group (`oned --ha`), as OpenNebula's onezone shows a Raft zone."""
from __future__ import annotations

import sys

from one.cli.base import Tool
from one.cli.commands import list_command, show_command
from one.cli.pools import PoolSpec
from one.cli.sections import Fields, Rows, TemplateText
from one.cli.table import Column, label, right
from one.cli.xmldoc import Element

ZONE = PoolSpec("ZONE", "one.zone", "one.zonepool.info", "ZONE")
ROLES = {"0": "solo", "1": "candidate", "2": "follower", "3": "leader"}


def _zone_state(element: Element) -> str:
    return {"0": "ENABLED", "1": "DISABLED"}.get(element.findtext("STATE", default=""), "-")


def _role(element: Element) -> str:
    """A server that did not answer has no STATE: OpenNebula prints `error`."""
    return ROLES.get(element.findtext("STATE", default=""), "error")


COLUMNS = (right("ID", "ID", 2), label("NAME", "NAME", 15),
           label("ENDPOINT", "TEMPLATE/ENDPOINT", 35))
SERVER = (right("ID", "ID", 2), label("NAME", "NAME", 15))
SECTIONS = (
    Fields("ZONE {ID} INFORMATION", (Column("ID", "ID"), Column("NAME", "NAME"),
                                     Column("STATE", _zone_state))),
    Rows("ZONE SERVERS", "SERVER_POOL/SERVER", SERVER + (Column("ENDPOINT", "ENDPOINT"),)),
    Rows("HA & FEDERATION SYNC STATUS", "SERVER_POOL/SERVER",
         SERVER + (Column("STATE", _role, 10), right("TERM", "TERM", 10),
                   right("INDEX", "LOG_INDEX", 10), right("COMMIT", "COMMIT", 10),
                   right("VOTE", "VOTEDFOR", 5), right("FED_INDEX", "FEDLOG_INDEX", 10))),
    TemplateText("ZONE TEMPLATE", "TEMPLATE"),
)
COMMANDS = (
    list_command(ZONE, COLUMNS),
    show_command(ZONE, SECTIONS),
)
TOOL = Tool("onezone", "Shows the OpenNebula zone and its servers.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
