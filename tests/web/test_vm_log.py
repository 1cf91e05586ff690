"""A VM's log on its page: read from oned's disk, shown only to who may see the VM."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By

from web.conftest import Console, Http, sign_in, wait

VM = "CPU = 0.1 MEMORY = 32"


def running(console: Console) -> int:
    vid = console.rpc.ok("one.vm.allocate", VM, False)
    wait(lambda: "New state is RUNNING" in log_file(console, vid).read_text()
         if log_file(console, vid).exists() else False)
    return vid


def log_file(console: Console, vid: int) -> Path:
    return console.config.vm_log_dir / str(vid) / "vm.log"


def test_the_vm_page_shows_its_log(console: Console, browser: Any) -> None:
    vid = running(console)
    with log_file(console, vid).open("a") as log:  # a driver's message, with markup in it
        log.write("Fri Dec 04 00:00:00 2026 [Z0][VMM][I]: <b>hello</b> & bye\n")
    sign_in(browser, console.url)
    wait(lambda: browser.find_elements(By.ID, "whoami"))  # signed in before going on
    browser.get(f"{console.url}/vms/{vid}")
    text = browser.find_element(By.ID, "log-text").text
    assert "[LCM][I]: New state is RUNNING" in text
    assert text.splitlines()[-1].endswith("[VMM][I]: <b>hello</b> & bye")  # escaped, as text
    assert not browser.find_elements(By.CSS_SELECTOR, "#log-text b")


def test_another_users_vm_log_is_not_shown(console: Console, browser: Any) -> None:
    vid = running(console)
    sign_in(browser, console.url, "alice", "alicepw")
    wait(lambda: browser.find_elements(By.ID, "whoami"))
    browser.get(f"{console.url}/vms/{vid}")
    assert "not authorized" in browser.find_element(By.ID, "message").text.lower()
    assert not browser.find_elements(By.ID, "log-text")
    assert "New state" not in browser.page_source


def test_a_console_without_the_log_file_says_so(console: Console, http: Http,
                                                tmp_path: Path) -> None:
    vid = running(console)
    console.config.vm_log_dir = tmp_path / "elsewhere"  # one-web on another machine
    http.sign_in()
    status, page = http.request(f"/vms/{vid}")
    assert status == 200 and 'id="log-missing"' in page
    assert "Log not available on this server" in page and 'id="log-text"' not in page


def test_only_the_end_of_a_long_log_is_shown(console: Console, http: Http) -> None:
    vid = running(console)
    with log_file(console, vid).open("a") as log:
        log.writelines(f"line {n:06} {'x' * 80}\n" for n in range(2000))
    http.sign_in()
    page = http.request(f"/vms/{vid}")[1]
    assert "line 001999" in page and "line 000000" not in page
    shown = page.split('id="log-text">')[1].split("</pre>")[0]
    assert shown.startswith("line ") and len(shown.encode()) <= 32 * 1024


def test_opennebulas_own_layout_is_read_too(console: Console, http: Http,
                                            tmp_path: Path) -> None:
    """An OpenNebula system install writes /var/log/one/<id>.log."""
    vid = console.rpc.ok("one.vm.allocate", VM, True)
    (tmp_path / "var-log-one").mkdir()
    (tmp_path / "var-log-one" / f"{vid}.log").write_text("[Z0][ReM][D]: Req:1234 UID:0\n")
    console.config.vm_log_dir = tmp_path / "var-log-one"
    http.sign_in()
    assert "[ReM][D]: Req:1234 UID:0" in http.request(f"/vms/{vid}")[1]
