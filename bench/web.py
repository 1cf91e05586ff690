"""`python -m bench.web`: one-web's VM list page at 10,000 VMs.

One fresh oned (its own process) holding 10,000 VMs allocated on hold by 8
clients; one-web in this process (its threaded wsgiref server on 127.0.0.1:0),
signed in as oneadmin. Each figure is the median, over RUNS requests after a
warm-up, of a GET of the page until its last byte: the first, a middle and the
last page of 25 (oned's ranged one.vmpool.info), then a search and a sort by
name (which scan the pool in chunks of 2,500) and the dashboard, which have no
limit in the issue. The other lists share the VM list's mechanism: the same
figures for 10,000 templates (a ranged listing) and 1,000 hosts (a listing oned
gives whole, cut by one-web).
"""
from __future__ import annotations

import http.cookiejar
import re
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request

from rich.console import Console
from rich.table import Table

from bench.report import progress
from bench.rpc import SESSION
from bench.server import oned_conf, scratch_server
from bench.workload import timed_calls
from one.web.config import WebConfig
from one.web.server import make

VMS = 10_000
TEMPLATES = 10_000
HOSTS = 1_000
PAGE = 25
RUNS = 20
CLIENTS = 8
LIMIT = 0.100  # seconds the issue allows for a page of the VM list
CONF = oned_conf(MAX_VM=20_000)


def signed_in(url: str, jar: http.cookiejar.CookieJar) -> urllib.request.OpenerDirector:
    """A client of one-web at `url` signed in as oneadmin, its cookies in `jar`."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url + "/login") as reply:
        csrf = re.search(r'name="csrf" value="([^"]+)"', reply.read().decode())
    user, password = SESSION.split(":", 1)
    form = {"csrf": csrf.group(1) if csrf else "", "username": user, "password": password}
    opener.open(url + "/login", urllib.parse.urlencode(form).encode()).read()
    return opener


def _signed_in(url: str) -> urllib.request.OpenerDirector:
    opener = signed_in(url, http.cookiejar.CookieJar())
    with opener.open(url + "/vms") as reply:
        if reply.read().decode().count("data-vm=") != PAGE:  # a page of rows, not the login
            raise RuntimeError("one-web did not show a page of VMs after signing in")
    return opener


def _median(opener: urllib.request.OpenerDirector, url: str, runs: int) -> float:
    opener.open(url).read()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with opener.open(url) as reply:
            reply.read()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _other_pages() -> dict[str, str]:
    """The first and last pages of the template and host lists (no search: oned's order)."""
    last_template, last_host = TEMPLATES // PAGE - 1, HOSTS // PAGE - 1
    return {f"template list, page 1 of {last_template + 1}": "/templates",
            f"template list, page {last_template + 1}": f"/templates?page={last_template}",
            f"host list, page 1 of {last_host + 1}": "/hosts",
            f"host list, page {last_host + 1}": f"/hosts?page={last_host}"}


def main() -> int:
    with scratch_server(CONF) as server:
        progress(f"allocating {VMS:,} held VMs by {CLIENTS} clients")
        rate = timed_calls(server.url, "one.vm.allocate",
                           [(f'NAME = "bench-{i:05d}" CPU = 0.1 MEMORY = 64', True)
                            for i in range(VMS)], CLIENTS)
        progress(f"  {rate:.0f} VMs/s; allocating {TEMPLATES:,} templates and {HOSTS:,} hosts")
        timed_calls(server.url, "one.template.allocate",
                    [(f'NAME = "tpl-{i:05d}" CPU = {i % 8 + 1} MEMORY = 64',)
                     for i in range(TEMPLATES)], CLIENTS)
        timed_calls(server.url, "one.host.allocate",
                    [(f"host-{i:04d}", "dummy", "dummy", -1) for i in range(HOSTS)], CLIENTS)
        progress("timing pages")
        web = make(WebConfig(port=0, one_xmlrpc=server.url, page_size=PAGE))
        threading.Thread(target=web.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{web.server_port}"
        try:
            opener = _signed_in(base)
            pages = {f"VM list, page {n + 1} of {VMS // PAGE}": f"/vms?page={n}"
                     for n in (0, VMS // PAGE // 2, VMS // PAGE - 1)}
            pages.update(_other_pages())
            figures = {name: _median(opener, base + path, RUNS) for name, path in pages.items()}
            unbounded = {"VM list, search 'bench-0999'": "/vms?q=bench-0999",
                         "VM list, sorted by name (descending)": "/vms?sort=name&desc=1",
                         "template list, search 'tpl-0999'": "/templates?q=tpl-0999",
                         "template list, sorted by CPU (descending), page 2":
                             "/templates?sort=cpu&desc=1&page=1",
                         "host list, search 'host-09'": "/hosts?q=host-09",
                         "host list, sorted by name (descending)": "/hosts?sort=name&desc=1",
                         "dashboard": "/"}
            extra = {name: _median(opener, base + path, 5) for name, path in unbounded.items()}
        finally:
            web.shutdown()
            web.server_close()
    table = Table(title=f"one-web at {VMS:,} VMs (server time per page, median)")
    for column in ("page", "measured", "verdict"):
        table.add_column(column)
    for name, seconds in figures.items():
        table.add_row(name, f"{seconds * 1000:.1f} ms", "pass" if seconds <= LIMIT else "FAIL")
    for name, seconds in extra.items():
        table.add_row(name, f"{seconds * 1000:.0f} ms", "(no limit)")
    Console().print(table)
    return 0 if all(seconds <= LIMIT for seconds in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
