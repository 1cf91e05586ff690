"""oned: the composition root. Wires database → pools → managers → API → server.

Nothing is wired at import time; `build` does it for the daemon and for tests.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from one.config import Config, driver_settings, load_config
from one.core.bootstrap import bootstrap, one_auth_path
from one.core.managers import Managers, build_managers
from one.core.vmlog import install_driver_log_handler
from one.errors import OneError
from one.plugins.manager import PluginManager
from one.pool.db import open_database
from one.pool.pools import make_pools
from one.xmlrpc.api import Api
from one.xmlrpc.http import XmlRpcHttpServer
from one.xmlrpc.methods import register_all

log = logging.getLogger("oned")


@dataclass
class Oned:
    config: Config
    managers: Managers
    api: Api
    server: XmlRpcHttpServer

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/RPC2"

    def serve_in_thread(self) -> threading.Thread:
        # A short poll makes stop() quick (tests start and stop many servers).
        thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                  name="xmlrpc", daemon=True)
        thread.start()
        return thread

    def start_engine(self) -> None:
        """Life cycle, monitoring and scheduler threads; operations caught mid-way resume."""
        self.managers.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.managers.stop()
        self.managers.pools.store.db.close()


def load_plugins(config: Config) -> PluginManager:
    plugins = PluginManager(block=config.plugin_block.split(),
                            settings=driver_settings(config.template),
                            shared={"VAR_LOCATION": config.var_location})
    plugins.load_entry_points()
    plugins.collect_drivers()
    return plugins


def build(config: Config, auth_file: Path | None = None,
          plugins: PluginManager | None = None) -> Oned:
    """Everything wired, nothing running: the caller starts the server and engine."""
    os.makedirs(config.var_location, exist_ok=True)
    db = open_database(config.db_url)
    try:
        managers = build_managers(make_pools(db), config, plugins or load_plugins(config))
        install_driver_log_handler()
        message = bootstrap(managers, auth_file or one_auth_path())
        if message:
            print(message, flush=True)
        api = Api(managers.auth.authenticate)
        register_all(api, managers)
        server = XmlRpcHttpServer((config.listen_address, config.port), api)
    except BaseException:
        db.close()
        raise
    return Oned(config, managers, api, server)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="oned", description="The one XML-RPC core.")
    parser.add_argument("-f", "--foreground", action="store_true", help="do not detach")
    parser.add_argument("--config", help="oned.conf-style configuration file")
    parser.add_argument("--listen", help="address to listen on (LISTEN_ADDRESS)")
    parser.add_argument("--port", type=int, help="XML-RPC port (PORT); 0 picks a free one")
    parser.add_argument("--var", help="state directory (VAR_LOCATION)")
    parser.add_argument("--db", help="database path or postgresql:// URL (DB)")
    parser.add_argument("--no-sched", action="store_true",
                        help="do not run the scheduler (SCHED = no)")
    return parser.parse_args(argv)


def _daemonize(var: str) -> None:
    """Classic double fork; output goes to <var>/oned.log."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    log_fd = os.open(os.path.join(var, "oned.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        config = load_config(args.config)
        flags = (("LISTEN_ADDRESS", args.listen), ("PORT", args.port), ("VAR_LOCATION", args.var),
                 ("DB", args.db), ("SCHED", "no" if args.no_sched else None))
        config.apply({k: str(v) for k, v in flags if v is not None})
        os.makedirs(config.var_location, exist_ok=True)
        if not args.foreground:
            _daemonize(config.var_location)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(message)s")
        oned = build(config)
    except (OneError, OSError, RuntimeError) as exc:
        print(f"oned: {exc}", file=sys.stderr)
        return 1
    oned.start_engine()
    Path(config.var_location, "oned.pid").write_text(f"{os.getpid()}\n")
    print(f"oned listening on {oned.endpoint}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=oned.server.shutdown).start())
    try:
        oned.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        oned.server.server_close()
        oned.managers.stop()
        oned.managers.pools.store.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
