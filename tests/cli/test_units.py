"""Formatting and document conversion, checked without a server."""
from __future__ import annotations

import argparse
import io
import json

import pytest
from lxml import etree
from rich.console import Console

from one.cli import onedatastore, oneimage, onevm
from one.cli.base import Context
from one.cli.errors import USAGE, CliError
from one.cli.format import elapsed, megabytes, octal_bits, pairs, period, short_period, size, vector
from one.cli.onehost import allocated
from one.cli.sections import render_show, template_text
from one.cli.table import render_table
from one.cli.xmldoc import document_data, element_data
from one.states import ImageState


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (128, "M", "128M"), (1536, "M", "1.5G"), (1024, "M", "1024M"), (2048, "M", "2G"),
    (0, "K", "0K"), (7864320, "K", "7.5G"), ("", "M", "-"), (None, "M", "-"), (-1, "K", "-"),
])
def test_size_follows_unit_to_str(value, unit, shown):
    assert size(value, unit) == shown


def test_period_and_elapsed_print_days_hours_minutes():
    assert period(3720) == "0d 01h02"
    assert period(90061) == "1d 01h01"
    assert elapsed("100", "3820") == "0d 01h02"
    assert short_period(3725) == "1h02m05s" and short_period(-5) == "0h00m00s"


@pytest.mark.parametrize(("text", "bits"), [
    ("640", [1, 1, 0, 1, 0, 0, 0, 0, 0]), ("777", [1] * 9), ("000", [0] * 9),
    ("604", [1, 1, 0, 0, 0, 0, 1, 0, 0]),
])
def test_octal_bits(text, bits):
    assert octal_bits(text) == bits


@pytest.mark.parametrize("text", ["8", "6400", "abc", "64", "-64", "680"])
def test_bad_octal_is_a_usage_error(text):
    with pytest.raises(CliError, match="three octal digits") as info:
        octal_bits(text)
    assert info.value.exit_code == USAGE


def test_vector_and_pairs_quote_values():
    text = vector("AR", {"TYPE": "IP4", "NOTE": 'a "b", c'})
    assert text == r'AR=[TYPE="IP4", NOTE="a \"b\", c"]'
    assert pairs({"NAME": "disk", "SIZE": "8"}) == 'NAME="disk"\nSIZE="8"'


@pytest.mark.parametrize(("text", "mb"), [
    ("512", 512), ("512M", 512), ("10G", 10240), ("1.5gb", 1536), (" 2 mb", 2), ("1T", 2**20),
])
def test_sizes_take_opennebula_units(text, mb):
    assert megabytes(text) == mb


@pytest.mark.parametrize("text", ["", "lots", "-1", "10K", "1.5.2G"])
def test_bad_size_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected a size"):
        megabytes(text)


def test_repeated_elements_become_lists_and_pool_items_always_are():
    one = etree.fromstring("<VM_POOL><VM><ID>1</ID><T><A>x</A><A>y</A></T><E/></VM></VM_POOL>")
    data = document_data(one, "VM")
    assert data == {"VM_POOL": {"VM": [{"ID": "1", "T": {"A": ["x", "y"]}, "E": ""}]}}
    assert json.loads(json.dumps(data)) == data
    assert document_data(etree.fromstring("<VM_POOL/>"), "VM") == {"VM_POOL": {"VM": []}}
    assert element_data(etree.fromstring("<X>text</X>")) == "text"


def test_template_text_prints_vectors_back_as_template_syntax():
    element = etree.fromstring('<TEMPLATE><CPU>1</CPU><NIC><IP>1.2.3.4</IP><M>a"b</M></NIC>'
                               '</TEMPLATE>')
    assert template_text(element) == 'CPU="1"\nNIC=[\n  IP="1.2.3.4",\n  M="a\\"b" ]'


def test_allocated_capacity_shows_ratio_or_dash():
    host = etree.fromstring("<HOST><HOST_SHARE><CPU_USAGE>50</CPU_USAGE><MAX_CPU>400</MAX_CPU>"
                            "<MEM_USAGE>1048576</MEM_USAGE><MAX_MEM>7864320</MAX_MEM>"
                            "</HOST_SHARE></HOST>")
    assert allocated("CPU", str)(host) == "50 / 400 (12%)"
    assert allocated("MEM", size)(host) == "1024M / 7.5G (13%)"
    assert allocated("CPU", str)(etree.fromstring("<HOST/>")) == "-"


RUNNING_VM = """<VM><ID>7</ID><UNAME>ann</UNAME><GNAME>dev</GNAME><NAME>web</NAME>
<STATE>3</STATE><LCM_STATE>3</LCM_STATE><STIME>1000</STIME><ETIME>4720</ETIME>
<MONITORING><CPU>12.5</CPU><MEMORY>262144</MEMORY><NETRX>2558</NETRX><NETTX>3145728</NETTX>
</MONITORING>
<TEMPLATE><CPU>2</CPU><MEMORY>4096</MEMORY></TEMPLATE>
<USER_TEMPLATE><ERROR>Mon Jan 1: boot failed</ERROR></USER_TEMPLATE>
<HISTORY_RECORDS>
<HISTORY><SEQ>0</SEQ><HOSTNAME>node1</HOSTNAME><DS_ID>0</DS_ID><STIME>1000</STIME>
<ETIME>1600</ETIME><PSTIME>1000</PSTIME><PETIME>1065</PETIME><ACTION>1</ACTION></HISTORY>
<HISTORY><SEQ>1</SEQ><HOSTNAME>node2</HOSTNAME><DS_ID>0</DS_ID><STIME>1600</STIME>
<ETIME>0</ETIME><PSTIME>0</PSTIME><PETIME>0</PETIME><ACTION>0</ACTION></HISTORY>
</HISTORY_RECORDS></VM>"""


def rendered(draw) -> str:
    console = Console(file=io.StringIO(), width=200)
    draw(console)
    return console.file.getvalue()


def test_vm_row_uses_last_host_and_end_time():
    vm = etree.fromstring(RUNNING_VM)
    out = rendered(lambda console: render_table(console, onevm.COLUMNS, [vm]))
    assert out.splitlines()[1].split() == ["7", "ann", "dev", "web", "runn", "2", "4G",
                                           "node2", "0d", "01h02"]


def test_vm_off_its_host_shows_no_host():
    vm = etree.fromstring(RUNNING_VM.replace("<STATE>3</STATE>", "<STATE>4</STATE>"))
    out = rendered(lambda console: render_table(console, onevm.COLUMNS, [vm]))
    assert out.splitlines()[1].split()[4:8] == ["stop", "2", "4G", "0d"]


def test_vm_show_has_monitoring_history_and_error():
    vm = etree.fromstring(RUNNING_VM)
    out = rendered(lambda console: render_show(console, onevm.SECTIONS, vm))
    lines = out.splitlines()
    assert "STATE               : ACTIVE" in lines and "LCM_STATE           : RUNNING" in lines
    assert "HOST                : node2" in lines
    assert "ERROR               : Mon Jan 1: boot failed" in lines
    assert not any(line.startswith("SCHED_MESSAGE") for line in lines)
    monitoring = lines[lines.index("VIRTUAL MACHINE MONITORING") + 1:][:4]
    assert monitoring == ["CPU                 : 12.5", "MEMORY              : 256M",
                          "NETTX               : 3M", "NETRX               : 2K"]
    history = lines[lines.index("VIRTUAL MACHINE HISTORY") + 1:]
    assert history[0].split() == ["SEQ", "HOST", "ACTION", "START", "TIME", "PROLOG"]
    assert history[1].split()[:3] == ["0", "node1", "migrate"]
    assert history[1].split()[-3:] == ["0d", "00h10", "0h01m05s"]
    assert history[2].split()[:3] == ["1", "node2", "none"]
    assert history[2].split()[-1] == "0h00m00s"


def test_wait_shows_progress_on_a_terminal_and_clears_it(monkeypatch):
    monkeypatch.setattr(oneimage, "WAIT_DELAY", 0)
    states = iter([ImageState.LOCKED, ImageState.LOCKED, ImageState.READY])
    err = Console(file=io.StringIO(), force_terminal=True, width=80)
    ctx = Context(Console(file=io.StringIO()), err)
    monkeypatch.setattr(ctx, "call", lambda method, oid: (
        f"<IMAGE><ID>{oid}</ID><STATE>{int(next(states))}</STATE></IMAGE>"))
    oneimage.wait_ready(ctx, 5)
    assert "IMAGE 5: copying" in err.file.getvalue() and next(states, None) is None


def test_datastore_without_capacity_shows_dashes():
    ds = etree.fromstring("<DATASTORE><ID>9</ID><NAME>new</NAME><TYPE>7</TYPE><STATE>1</STATE>"
                          "<TOTAL_MB>0</TOTAL_MB><FREE_MB>0</FREE_MB></DATASTORE>")
    out = rendered(lambda console: render_table(console, onedatastore.COLUMNS, [ds]))
    assert out.splitlines()[1].split() == ["9", "new", "0M", "-", "0", "unkn", "off"]


def test_plot_scales_a_series_into_rows_of_blocks():
    from one.cli.plot import plot
    rising = plot("CPU", [(1_800_000_000 + 60 * i, float(i)) for i in range(10)], width=10,
                  height=4)
    lines = rising.splitlines()
    assert lines[0] == "CPU  last 9  min 0  max 9" and len(lines) == 6
    assert lines[1].startswith("9 ┤") and lines[4].startswith("0 ┤")
    assert lines[4][3:] == "▁▄" + "█" * 8  # the bottom row: the least value is one eighth
    assert lines[1][3:].rstrip().endswith("█") and lines[1][3] == " "
    assert plot("CPU", []) == "CPU: no samples"
    flat = plot("MEM", [(1, 5.0), (61, 5.0)], width=10, height=4).splitlines()
    assert flat[1][3:].strip() == "" and flat[4][3:] == "█" + " " * 8 + "█"
