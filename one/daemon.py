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
from typing import Callable, cast

import peewee

from one.config import Config, driver_settings, load_config
from one.core import capacity, quota_sync
from one.core.bootstrap import bootstrap, one_auth_path
from one.core.managers import Managers, build_managers
from one.core.vmlog import install_driver_log_handler
from one.core.zone import Zones
from one.errors import OneError
from one.plugins.manager import PluginManager
from one.pool.db import open_database
from one.pool.pools import make_pools
from one.xmlrpc.api import Api
from one.xmlrpc.http import XmlRpcHttpServer
from one.xmlrpc.methods import register_all, zone
from one.writer_lock import WriterLock

log = logging.getLogger("oned")


def _endpoint(server: XmlRpcHttpServer) -> str:
    # The bound socket's name (getsockname()): its host is text.
    host, port = cast("tuple[str, int]", server.server_address[:2])
    return f"http://{host}:{port}/RPC2"


@dataclass
class Oned:
    config: Config
    managers: Managers
    api: Api
    server: XmlRpcHttpServer
    lock: WriterLock

    @property
    def endpoint(self) -> str:
        return _endpoint(self.server)

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
        self.close()

    def close(self) -> None:
        """Everything but the serving loop, which has ended: then the locks go."""
        self.server.server_close()
        self.managers.stop()
        self.managers.pools.store.db.close()
        self.lock.release()


def load_plugins(config: Config) -> PluginManager:
    plugins = PluginManager(block=config.plugin_block.split(),
                            settings=driver_settings(config.template),
                            shared={"VAR_LOCATION": config.var_location})
    plugins.load_entry_points()
    plugins.collect_drivers()
    return plugins


def build_api(config: Config, db: peewee.Database, auth_file: Path | None = None,
              plugins: PluginManager | None = None,
              fence: Callable[[], None] | None = None) -> tuple[Managers, Api]:
    """The managers over this database, its first objects and start-up repairs made
    (each write checked by `fence` first, on a highly available server), and the API."""
    pools = make_pools(db, config.template_limits)
    pools.store.fence = fence
    managers = build_managers(pools, config, plugins or load_plugins(config))
    install_driver_log_handler()
    auth_file = auth_file or one_auth_path()
    managers.images.one_auth = str(auth_file)
    message = bootstrap(managers, auth_file)
    managers.images.settle_interrupted_copies()
    if message:
        print(message, flush=True)
    capacity.sync(managers.pools)  # drift left by a crash is repaired before anything runs
    quota_sync.sync(managers.pools)  # and so is quota usage (a database from before quotas)
    api = Api(managers.auth.authenticate, config.message_size)
    register_all(api, managers)
    return managers, api


def build(config: Config, auth_file: Path | None = None,
          plugins: PluginManager | None = None, lock: WriterLock | None = None) -> Oned:
    """Everything wired, nothing running: the caller starts the server and engine.

    The writer lock is taken first (unless the caller holds it already), so
    nothing is written while another oned owns this state.
    """
    if lock is None:
        lock = WriterLock(config.var_location, config.db_url)
        lock.acquire()
    db = None
    try:
        db = open_database(config.db_url)
        managers, api = build_api(config, db, auth_file, plugins)
        server = XmlRpcHttpServer((config.listen_address, config.port), api,
                                  config.keepalive_timeout)
        zone.register(api, Zones(lambda: _endpoint(server)))
    except BaseException:
        if db is not None:
            db.close()
        lock.release()
        raise
    return Oned(config, managers, api, server, lock)


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
    parser.add_argument("--ha", action="store_true",
                        help="one of several servers on one PostgreSQL database, one leading")
    parser.add_argument("--server-id", type=int,
                        help="this server's id in the zone (FEDERATION/SERVER_ID), with --ha")
    parser.add_argument("--endpoint", help="the URL other servers forward writes to, with "
                                           "--ha (default: the address listened on)")
    return parser.parse_args(argv)


def _daemonize(var: str) -> None:
    """Classic double fork; output goes to <var>/oned.log."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    log_fd = os.open(os.path.join(var, "oned.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    os.umask(0o077)  # the database, VM directories, logs: for oned's user only
    lock = None
    try:
        config = load_config(args.config)
        flags = (("LISTEN_ADDRESS", args.listen), ("PORT", args.port), ("VAR_LOCATION", args.var),
                 ("DB", args.db), ("SCHED", "no" if args.no_sched else None))
        config.apply({k: str(v) for k, v in flags if v is not None})
        if args.ha:
            return _main_ha(config, args)
        lock = WriterLock(config.var_location, config.db_url)
        lock.acquire()  # before detaching, so a refusal reaches the terminal
        if not args.foreground:
            _daemonize(config.var_location)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(message)s")
        oned = build(config, lock=lock)
    except (OneError, OSError, RuntimeError) as exc:
        if lock is not None:
            lock.release()
        print(f"oned: {exc}", file=sys.stderr)
        return 1
    oned.start_engine()
    lock.record_pid()
    print(f"oned listening on {oned.endpoint}", flush=True)
    return _serve(oned.server, oned.close)


def _serve(server: XmlRpcHttpServer, close: Callable[[], None]) -> int:
    """Until SIGTERM or Ctrl-C; then `close`."""
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        close()
    return 0


def _main_ha(config: Config, args: argparse.Namespace) -> int:
    """`oned --ha`: serve as a follower until this server wins the lease (see one.ha)."""
    from one import ha  # it builds on this module

    try:
        server = ha.HaServer(config, ha.settings(config, args.server_id), endpoint=args.endpoint)
    except (OneError, OSError, RuntimeError, peewee.PeeweeException) as exc:
        print(f"oned: {exc}", file=sys.stderr)
        return 1
    if not args.foreground:
        _daemonize(config.var_location)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(message)s")
    server.start()
    print(f"oned listening on {server.lease.endpoint} (server {server.ha.server_id})", flush=True)
    return _serve(server.server, server.close)


if __name__ == "__main__":
    sys.exit(main())
