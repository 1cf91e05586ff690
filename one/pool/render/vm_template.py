"""The VM template's two halves: the system TEMPLATE and the USER_TEMPLATE.

OpenNebula 7 keeps the attributes it understands (CPU, DISK, NIC, CONTEXT...)
in TEMPLATE, in the order of vm.xsd, and everything else in USER_TEMPLATE.
`split` decides where each attribute of a submitted template goes; the
renderers write the system half in schema order so documents validate.
"""
from __future__ import annotations

from one.pool.template import Template, Value

# vm.xsd TEMPLATE sequence, in order.
SYSTEM_ORDER = (
    "AUTOMATIC_DS_REQUIREMENTS", "AUTOMATIC_NIC_REQUIREMENTS", "AUTOMATIC_REQUIREMENTS",
    "CLONING_TEMPLATE_ID", "CONTEXT", "CPU", "CPU_COST", "DISK", "DISK_COST", "EMULATOR",
    "FEATURES", "HYPERV_OPTIONS", "GRAPHICS", "VIDEO", "IMPORTED", "INPUT", "MEMORY",
    "MEMORY_COST", "MEMORY_MAX", "MEMORY_SLOTS", "MEMORY_RESIZE_MODE", "NIC", "NIC_ALIAS",
    "NIC_DEFAULT", "NUMA_NODE", "OS", "PCI", "RAW", "SECURITY_GROUP_RULE", "SNAPSHOT",
    "SPICE_OPTIONS", "SUBMIT_ON_HOLD", "TEMPLATE_ID", "TM_MAD_SYSTEM", "TOPOLOGY", "TPM",
    "MEMORY_ENCRYPTION", "VCPU", "VCPU_MAX", "VMGROUP", "VMID", "VROUTER_ID",
    "VROUTER_KEEPALIVED_ID", "VROUTER_KEEPALIVED_PASSWORD", "SCHED_ACTION",
)
SCHED_ACTION_ORDER = ("ID", "PARENT_ID", "TYPE", "ACTION", "ARGS", "TIME", "REPEAT", "DAYS",
                      "END_TYPE", "END_VALUE", "DONE", "MESSAGE", "WARNING")

_REPEATED = {"DISK", "NIC", "NIC_ALIAS", "PCI", "SECURITY_GROUP_RULE", "SCHED_ACTION", "SNAPSHOT"}
# Written by the core only (one.vm.snapshotcreate): a submitted one stays in USER_TEMPLATE.
_CORE_ONLY = {"SNAPSHOT"}
SNAPSHOT_ORDER = ("ACTION", "ACTIVE", "HYPERVISOR_ID", "NAME", "SNAPSHOT_ID", "SYSTEM_DISK_SIZE",
                  "TIME")
_ANY_CONTENT = {"CONTEXT", "DISK", "FEATURES", "HYPERV_OPTIONS", "GRAPHICS", "INPUT",
                "NIC_DEFAULT", "NUMA_NODE", "OS", "PCI", "RAW", "SECURITY_GROUP_RULE",
                "SPICE_OPTIONS", "TOPOLOGY", "VMGROUP"}
_VECTOR_ONLY = {"NIC", "NIC_ALIAS"}
# Typed vectors: their keys, in schema order, and which are mandatory.
_TYPED = {
    "VIDEO": (("TYPE", "IOMMU", "ATS", "VRAM", "RESOLUTION"), ()),
    "TPM": (("MODEL",), ("MODEL",)),
    "MEMORY_ENCRYPTION": (("TYPE",), ("TYPE",)),
    "SCHED_ACTION": (SCHED_ACTION_ORDER, SCHED_ACTION_ORDER),  # complete once the core checked it
    "SNAPSHOT": (SNAPSHOT_ORDER, SNAPSHOT_ORDER[2:]),
}


def _fits(name: str, value: Value, system: Template) -> bool:
    if name not in SYSTEM_ORDER or name in _CORE_ONLY:
        return False
    if name not in _REPEATED and name in system:
        return False
    if name in _TYPED:
        keys, required = _TYPED[name]
        return (isinstance(value, dict) and set(value) <= set(keys)
                and all(k in value for k in required)
                and value.get("VRAM", "0").lstrip("-").isdigit())
    if name in _VECTOR_ONLY:
        return isinstance(value, dict)
    return name in _ANY_CONTENT or isinstance(value, str)


def split(template: Template) -> tuple[Template, Template]:
    """(system, user) halves of a submitted VM template; NAME goes to neither."""
    system, user = Template(), Template()
    for name, value in template.attrs:
        if name == "NAME":
            continue
        (system if _fits(name, value, system) else user).add(name, value)
    return system, user


def _typed_xml(name: str, value: dict[str, str]) -> str:
    inner = "".join(Template([(k, value[k])]).xml_body() for k in _TYPED[name][0] if k in value)
    return f"<{name}>{inner}</{name}>"


def system_xml(system: Template) -> str:
    """`<TEMPLATE>` with the system attributes in schema order."""
    by_name: dict[str, list[Value]] = {}
    for name, value in system.attrs:  # one pass, not one scan per schema name
        by_name.setdefault(name, []).append(value)
    parts = []
    for name in SYSTEM_ORDER:
        for value in by_name.get(name, ()):
            if name in _TYPED and isinstance(value, dict):
                parts.append(_typed_xml(name, value))
            else:
                parts.append(Template([(name, value)]).xml_body())
    return f"<TEMPLATE>{''.join(parts)}</TEMPLATE>"
