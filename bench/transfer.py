"""`python -m bench.transfer [--size-mib N] [--rounds N]`: tm_ssh CLONE against plain scp.

Why: the ssh TM driver streams images through paramiko inside oned, where
OpenNebula's own driver runs scp; it must not be the slower way to deploy.
Both copy one image of random bytes (nothing for either to compress or skip)
from this machine to an sshd on a loopback address, into one directory, in
alternating rounds, each with its own SSH handshake; the medians are compared.
`scp -c aes128-gcm@openssh.com` - the cipher the driver picks - is shown too,
so the cipher's share of any difference is plain.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from one_tm_ssh import SshTM

from bench.report import Row, Target, print_table, progress
from one.plugins import Location, TransferStep
from one.plugins.testing import make_vm_view
from tests.sshd import SshHost

ADDRESS = "127.0.0.9"
RATIO = Target("tm_ssh CLONE / scp", 90, 100, "%", True, False,
               "tm_ssh must copy an image at 90 % of plain scp's rate or better")


class SftpHost(SshHost):
    """SshHost with the sftp subsystem a stock sshd has: scp speaks SFTP since OpenSSH 9.0."""

    def _server_config(self) -> str:
        return super()._server_config() + "Subsystem sftp /usr/lib/openssh/sftp-server\n"


def random_image(path: Path, size_mib: int) -> None:
    with path.open("wb") as image:
        for _ in range(size_mib):
            image.write(os.urandom(1 << 20))


def timed(copy: Callable[[], None], target: Path) -> float:
    """Seconds one copy takes; its result is then deleted and flushed, so rounds start alike."""
    os.sync()
    started = time.perf_counter()
    copy()
    elapsed = time.perf_counter() - started
    target.unlink()
    os.sync()
    return elapsed


def scp(host: SshHost, image: Path, target: Path, *options: str) -> Callable[[], None]:
    def copy() -> None:
        subprocess.run(["scp", "-q", "-F", str(host.config), *options, str(image),
                        f"{host.address}:{target}"], check=True)
    return copy


def tm_clone(host: SshHost, image: Path, target: Path) -> Callable[[], None]:
    """A new driver each time, so its SSH handshake is timed as scp's is."""
    def clone() -> None:
        driver = SshTM({"SSH_KEY": str(host.client_key), "KNOWN_HOSTS": str(host.known_hosts),
                        "SSH_PORT": str(host.port)})
        vm = make_vm_view(0, host=host.address, system_dir=str(target.parent))
        try:
            driver.execute(vm, [TransferStep("CLONE", Location(str(target), host.address),
                                             src=Location(str(image)))])
        finally:
            driver.remote.close()
    return clone


def measure(size_mib: int, rounds: int, work: Path) -> dict[str, list[float]]:
    """MB/s of each way, round after round, in alternating order."""
    image, target = work / "image", work / "host" / "disk.0"
    progress(f"writing a {size_mib} MiB image of random bytes")
    random_image(image, size_mib)
    target.parent.mkdir()
    rates: dict[str, list[float]] = {}
    with SftpHost(ADDRESS, 0) as host:    # port 0: SshHost picks a free one
        ways = {"scp": scp(host, image, target),
                "scp -c aes128-gcm@openssh.com": scp(host, image, target, "-c",
                                                     "aes128-gcm@openssh.com"),
                "tm_ssh CLONE": tm_clone(host, image, target)}
        for round_ in range(rounds):
            order = list(ways.items())
            for name, copy in order if round_ % 2 == 0 else reversed(order):
                rate = size_mib * 2 ** 20 / 1e6 / timed(copy, target)
                rates.setdefault(name, []).append(rate)
                progress(f"round {round_ + 1}: {name}: {rate:.0f} MB/s")
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-transfer-"))
    try:
        rates = measure(args.size_mib, args.rounds, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    rows = [Row(f"{name}, median of {args.rounds}", rate, "MB/s")
            for name, rate in medians.items()]
    rows.append(Row("tm_ssh CLONE / scp", 100 * medians["tm_ssh CLONE"] / medians["scp"], "%",
                    RATIO))
    print_table(rows, judged=True, title=f"Copying a {args.size_mib} MiB image to an sshd on "
                                         f"{ADDRESS} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
