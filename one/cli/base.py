"""The command framework: a tool is a table of subcommands declared as data.

Each Command names its arguments and a function; Tool builds the argparse
parser, runs the chosen function with a Context, and is the one place
where a CliError becomes a red line on stderr and an exit status.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, NoReturn

from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text

from one.cli.client import Client
from one.cli.errors import USAGE, CliError, ServerError
from one.cli.pools import PoolSpec, Resolver
from one.cli.xmldoc import Element, document_data, parse

NO_TTY_WIDTH = 200


@dataclass(frozen=True)
class Arg:
    """The positional flags and keyword options of one `add_argument` call."""

    flags: tuple[str, ...]
    options: dict[str, Any]


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class Command:
    name: str
    run: Callable[[Context, argparse.Namespace], int | None]
    help: str
    args: tuple[Arg, ...] = ()
    exclusive: tuple[Arg, ...] = ()  # exactly one of these must be given
    document: bool = False           # offers --xml / --json


class _Parser(argparse.ArgumentParser):
    """Usage errors raise instead of exiting, so they render like every other error."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{self.prog}: {message}", USAGE)


def report(console: Console, error: CliError, verbose: bool = False) -> int:
    """The single rendering of a failure; returns the exit status it means."""
    message = error.message
    if verbose and isinstance(error, ServerError):
        message += f" (code {error.code:#x})"
    console.print(Text(message, style="bold red"))
    return error.exit_code


def consoles() -> tuple[Console, Console]:
    """stdout and stderr consoles; a pipe gets a wide fixed width unless COLUMNS says."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else NO_TTY_WIDTH
    out = Console(width=width, highlight=False, soft_wrap=True)
    return out, Console(stderr=True, width=width, highlight=False, soft_wrap=True)


class Context:
    """What a command function works with: the server, id resolution, output."""

    def __init__(self, out: Console, err: Console, verbose: bool = False) -> None:
        self.out = out
        self.err = err
        self.verbose = verbose
        self._client: Client | None = None
        self._resolvers: dict[PoolSpec, Resolver] = {}

    def call(self, method: str, *args: Any) -> Any:
        if self._client is None:  # created late: usage errors need no auth file
            self._client = Client.from_env()
        return self._client.call(method, *args)

    def resolver(self, spec: PoolSpec) -> Resolver:
        return self._resolvers.setdefault(spec, Resolver(self.call, spec))

    def one(self, spec: PoolSpec, token: str) -> int:
        return self.resolver(spec).one(token)

    def optional(self, spec: PoolSpec, token: str | None) -> int:
        """An id argument that may be left out: -1, which oned reads as "keep" or "default"."""
        return -1 if token is None else self.one(spec, token)

    def each(self, spec: PoolSpec, tokens: Iterable[str], action: Callable[[int], Any],
             verb: str) -> int:
        """Runs `action` on every id; a refusal is reported and the others still run."""
        status = 0
        for oid in self.resolver(spec).ids(tokens):
            try:
                action(oid)
            except ServerError as exc:
                code = report(self.err, exc, self.verbose)
                status = status or code
                continue
            if self.verbose:
                self.say(f"{spec.kind} {oid}: {verb}")
        return status

    def say(self, text: str) -> None:
        self.out.print(Text(text))

    def watch(self, draw: Callable[[], RenderableType], delay: float,
              count: int | None) -> None:
        """`top`: redraws in place on a terminal until Ctrl-C.

        A pipe cannot be redrawn, so it gets `count` drawings (one by default)
        one after another, as does a terminal when `count` is given.
        """
        try:
            if count is None and self.out.is_terminal:
                with Live(draw(), console=self.out, auto_refresh=False) as live:
                    while True:
                        time.sleep(delay)
                        live.update(draw(), refresh=True)
            for index in range(count or 1):
                if index:
                    time.sleep(delay)
                    self.out.print()
                self.out.print(draw())
        except KeyboardInterrupt:  # how an operator leaves top: not a failure
            return

    def emit(self, ns: argparse.Namespace, document: str, render: Callable[[Element], None],
             item: str | None = None) -> None:
        """The raw XML, its JSON form, or the human rendering of a reply."""
        if ns.xml:
            sys.stdout.write(document + "\n")
        elif ns.json:
            sys.stdout.write(json.dumps(document_data(parse(document), item), indent=2) + "\n")
        else:
            render(parse(document))


@dataclass(frozen=True)
class Tool:
    prog: str
    help: str
    commands: tuple[Command, ...]

    def main(self, argv: list[str] | None = None) -> int:
        out, err = consoles()
        verbose = False
        try:
            ns = self.parser().parse_args(argv)
            verbose = ns.verbose
            return ns.command.run(Context(out, err, verbose), ns) or 0
        except CliError as exc:
            return report(err, exc, verbose)
        except SystemExit as exc:  # --help and friends
            return exc.code if isinstance(exc.code, int) else 0
        except KeyboardInterrupt:
            return 130

    def parser(self) -> argparse.ArgumentParser:
        parser = _Parser(prog=self.prog, description=self.help)
        parser.add_argument("-v", "--verbose", action="store_true", help="say what was done")
        sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
        for command in self.commands:
            _add_command(sub, command)
        return parser


def _add_command(sub: Any, command: Command) -> None:
    """A command's own short option wins over -v of --verbose (`onehost create -v dummy`,
    as in OpenNebula), hence "resolve"; -v is --verbose after the other commands."""
    parser = sub.add_parser(command.name, help=command.help, description=command.help,
                            conflict_handler="resolve")
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="say what was done")
    for item in command.args:
        parser.add_argument(*item.flags, **item.options)
    if command.exclusive:
        group = parser.add_mutually_exclusive_group(required=True)
        for item in command.exclusive:
            group.add_argument(*item.flags, **item.options)
    if command.document:
        formats = parser.add_mutually_exclusive_group()
        formats.add_argument("--xml", "-x", action="store_true", help="print the XML reply")
        formats.add_argument("--json", "-j", action="store_true", help="print the reply as JSON")
    parser.set_defaults(command=command)
