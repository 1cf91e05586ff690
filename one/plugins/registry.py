"""Registries: driver classes by name, one registry per driver kind."""
from __future__ import annotations

import threading
from typing import Generic, Mapping, TypeVar

from one.errors import AllocateError
from one.plugins.drivers import Driver

D = TypeVar("D", bound=Driver)


class DriverRegistry(Generic[D]):
    """Hosts and networks name drivers (`kvm`, `dummy`, ...); this resolves them.

    Plugins `add` classes at start-up; `get` builds one instance per name, with
    that driver's settings from the configuration, on first use. `shared`
    settings (oned's `VAR_LOCATION`) lie beneath every driver's own.
    """

    def __init__(self, kind: str, base: type[D],
                 settings: Mapping[str, Mapping[str, str]] | None = None,
                 shared: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self.base = base
        self.settings = dict(settings or {})
        self.shared = dict(shared or {})
        self._classes: dict[str, type[D]] = {}
        self._instances: dict[str, D] = {}
        self._lock = threading.Lock()

    def add(self, cls: type[D]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(f"{cls!r} is not a {self.base.__name__}")
        if not cls.name:
            raise ValueError(f"{cls.__name__} has no name")
        if cls.name in self._classes and self._classes[cls.name] is not cls:
            raise ValueError(f"{self.kind} driver '{cls.name}' is registered twice")
        self._classes[cls.name] = cls

    def names(self) -> list[str]:
        return sorted(self._classes)

    def classes(self) -> Mapping[str, type[D]]:
        """The registered classes by name (read-only copy)."""
        return dict(self._classes)

    def __contains__(self, name: str) -> bool:
        return self._resolve(name) in self._classes

    def _resolve(self, name: str) -> str:
        """Classic names carry the kind as a prefix (`vmm_dummy`, `im_kvm`)."""
        prefix = f"{self.kind}_"
        if name not in self._classes and name.startswith(prefix):
            return name[len(prefix):]
        return name

    def check(self, name: str) -> None:
        """Refuse unknown names when an object is created, with the known ones."""
        if self._resolve(name) not in self._classes:
            known = ", ".join(self.names()) or "none"
            raise AllocateError(f"Unknown {self.kind.upper()} driver '{name}' (known: {known}).")

    def get(self, name: str) -> D:
        self.check(name)
        name = self._resolve(name)
        with self._lock:
            if name not in self._instances:
                self._instances[name] = self._classes[name](
                    {**self.shared, **self.settings.get(name, {})})
            return self._instances[name]
