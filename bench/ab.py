"""Request rates measured by ApacheBench (`ab -k`), a C client.

A Python client tops out near the rates being measured and would hide the
server; ab on keep-alive connections leaves the server as the bottleneck.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

from bench.rpc import BenchError

_FIELDS = {
    "complete": r"^Complete requests:\s+(\d+)",
    "failed": r"^Failed requests:\s+(\d+)",
    "non_2xx": r"^Non-2xx responses:\s+(\d+)",
    "rate": r"^Requests per second:\s+([\d.]+)",
}


def _field(output: str, name: str) -> float:
    """A number from ab's report; `Non-2xx responses` is only printed when there are some."""
    found = re.search(_FIELDS[name], output, re.MULTILINE)
    if found is None:
        if name == "non_2xx":
            return 0
        raise BenchError(f"ab printed no {name!r}:\n{output[-2000:]}")
    return float(found.group(1))


def _ab_binary() -> str:
    path = shutil.which("ab")
    if path is None:
        raise BenchError("ab not found: apt-get install -y apache2-utils")
    return path


def requests_per_second(url: str, body: bytes, requests: int, connections: int) -> float:
    """POST `body` `requests` times on `connections` keep-alive connections.

    Every reply to one method has the same length, so ab's `Failed requests`
    (which counts length changes) also catches replies that turned into errors.
    """
    with tempfile.NamedTemporaryFile(suffix=".xml") as post:
        post.write(body)
        post.flush()
        command = [_ab_binary(), "-q", "-k", "-c", str(connections), "-n", str(requests),
                   "-p", post.name, "-T", "text/xml", url]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise BenchError(f"ab exited with {result.returncode}:\n{output[-2000:]}")
    bad = _field(output, "failed") + _field(output, "non_2xx")
    if bad or _field(output, "complete") != requests:
        raise BenchError(f"ab saw {bad:.0f} failed or non-2xx replies:\n{output[-2000:]}")
    return _field(output, "rate")
