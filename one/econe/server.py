"""one-econe: serves the EC2 Query API (wsgiref, one thread per request)."""
from __future__ import annotations

import argparse
import logging
import sys
from wsgiref.simple_server import WSGIServer, make_server

from one.cli.errors import CliError
from one.econe.actions import ACTIONS
from one.econe.app import EconeApp
from one.econe.config import ConfigError, EconeConfig, load_config
from one.serving import ThreadingServer, access_logged, serve


def make(config: EconeConfig) -> WSGIServer:
    """The server bound to config.host:port (port 0: any free one, see server_port)."""
    server = make_server(config.host, config.port, EconeApp(config, ACTIONS),
                         server_class=ThreadingServer,
                         handler_class=access_logged("one.econe.access"))
    config.port = server.server_port  # DescribeRegions names the real endpoint
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="one-econe", description=__doc__)
    parser.add_argument("-c", "--config", help="econe.conf (TOML)")
    parser.add_argument("--host", help="listen address (host)")
    parser.add_argument("--port", type=int, help="listen port (port), 4567 by default")
    parser.add_argument("--exit-with", type=int, metavar="PID",
                        help="stop when process PID ends")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
        config.host = args.host or config.host
        config.port = args.port if args.port is not None else config.port
        server = make(config)
    except (ConfigError, CliError, OSError) as exc:
        print(f"one-econe: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    return serve("one-econe", server, config.host, args.exit_with)


if __name__ == "__main__":
    sys.exit(main())
