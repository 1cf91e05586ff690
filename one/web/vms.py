"""VM pages: the paged list, a VM's page, its actions (confirmed first), live states,
and instantiating a template with the CPU, memory and network chosen."""
from __future__ import annotations

import re
from dataclasses import replace

from one.states import VmState
from one.web import charts
from one.web.app import Page, Refused, Route, whole
from one.web.http import Response, json_reply, redirect
from one.web.listing import ALL, ListQuery, list_page, read_query
from one.web.oned import SORTS, state_label, usage, vm_source, vm_states
from one.web.vmlog import log_tail

# one.vm.action names the console offers, with the words of their buttons
ACTIONS = {
    "poweroff": "Power off", "poweroff-hard": "Power off (hard)", "resume": "Resume",
    "reboot": "Reboot", "reboot-hard": "Reboot (hard)", "suspend": "Suspend", "stop": "Stop",
    "undeploy": "Undeploy", "hold": "Hold", "release": "Release", "resched": "Reschedule",
    "terminate": "Terminate", "terminate-hard": "Terminate (hard)",
}
MAX_IDS = 200    # VM ids one live-refresh request may ask about
_NAME = re.compile(r"^[\w .@-]{0,128}$")


def vm_list(page: Page) -> Response:
    query = _query(page)
    result = list_page(page.client, vm_source(query.state), query)
    return page.render("vms.html", query=query, result=result,
                       states=[(state.value, state.name) for state in VmState])


def _query(page: Page) -> ListQuery:
    """The shared list query, and oned's state filter (not a state: all but DONE)."""
    query = read_query(page.request.query, SORTS, page.app.config.page_size)
    state = whole(page.request.query.get("state", ""))
    return replace(query, state=state if state in set(VmState) else -1)


def vm_detail(page: Page, vid: str) -> Response:
    """The VM as oned shows it to the user; only then its log from this machine's disk."""
    vm = page.client.document("one.vm.info", int(vid), False)
    state = state_label(int(vm.findtext("STATE", "0")), int(vm.findtext("LCM_STATE", "0")))
    return page.render("vm.html", vm=vm, state=state, actions=ACTIONS,
                       usage=charts.usage(*usage(page.client, "vm", int(vid))),
                       log=log_tail(page.app.config.vm_log_dir, int(vid)))


def confirm(page: Page, vid: str, action: str) -> Response:
    if action not in ACTIONS:
        raise Refused(f"'{action}' is not a VM action the console offers.", "404 Not Found")
    vm = page.client.document("one.vm.info", int(vid), False)
    return page.render("confirm.html", vm=vm, action=action, label=ACTIONS[action])


def act(page: Page, vid: str) -> Response:
    action = page.request.form.get("action", "")
    if action not in ACTIONS:
        raise Refused(f"'{action}' is not a VM action the console offers.")
    page.client.call("one.vm.action", action, int(vid))
    return redirect(f"/vms/{int(vid)}")


def states(page: Page) -> Response:
    """{id: state} of the VMs a page shows; the page's script polls it."""
    text = page.request.query.get("ids", "")
    ids = [vid for vid in map(whole, text.split(",")) if vid is not None][:MAX_IDS]
    return json_reply({str(vid): state for vid, state in vm_states(page.client, ids).items()})


def instantiate_form(page: Page, tid: str, message: str = "",
                     status: str = "200 OK") -> Response:
    template = page.client.document("one.template.info", int(tid), False)
    networks = page.client.document("one.vnpool.info", ALL, -1, -1)
    return page.render("instantiate.html", status, template=template,
                       networks=networks.findall("VNET"), message=message, form=page.request.form)


def instantiate(page: Page, tid: str) -> Response:
    form = page.request.form
    name = form.get("name", "").strip()
    cpu, network = form.get("cpu", "").strip(), form.get("network", "").strip()
    if not _NAME.match(name):
        return instantiate_form(page, tid, "The name may hold letters, digits, spaces, "
                                "'.', '@', '-' and '_' only.", "400 Bad Request")
    if not re.fullmatch(r"\d{1,4}(\.\d{1,2})?", cpu) or float(cpu) <= 0:
        return instantiate_form(page, tid, f"CPU must be a positive number, not '{cpu}'.",
                                "400 Bad Request")
    memory = page.int_field("memory", 1)
    extra = f"CPU = {cpu}\nMEMORY = {memory}\n"
    if network:
        if not network.isdigit():
            raise Refused(f"Network '{network}' is not a network id.")
        extra += f'NIC = [ NETWORK_ID = "{network}" ]\n'
    vid = page.client.call("one.template.instantiate", int(tid), name, False, extra, False)
    return redirect(f"/vms/{vid}")


ROUTES = [
    Route("GET", "/vms", vm_list),
    Route("GET", r"/vms/(\d+)", vm_detail),
    Route("GET", r"/vms/(\d+)/confirm/([a-z-]+)", confirm),
    Route("POST", r"/vms/(\d+)/action", act),
    Route("GET", "/api/vms/states", states),
    Route("GET", r"/templates/(\d+)/instantiate", instantiate_form),
    Route("POST", r"/templates/(\d+)/instantiate", instantiate),
]
