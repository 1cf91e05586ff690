"""The console in Debian's headless chromium against a real oned with dummy drivers."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lxml import etree
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from web.conftest import Console, sign_in, wait

RUNNING_VM = "CPU = 1 MEMORY = 256"


def vm_state(console: Console, vid: int) -> int:
    return int(etree.fromstring(console.rpc.ok("one.vm.info", vid)).findtext("STATE"))


def text(driver: Any, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def test_dashboard_numbers_match_oned(console: Console, browser: Any, tmp_path: Path) -> None:
    wait(lambda: etree.fromstring(console.rpc.ok("one.host.info", 0)).findtext("STATE") == "2")
    held = [console.rpc.ok("one.vm.allocate", RUNNING_VM, True) for _ in range(3)]
    running = console.rpc.ok("one.vm.allocate", RUNNING_VM, False)
    wait(lambda: etree.fromstring(console.rpc.ok("one.vm.info", running)).findtext("LCM_STATE") == "3")
    sign_in(browser, console.url)
    assert text(browser, "whoami") == "oneadmin"
    browser.save_screenshot(str(tmp_path / "dashboard.png"))
    hosts = etree.fromstring(console.rpc.ok("one.hostpool.info"))
    assert text(browser, "hosts-total") == str(len(hosts.findall("HOST")))
    assert text(browser, "vms-total") == str(len(held) + 1)
    counts = {li.get_attribute("data-state"): li.text
              for li in browser.find_elements(By.CSS_SELECTOR, "#vms li")}
    assert counts == {"HOLD": "HOLD: 3", "RUNNING": "RUNNING: 1"}
    share = hosts.find("HOST/HOST_SHARE")
    assert text(browser, "cpu-total") == f"{int(share.findtext('MAX_CPU')) / 100:g}"
    assert text(browser, "cpu-used") == f"{int(share.findtext('CPU_USAGE')) / 100:g}" == "1"
    assert text(browser, "mem-used") == "256"
    assert (tmp_path / "dashboard.png").stat().st_size > 1000


def test_vm_from_template_runs_powers_off_and_terminates(console: Console, browser: Any,
                                                        tmp_path: Path) -> None:
    console.rpc.ok("one.host.status", 0, 1)  # disabled: the new VM waits PENDING
    sign_in(browser, console.url)
    browser.find_element(By.LINK_TEXT, "Templates").click()
    browser.find_element(By.ID, f"instantiate-{console.template}").click()
    browser.find_element(By.ID, "name").send_keys("web1")
    for field, value in (("cpu", "0.25"), ("memory", "96")):
        browser.find_element(By.ID, field).clear()
        browser.find_element(By.ID, field).send_keys(value)
    Select(browser.find_element(By.ID, "network")).select_by_visible_text("private (0)")
    browser.find_element(By.ID, "create").click()
    vid = int(wait(lambda: re.search(r"/vms/(\d+)$", browser.current_url)).group(1))
    vm = etree.fromstring(console.rpc.ok("one.vm.info", vid))
    assert (vm.findtext("NAME"), vm.findtext("TEMPLATE/CPU"), vm.findtext("TEMPLATE/MEMORY"),
            vm.findtext("TEMPLATE/NIC/NETWORK")) == ("web1", "0.25", "96", "private")
    assert text(browser, "vm-state") == "PENDING"
    browser.execute_script("window.notReloaded = true;")
    console.rpc.ok("one.host.status", 0, 0)  # enabled: the scheduler places it, it boots
    follow(browser, "RUNNING")
    browser.refresh()  # the whole page as it is now, history included, for the screenshot
    assert "node0" in browser.find_element(By.ID, "history").text
    browser.save_screenshot(str(tmp_path / "vm.png"))
    act(browser, "poweroff")
    follow(browser, "POWEROFF")
    assert vm_state(console, vid) == 8
    act(browser, "terminate")
    wait(lambda: vm_state(console, vid) == 6)
    wait(lambda: "gone" in browser.find_element(By.ID, "vm-state").get_attribute("class")
         or text(browser, "vm-state") == "DONE")


def follow(driver: Any, state: str) -> None:
    """The state reaches `state` on the open page, which is never reloaded meanwhile."""
    driver.execute_script("window.notReloaded = true;")
    wait(lambda: text(driver, "vm-state") == state)
    assert driver.execute_script("return window.notReloaded === true;")


def act(driver: Any, action: str) -> None:
    driver.find_element(By.ID, f"action-{action}").click()
    assert "?" in driver.find_element(By.TAG_NAME, "h1").text  # asked first
    driver.find_element(By.ID, "confirm").click()
    wait(lambda: driver.find_elements(By.ID, "action-terminate"))  # back on the VM's page


def test_a_user_sees_only_what_oned_lets_them(console: Console, browser: Any) -> None:
    theirs = console.rpc.ok("one.vm.allocate", RUNNING_VM, True)
    sign_in(browser, console.url, "alice", "alicepw")
    assert text(browser, "whoami") == "alice"
    assert text(browser, "vms-total") == "0"
    browser.get(f"{console.url}/vms")
    assert text(browser, "empty") == "No virtual machines."
    browser.get(f"{console.url}/vms/{theirs}")
    assert "not authorized" in text(browser, "message").lower()


def test_a_wrong_password_is_refused(console: Console, browser: Any) -> None:
    sign_in(browser, console.url, "oneadmin", "not-the-password")
    assert text(browser, "message") == "Wrong user name or password."
    assert not browser.find_elements(By.ID, "whoami")
    browser.get(f"{console.url}/vms")
    assert browser.current_url.endswith("/login")
