"""onedatastore: where images and running VMs' disks live, and how full it is."""
from __future__ import annotations

import sys

from one.cli.base import Tool
from one.cli.commands import (CLUSTER_ARG, create_command, delete_command, list_command,
                              ownership_commands, show_command, switch_commands)
from one.cli.pools import CLUSTER, DATASTORE
from one.cli.sections import PERMISSIONS, Fields, TemplateText, id_list
from one.cli.table import Column, counted, joined, label, named, right, short, sized
from one.cli.xmldoc import Element
from one.states import DatastoreState, DatastoreType

SHORT_TYPE = {DatastoreType.IMAGE: "img", DatastoreType.SYSTEM: "sys", DatastoreType.FILE: "fil"}
SHORT_STATE = {DatastoreState.READY: "on", DatastoreState.DISABLED: "off"}


def _free_percent(ds: Element) -> str:
    """AVA: free space as a share of the total, `-` while the total is unknown."""
    total = int(ds.findtext("TOTAL_MB") or 0)
    return f"{round(int(ds.findtext('FREE_MB') or 0) * 100 / total)}%" if total else "-"


COLUMNS = (
    right("ID", "ID", 4), label("USER", "UNAME", 8), label("GROUP", "GNAME", 8),
    label("NAME", "NAME", 13), right("SIZE", sized("TOTAL_MB", "M"), 8),
    right("AVA", _free_percent, 4), Column("CLUSTERS", joined("CLUSTERS/ID"), 8),
    right("IMAGES", counted("IMAGES/ID"), 6),
    Column("TYPE", short(DatastoreType, SHORT_TYPE, "TYPE"), 4),
    Column("DS", "DS_MAD", 6), Column("TM", "TM_MAD", 6),
    Column("STAT", short(DatastoreState, SHORT_STATE), 4),
)
SECTIONS = (
    Fields("DATASTORE {ID} INFORMATION", (
        Column("ID", "ID"), Column("NAME", "NAME"), Column("USER", "UNAME"),
        Column("GROUP", "GNAME"), Column("CLUSTERS", joined("CLUSTERS/ID")),
        Column("TYPE", named(DatastoreType, "TYPE")),
        Column("DS_MAD", "DS_MAD"), Column("TM_MAD", "TM_MAD"),
        Column("BASE PATH", "BASE_PATH"),
        Column("STATE", named(DatastoreState)),
    )),
    Fields("DATASTORE CAPACITY", tuple(Column(label, sized(f"{label}_MB", "M"))
                                       for label in ("TOTAL", "FREE", "USED"))),
    PERMISSIONS,
    TemplateText("DATASTORE TEMPLATE", "TEMPLATE"),
    id_list("IMAGES", "IMAGES/ID"),
)

COMMANDS = (
    list_command(DATASTORE, COLUMNS),
    show_command(DATASTORE, SECTIONS),
    create_command(DATASTORE, "Creates a datastore (TYPE, DS_MAD, TM_MAD) in a cluster",
                   (CLUSTER_ARG,), lambda ctx, ns: (ctx.optional(CLUSTER, ns.cluster),)),
    delete_command(DATASTORE),
    *ownership_commands(DATASTORE),
    *switch_commands(DATASTORE, "one.datastore.enable",
                     ("enable", "Enables system datastores"),
                     ("disable", "Disables system datastores")),
)
TOOL = Tool("onedatastore", "Manages OpenNebula datastores.", COMMANDS)
main = TOOL.main  # the console script: main(argv=None) -> exit status


if __name__ == "__main__":
    sys.exit(main())
