"""onezone against a plain oned: OpenNebula's SOLO server, a zone with no servers."""
from __future__ import annotations

from conftest import validate


def test_list_and_show_the_zone(ok, env):
    listing = ok("onezone", "list")
    assert listing.header == ["ID", "NAME", "ENDPOINT"]
    assert listing.row("0") == ["0", "OpenNebula", env.endpoint]
    shown = ok("onezone", "show", "0")
    for title in ("ZONE 0 INFORMATION", "ZONE SERVERS", "HA & FEDERATION SYNC STATUS",
                  "ZONE TEMPLATE"):
        assert title in shown.lines()
    assert shown.field("STATE") == "ENABLED"
    assert f'ENDPOINT="{env.endpoint}"' in shown.lines()
    assert ok("onezone", "show", "OpenNebula").out == shown.out
    validate(ok("onezone", "show", "0", "--xml").out, "zone.xsd")
    validate(ok("onezone", "list", "--xml").out, "zone_pool.xsd")


def test_a_zone_that_does_not_exist(run):
    missing = run("onezone", "show", "3")
    assert missing.code != 0 and "Error getting zone [3]." in missing.err
    assert "Traceback" not in missing.err
    unknown = run("onezone", "show", "Elsewhere")
    assert unknown.code != 0 and "Elsewhere" in unknown.err
