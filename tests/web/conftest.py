"""A real oned (dummy drivers, engine running), a real one-web on 127.0.0.1:0 and
Debian's headless chromium driven by Selenium."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from conftest import ADMIN_PASSWORD, Caller, start_oned
from one.daemon import Oned
from one.web.config import WebConfig
from one.web.server import make

CONFIG = "SCHED_INTERVAL = 1\nMONITORING_INTERVAL = 1\nMAX_HOST = 10\n"
SMALL = 'NAME = "small" CPU = 0.5 MEMORY = 64 NIC = [ NETWORK = "private", NETWORK_UNAME = "oneadmin" ]'
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@dataclass
class Console:
    oned: Oned
    rpc: Caller
    url: str
    template: int
    config: WebConfig


def wait(what: Callable[[], Any], seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := what()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


def furnish(rpc: Caller) -> int:
    """A dummy host, a public private network, the public `small` template, user alice."""
    rpc.ok("one.host.allocate", "node0", "dummy", "dummy", -1)
    rpc.ok("one.vn.allocate", 'NAME = private VN_MAD = dummy BRIDGE = br0 '
           'AR = [ TYPE = IP4, IP = "10.0.0.10", SIZE = "50" ]', -1)
    rpc.ok("one.vn.chmod", 0, -1, -1, -1, -1, -1, -1, 1, -1, -1)
    tid = rpc.ok("one.template.allocate", SMALL)
    rpc.ok("one.template.chmod", tid, -1, -1, -1, -1, -1, -1, 1, -1, -1, False)
    rpc.ok("one.user.allocate", "alice", "alicepw", "core", [])
    return tid


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    import one_dummy
    one_dummy.reset()
    oned = start_oned(tmp_path, config_text=CONFIG)
    oned.start_engine()
    rpc = Caller(oned.endpoint)
    tid = furnish(rpc)
    config = WebConfig(port=0, one_xmlrpc=oned.endpoint, page_size=5,
                       vm_log_dir=tmp_path / "vms")  # where this oned writes VM logs
    server = make(config)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Console(oned, rpc, f"http://127.0.0.1:{server.server_port}", tid, config)
    server.shutdown()
    server.server_close()
    oned.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


def sign_in(driver: Any, url: str, user: str = "oneadmin", password: str = ADMIN_PASSWORD) -> None:
    from selenium.webdriver.common.by import By
    driver.get(f"{url}/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "signin").click()


class Http:
    """A plain HTTP client with a cookie jar: for what a browser would not do (forged POSTs)."""

    def __init__(self, url: str) -> None:
        import http.cookiejar
        import urllib.request
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = ""

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        import urllib.error
        import urllib.parse
        data = None if form is None else urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(self.url + path, data) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path: str, **form: str) -> tuple[int, str]:
        """A form as the console's pages send it, with the CSRF token they carry."""
        return self.request(path, {"csrf": self.csrf, **form})

    def sign_in(self, user: str = "oneadmin", password: str = ADMIN_PASSWORD) -> tuple[int, str]:
        import re
        _, page = self.request("/login")
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        status, page = self.post("/login", username=user, password=password)
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        self.csrf = found.group(1) if found else ""
        return status, page


@pytest.fixture
def http(console: Console) -> Http:
    return Http(console.url)
