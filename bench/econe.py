"""`python -m bench.econe`: the EC2 Query API (one-econe) under boto3.

One fresh oned (scheduler on, woken by each VM; roomy dummy hosts) and one
one-econe, each its own process. (1) RunInstances of 100 m1.small instances
in one call, timed until boto3's `instance_running` waiter (polling every
0.5 s) sees all of them running. (2) 10,000 more instances, created directly
through XML-RPC on hold (one.template.instantiate of m1.small with the extra
template RunInstances sends, by 8 clients) to save time, then DescribeInstances of all of
them: the server's answer (a raw SigV4-signed POST until the last byte), the same for a first
page of 1,000 (MaxResults), and boto3's whole call (which also parses the 10,000 items),
medians of 5.
"""
from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import xmlrpc.client
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from lxml import etree
from rich.console import Console
from rich.table import Table

from bench.report import progress
from bench.rpc import SESSION, call
from bench.server import _stop, oned_conf, scratch_server
from bench.workload import ROOMY_HOSTS, add_hosts, add_network, timed_calls

ECONE = Path(sys.executable).parent / "one-econe"
RUN = 100
LISTED = 10_000
RUNS = 5
CLIENTS = 8
LIMIT = 1.0  # seconds the issue allows for DescribeInstances of 10,000
CONF = oned_conf(ROOMY_HOSTS, SCHED_INTERVAL=3600, MONITORING_INTERVAL=5, MAX_VM=20_000,
                 MAX_DISPATCH=20_000, MAX_HOST=100)
SMALL = 'NAME = "m1.small" CPU = 0.1 MEMORY = 64 NIC = [ NETWORK = "bench-net" ]'
# What RunInstances merges over the instance type's template (launch._extra), per instance.
EXTRA = ('DISK = [ IMAGE_ID = "0" ]\nCONTEXT = [ NETWORK = "YES" ]\n'
         'EC2_INSTANCE_TYPE = "m1.small"\nEC2_IMAGE_ID = "ami-00000000"\n'
         'EC2_RESERVATION = "r-{:08x}"\nEC2_LAUNCH_INDEX = "0"\nEC2_TAGS = "{{}}"')
BODY = "Action=DescribeInstances&Version=2016-11-15"
PAGE = 1000  # MaxResults of the paged DescribeInstances (EC2's largest page)


def _start_econe(workdir: Path, url: str) -> tuple[subprocess.Popen[str], str]:
    (workdir / "econe_auth").write_text(SESSION + "\n")
    conf = workdir / "econe.conf"
    conf.write_text(f'port = 0\none_xmlrpc = "{url}"\none_auth = "{workdir / "econe_auth"}"\n')
    process = subprocess.Popen([str(ECONE), "--config", str(conf)], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline() if process.stdout else ""
    found = re.search(r"listening on (http://\S+?)/?$", line.strip())
    if found is None:
        _stop(process)  # type: ignore[arg-type]
        raise RuntimeError(f"one-econe did not start: {line!r}")
    return process, found.group(1)


def _raw_describe(url: str, access: str, secret: str, body: str = BODY) -> float:
    request = AWSRequest("POST", url + "/", data=body.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(access, secret), "ec2", "one").add_auth(request)
    start = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(
            url + "/", data=body.encode(), headers=dict(request.headers.items())),
            timeout=120) as reply:
        reply.read()
    return time.perf_counter() - start


def _run_100(ec2) -> float:
    start = time.perf_counter()
    ids = [i["InstanceId"] for i in ec2.run_instances(
        ImageId="ami-00000000", InstanceType="m1.small", MinCount=RUN, MaxCount=RUN)["Instances"]]
    ec2.get_waiter("instance_running").wait(InstanceIds=ids,
                                            WaiterConfig={"Delay": 0.5, "MaxAttempts": 600})
    return time.perf_counter() - start


def main() -> int:
    with scratch_server(CONF, scheduler=True) as server, \
            tempfile.TemporaryDirectory(prefix="one-bench-econe-") as scratch:
        proxy = xmlrpc.client.ServerProxy(server.url)
        add_network(server.url)
        add_hosts(server.url, 4, 1)
        tid = call(proxy, "one.template.allocate", SMALL)
        disk = Path(scratch) / "os.img"
        disk.write_bytes(b"\0" * 1024)
        call(proxy, "one.image.allocate", f'NAME = os TYPE = OS PATH = "{disk}"', 1)
        key = etree.fromstring(call(proxy, "one.user.ec2keys_create", -1))
        access, secret = key.findtext("ACCESS_KEY_ID") or "", key.findtext("SECRET_ACCESS_KEY") or ""
        econe, url = _start_econe(Path(scratch), server.url)
        try:
            ec2 = boto3.client("ec2", endpoint_url=url, region_name="one",
                               aws_access_key_id=access, aws_secret_access_key=secret)
            time.sleep(1)  # the image copies in (dummy datastore)
            progress(f"RunInstances of {RUN}, waiting for running")
            run = _run_100(ec2)
            progress(f"creating {LISTED:,} held VMs by {CLIENTS} clients")
            rate = timed_calls(server.url, "one.template.instantiate",
                               [(tid, "", True, EXTRA.format(i), False)
                                for i in range(LISTED)], CLIENTS)
            progress(f"  {rate:.0f} VMs/s; DescribeInstances x {RUNS}")
            raw = statistics.median(_raw_describe(url, access, secret) for _ in range(RUNS))
            page = statistics.median(_raw_describe(url, access, secret, f"{BODY}&MaxResults={PAGE}")
                                     for _ in range(RUNS))
            boto = []
            for _ in range(RUNS):
                start = time.perf_counter()
                shown = sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"])
                boto.append(time.perf_counter() - start)
        finally:
            _stop(econe)  # type: ignore[arg-type]
    table = Table(title="one-econe under boto3")
    for column in ("metric", "measured", "verdict"):
        table.add_column(column)
    table.add_row(f"RunInstances of {RUN} -> all running (boto3 waiter)", f"{run:.1f} s", "")
    table.add_row(f"DescribeInstances of {shown:,}: server answer (median of {RUNS})",
                  f"{raw * 1000:.0f} ms", "pass" if raw <= LIMIT else "FAIL")
    table.add_row(f"DescribeInstances, first page of {PAGE:,} (MaxResults): server answer",
                  f"{page * 1000:.0f} ms", "")
    table.add_row(f"DescribeInstances of {shown:,}: boto3 call incl. parsing",
                  f"{statistics.median(boto) * 1000:.0f} ms", "")
    Console().print(table)
    return 0 if raw <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
