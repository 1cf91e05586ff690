"""A driver package from outside the repository, installed the way users install one.

The sample in `sample_driver/` is built offline with the environment's
setuptools into a temporary directory, then used from subprocesses whose only
extra path is that directory: what they find, they found through its
installed entry point, not through this source tree.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent / "sample_driver"

FOUND_DRIVERS = """
import json, sys
from one.plugins import PluginManager
manager = PluginManager(block=sys.argv[1:])
manager.load_entry_points()
manager.collect_drivers()
print(json.dumps({kind: registry.names() for kind, registry in manager.registries.items()}))
"""


@dataclass(frozen=True)
class Installed:
    site: Path      # the --target directory: the package and its dist-info
    source: Path    # a copy of the sample (the build writes next to its sources)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, PYTHONPATH=str(self.site), PYTHONDONTWRITEBYTECODE="1")
        return subprocess.run([sys.executable, *args], cwd=self.source, env=env, check=False,
                              capture_output=True, text=True, timeout=120)

    def drivers(self, *blocked: str) -> dict[str, list[str]]:
        done = self.run("-c", FOUND_DRIVERS, *blocked)
        assert done.returncode == 0, done.stderr
        found: dict[str, list[str]] = json.loads(done.stdout)
        return found

    def conformance(self, test_file: str) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "pytest", "-p", "no:cacheprovider", "--import-mode=importlib",
                        "-rf", f"tests/{test_file}")


def _can_build_offline() -> bool:
    """setuptools before 70.1 builds wheels only with the `wheel` package beside it."""
    major, minor = (int(part) for part in version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    if not _can_build_offline():
        pytest.fail("building the sample offline needs `wheel` (or setuptools>=70.1) in the "
                    "environment: add it to the `test` extra of setup.cfg")
    root = tmp_path_factory.mktemp("third_party")
    found = Installed(site=root / "site", source=root / "src")
    shutil.copytree(SAMPLE, found.source)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(found.site), str(found.source)],
        check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return found


def test_entry_point_brings_the_drivers(installed: Installed) -> None:
    found = installed.drivers()
    assert "sample" in found["vmm"] and "sample" in found["im"]
    assert "sample-broken" not in found["vmm"]


def test_blocked_plugin_is_skipped(installed: Installed) -> None:
    found = installed.drivers("sample")
    assert "sample" not in found["vmm"] and "sample" not in found["im"]


def test_sample_passes_the_conformance_suite(installed: Installed) -> None:
    done = installed.conformance("conformance_sample.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\d+ passed", done.stdout), done.stdout
    # driver_class names the drivers: what does not apply is deselected, nothing skips
    assert re.search(r"\d+ deselected", done.stdout), done.stdout
    assert "skipped" not in done.stdout, done.stdout


def test_conformance_suite_rejects_a_broken_driver(installed: Installed) -> None:
    done = installed.conformance("conformance_broken.py")
    assert done.returncode == 1, done.stdout + done.stderr
    failed = set(re.findall(r"^FAILED \S+::TestBrokenVMM::(\w+)", done.stdout, re.MULTILINE))
    assert failed == {"test_reboot_and_reset_keep_running", "test_registered_by_plugin"}, \
        done.stdout
    assert "NotImplementedError" in done.stdout
    assert re.search(r"\d+ skipped", done.stdout), done.stdout   # no driver_class: as before
