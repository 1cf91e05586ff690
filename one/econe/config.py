"""econe.conf (TOML): where to listen, which oned, instance types, region, public network.

Precedence, lowest first: defaults, the file, ONE_XMLRPC / ONE_AUTH in the
environment (as every OpenNebula client), command-line flags.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the tomli backport has the same API
    import tomli as tomllib

# EC2 instance type -> VM template (name or numeric id); the operator creates the templates.
DEFAULT_TYPES = {"m1.small": "m1.small", "m1.large": "m1.large", "m1.xlarge": "m1.xlarge"}


class ConfigError(Exception):
    """A configuration the server cannot start with."""


@dataclass
class EconeConfig:
    host: str = "127.0.0.1"
    port: int = 4567
    one_xmlrpc: str = "http://localhost:2633/RPC2"
    one_auth: str = "~/.one/one_auth"   # the server account (oneadmin group), user:password
    region: str = "one"
    zone: str = "one-a"
    public_network: str = ""            # network of Elastic IPs (AllocateAddress); "" none
    token_seconds: int = 3600           # lifetime of the login tokens it takes for users
    instance_types: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TYPES))

    def apply(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            if key == "instance_types":
                if not isinstance(value, dict):
                    raise ConfigError("instance_types must be a table of type = template")
                self.instance_types = {str(k): str(v) for k, v in value.items()}
            elif not hasattr(self, key):
                raise ConfigError(f"unknown configuration key '{key}'")
            elif not isinstance(value, type(getattr(self, key))):
                raise ConfigError(f"{key} = {value!r} is not a {type(getattr(self, key)).__name__}")
            else:
                setattr(self, key, value)


def load_config(path: str | None, environ: Mapping[str, str] | None = None) -> EconeConfig:
    config = EconeConfig()
    if path:
        try:
            config.apply(tomllib.loads(Path(path).read_text()))
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    env = os.environ if environ is None else environ
    config.apply({key: env[var] for var, key in (("ONE_XMLRPC", "one_xmlrpc"),
                                                 ("ONE_AUTH", "one_auth")) if env.get(var)})
    return config
