"""A typed facade over pluggy: loading plugins, registries, notifications."""
from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

import pluggy

from one.plugins import hookspecs
from one.plugins.drivers import DRIVER_KINDS, Driver
from one.plugins.registry import DriverRegistry

ENTRY_POINT_GROUP = "one.plugins"
log = logging.getLogger(__name__)


class PluginManager:
    """Loads plugins and holds the four driver registries.

    Built-in drivers come through the same entry-point group as third-party
    ones; tests build one with `entry_points=False` and `register` fakes.
    `settings` are per kind and driver name; `shared` ones reach every driver.
    """

    def __init__(self, block: Iterable[str] = (),
                 settings: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
                 shared: Mapping[str, str] | None = None) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        for name in block:
            self._pm.set_blocked(name)
        settings = settings or {}
        self.registries: dict[str, DriverRegistry[Any]] = {
            kind: DriverRegistry(kind, base, settings.get(kind), shared)
            for kind, base in DRIVER_KINDS.items()}

    def load_entry_points(self) -> None:
        """Load every installed plugin that is not blocked; a broken one is skipped."""
        from importlib.metadata import entry_points
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            if self._pm.is_blocked(entry.name) or self._pm.get_plugin(entry.name):
                continue
            try:
                self._pm.register(entry.load(), name=entry.name)
            except Exception:
                log.exception("plugin %s could not be loaded", entry.name)

    def register(self, plugin: object, name: str | None = None) -> None:
        self._pm.register(plugin, name=name or getattr(plugin, "__name__", None))

    def plugin_names(self) -> list[str]:
        return sorted(name for name, _ in self._pm.list_name_plugin())

    def collect_drivers(self) -> None:
        """Ask every plugin for its drivers, one plugin's failure not stopping others."""
        for kind, registry in self.registries.items():
            self._call_each(f"one_register_{kind}_drivers", registry=registry)

    def driver(self, kind: str, name: str) -> Driver:
        return self.registries[kind].get(name)

    def notify_vm(self, vm: Any, previous_state: int, previous_lcm_state: int) -> None:
        self._call_each("one_vm_state_changed", vm=vm, previous_state=previous_state,
                        previous_lcm_state=previous_lcm_state)

    def notify_host(self, host: Any, previous_state: int) -> None:
        self._call_each("one_host_state_changed", host=host, previous_state=previous_state)

    def listens(self, hook: str) -> bool:
        """Whether any plugin implements `hook`: with none, there is no view to build."""
        return bool(getattr(self._pm.hook, hook).get_hookimpls())

    def _call_each(self, hook: str, **kwargs: Any) -> None:
        for impl in getattr(self._pm.hook, hook).get_hookimpls():
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook)
