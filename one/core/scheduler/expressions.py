"""REQUIREMENTS and RANK expressions, compiled once into fast Python callables.

The scheduler filters hosts with a VM's (SCHED_)REQUIREMENTS and orders them by
its (SCHED_)RANK, so one expression runs against every host -- up to 10,000 VMs
times 1,000 hosts per cycle.  Tree-walking would be far too slow; instead each
expression is parsed once and turned into the source of a ``lambda v: ...``
that is compiled by CPython.  User text only ever reaches that source as a
``repr()`` literal (names are validated identifiers, and even they are only
used as ``repr()``-quoted dictionary keys), and the lambda's globals hold
nothing but the helpers below, so an expression cannot run arbitrary code.

Semantics follow OpenNebula's expression grammar, with the modern additions:

* ``VAR op VALUE`` with ``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=`` and ``@>``
  ("the comma-separated host value contains VALUE"); the variable is always
  on the left.  VALUE is a number, a ``"quoted string"`` (no escapes, as in
  OpenNebula) or a bare word, which is a number if it reads as one.
* ``&`` and ``|`` have *equal* precedence and associate to the left, exactly
  as in OpenNebula's grammar, so ``A = 1 | B = 1 & C = 1`` means
  ``(A = 1 | B = 1) & C = 1``; ``!`` binds tightest.
* Numeric comparison: a missing (or empty) host variable counts as 0, a
  non-numeric host value makes every operator false.  String ``=``/``!=`` is a
  case-sensitive shell glob; a missing or empty host value makes both false.
* RANK is ``+ - * /``, unary minus and parentheses over variables and
  numbers.  Missing or non-numeric variables and division by zero give 0.
  OpenNebula truncates the result to an integer; we keep the float because
  the scheduler only sorts by it and the extra precision breaks fewer ties
  arbitrarily.  A NaN result (e.g. ``inf - inf``) counts as 0 too.

Columns in errors are 1-based character offsets into the whole text; the
line is always 1 because an expression is a single template value.  Absurdly
deep input (over 100 nested ``(``/``!``/``-``, or so many alternations of
``&`` and ``|`` that CPython cannot compile the lambda) is a syntax error too.
"""
from __future__ import annotations

import fnmatch
import math
import re
from functools import lru_cache
from typing import Any, Callable, Mapping

from one.errors import TemplateSyntaxError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COMPARATOR = re.compile(r"!=|>=|<=|@>|=|>|<")
_BARE_WORD = re.compile(r"[A-Za-z0-9_.*:/-]+")
_BOOL_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_ARITH_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_WHITESPACE = re.compile(r"\s*")
_GLOB_CHARS = frozenset("*?[")
_ORDERING = frozenset({">", "<", ">=", "<="})
_MAX_DEPTH = 100
_NAN = float("nan")


# --- runtime helpers: the only names the generated lambdas can see ----------

def _num(value: Any) -> float | int:
    """A host value as a number: missing/empty is 0, non-numeric is NaN.

    NaN makes ``==``, ``<``, ``>``, ``<=`` and ``>=`` false without a branch
    in the generated code; only ``!=`` needs :func:`_num_ne`.
    """
    if value is None:
        return 0
    cls = value.__class__
    if cls is int or cls is float:
        return value
    text = value if cls is str else str(value)
    try:
        number = float(text)
    except ValueError:
        return _NAN if text.strip() else 0
    # float() also accepts "inf", "nan" and "1_000", which are not numbers
    # in a template.
    if not math.isfinite(number) or "_" in text:
        return _NAN
    return number


def _num_ne(value: Any, literal: float | int) -> bool:
    number = _num(value)
    return number == number and number != literal


def _text(value: Any) -> str | None:
    """A host value as text, or None when it is missing or empty."""
    if value is None or value == "":
        return None
    if value.__class__ is str:
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _eq_s(value: Any, literal: str) -> bool:
    return _text(value) == literal


def _ne_s(value: Any, literal: str) -> bool:
    text = _text(value)
    return text is not None and text != literal


def _glob(match: Callable[[str], Any], value: Any) -> bool:
    text = _text(value)
    return text is not None and match(text) is not None


def _nglob(match: Callable[[str], Any], value: Any) -> bool:
    text = _text(value)
    return text is not None and match(text) is None


def _has(value: Any, literal: str, number: float | int | None) -> bool:
    """``@>``: one of the comma-separated items equals the literal.

    Items compare numerically when the literal is a number ("05" contains 5).
    """
    text = _text(value)
    if text is None:
        return False
    for item in text.split(","):
        item = item.strip()
        if item == literal or (number is not None and item and _num(item) == number):
            return True
    return False


def _n0(value: Any) -> float:
    """A host value for RANK: missing or non-numeric counts as 0."""
    if value.__class__ is float:
        return value
    number = _num(value)
    return float(number) if number == number else 0.0


def _div(left: float, right: float) -> float:
    return left / right if right else 0.0


def _fin(result: float) -> float:
    return result if result == result else 0.0


_HELPERS: dict[str, Any] = {
    "_num": _num, "_num_ne": _num_ne, "_eq_s": _eq_s, "_ne_s": _ne_s, "_glob": _glob,
    "_nglob": _nglob, "_has": _has, "_n0": _n0, "_div": _div, "_fin": _fin,
}


# --- parsing -----------------------------------------------------------------

class _Parser:
    """Recursive descent over the raw text, emitting Python source.

    Scanning is done on demand rather than by a separate lexer because a
    VALUE's bare word (``node-1.*``) overlaps with operators elsewhere.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.variables: set[str] = set()
        self.matchers: dict[str, Callable[[str], Any]] = {}

    def parse(self) -> str:
        """The whole text as Python source: each grammar has its own."""
        raise NotImplementedError

    def error(self, message: str, pos: int | None = None) -> TemplateSyntaxError:
        return TemplateSyntaxError(message, 1, (self.pos if pos is None else pos) + 1)

    def peek(self) -> str:
        """Next non-blank character ("" at the end), skipping whitespace."""
        blanks = _WHITESPACE.match(self.text, self.pos)
        assert blanks is not None  # ``\s*`` matches anywhere, if only the empty string
        self.pos = blanks.end()
        return self.text[self.pos:self.pos + 1]

    def take(self, pattern: re.Pattern[str]) -> str | None:
        found = pattern.match(self.text, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return found.group()

    def enter(self, depth: int) -> int:
        """Bound nesting so deep input fails as a syntax error, not a crash."""
        if depth >= _MAX_DEPTH:
            raise self.error(f"expression nested more than {_MAX_DEPTH} levels deep")
        return depth + 1

    def finish(self, code: str, expected: str) -> str:
        """Reject leftovers after a complete expression."""
        char = self.peek()
        if char == ")":
            raise self.error("unexpected ')' without a matching '('")
        if char:
            raise self.error(f"unexpected {char!r}, expected {expected}")
        return code

    def variable(self, name: str) -> str:
        self.variables.add(name)
        return f"v.get({name!r})"

    def closing(self, open_pos: int) -> None:
        if self.peek() != ")":
            found = repr(self.text[self.pos]) if self.pos < len(self.text) else "end of text"
            raise self.error(f"expected ')' to close the '(' at column {open_pos + 1}, "
                             f"found {found}")
        self.pos += 1


class _BoolParser(_Parser):
    def parse(self) -> str:
        if not self.peek():
            return "True"
        return self.finish(self.expression(0), "'&', '|' or the end of the expression")

    def expression(self, depth: int) -> str:
        """A left-associative chain of ``&``/``|``, all at one precedence.

        Runs of the same operator are emitted flat (``a and b and c``) which
        is equivalent and keeps the generated source shallow.
        """
        run, operator = [self.unary(depth)], ""
        while (char := self.peek()) in ("&", "|"):
            self.pos += 1
            python = "and" if char == "&" else "or"
            if operator and python != operator:
                run = [f"({f' {operator} '.join(run)})"]
            operator = python
            run.append(self.unary(depth))
        return run[0] if len(run) == 1 else f"({f' {operator} '.join(run)})"

    def unary(self, depth: int) -> str:
        char = self.peek()
        if char == "!":
            depth = self.enter(depth)
            self.pos += 1
            return f"(not {self.unary(depth)})"
        if char == "(":
            open_pos, depth = self.pos, self.enter(depth)
            self.pos += 1
            inner = self.expression(depth)
            self.closing(open_pos)
            return inner
        return self.comparison()

    def comparison(self) -> str:
        char = self.peek()
        name = self.take(_IDENT)
        if name is None:
            if not char:
                raise self.error("unexpected end of expression, expected a comparison")
            if char == '"' or _BARE_WORD.match(char):
                raise self.error("a comparison must start with a variable name")
            raise self.error(f"unexpected character {char!r}, expected a variable name")
        self.peek()
        op_pos = self.pos
        operator = self.take(_COMPARATOR)
        if operator is None:
            raise self.error(f"expected a comparison operator after {name!r}")
        literal, number = self.value(operator)
        return self.emit(self.variable(name), operator, literal, number, op_pos)

    def value(self, operator: str) -> tuple[str, float | int | None]:
        """VALUE: its text, and its number when it is an unquoted number."""
        char = self.peek()
        if char == '"':
            end = self.text.find('"', self.pos + 1)
            if end < 0:
                raise self.error("unterminated string")
            literal, self.pos = self.text[self.pos + 1:end], end + 1
            return literal, None
        start = self.pos
        word = self.take(_BARE_WORD)
        if word is None:
            found = repr(char) if char else "end of text"
            raise self.error(f"expected a value after {operator!r}, found {found}")
        if not _BOOL_NUMBER.fullmatch(word):
            return word, None
        if not math.isfinite(float(word)):
            raise self.error(f"number {word} is out of range", start)
        return word, float(word) if "." in word else int(word)

    def emit(self, host: str, operator: str, literal: str, number: float | int | None,
             op_pos: int) -> str:
        if operator in _ORDERING:
            if number is None:
                raise self.error(f"{operator!r} compares numbers, {literal!r} is not one",
                                 op_pos)
            return f"_num({host}) {operator} {number!r}"
        if operator == "@>":
            return f"_has({host}, {literal!r}, {number!r})"
        if number is not None:
            if operator == "=":
                return f"_num({host}) == {number!r}"
            return f"_num_ne({host}, {number!r})"
        if not _GLOB_CHARS.intersection(literal):
            return f"{'_eq_s' if operator == '=' else '_ne_s'}({host}, {literal!r})"
        matcher = f"_m{len(self.matchers)}"
        self.matchers[matcher] = re.compile(fnmatch.translate(literal)).match
        return f"{'_glob' if operator == '=' else '_nglob'}({matcher}, {host})"


class _ArithParser(_Parser):
    def parse(self) -> str:
        if not self.peek():
            return "0.0"
        return f"_fin({self.finish(self.sum(0), 'an operator or the end of the expression')})"

    def sum(self, depth: int) -> str:
        code = self.term(depth)
        while (char := self.peek()) in ("+", "-"):
            self.pos += 1
            code = f"{code} {char} {self.term(depth)}"
        return code

    def term(self, depth: int) -> str:
        code = self.factor(depth)
        while (char := self.peek()) in ("*", "/"):
            self.pos += 1
            right = self.factor(depth)
            code = f"{code} * {right}" if char == "*" else f"_div({code}, {right})"
        return code

    def factor(self, depth: int) -> str:
        char = self.peek()
        if char == "-":
            depth = self.enter(depth)
            self.pos += 1
            return f"(-{self.factor(depth)})"
        if char == "(":
            open_pos, depth = self.pos, self.enter(depth)
            self.pos += 1
            inner = self.sum(depth)
            self.closing(open_pos)
            return f"({inner})"
        start = self.pos
        if (word := self.take(_ARITH_NUMBER)) is not None:
            if not math.isfinite(number := float(word)):
                raise self.error(f"number {word} is out of range", start)
            return repr(number)
        if (name := self.take(_IDENT)) is not None:
            return f"_n0({self.variable(name)})"
        if not char:
            raise self.error("unexpected end of expression, expected a number or variable")
        raise self.error(f"unexpected character {char!r}, expected a number or variable")


# --- compiled expressions ----------------------------------------------------

class _Compiled:
    """Shared shape of a compiled expression.

    ``evaluate`` is the raw lambda: the scheduler's inner loop may bind it
    once to save the method call that ``__call__`` adds.
    """

    __slots__ = ("source", "python_source", "evaluate", "_variables")

    def __init__(self, source: str, parser: _Parser) -> None:
        code = parser.parse()
        self.source = source
        self.python_source = f"lambda v: {code}"
        self._variables = frozenset(parser.variables)
        namespace = {"__builtins__": {}, **_HELPERS, **parser.matchers}
        try:
            self.evaluate = eval(compile(self.python_source, "<expression>", "eval"), namespace)
        except (SyntaxError, RecursionError, MemoryError) as exc:
            # Only CPython's own nesting limits can fail here.
            raise TemplateSyntaxError("expression is too complex", 1, 1) from exc

    def variables(self) -> frozenset[str]:
        """Host variable names the expression reads."""
        return self._variables

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r})"


class Requirement(_Compiled):
    """A compiled REQUIREMENTS expression: does this host fit?"""

    __slots__ = ()

    def __call__(self, host_vars: Mapping[str, Any]) -> bool:
        return self.evaluate(host_vars)


class Rank(_Compiled):
    """A compiled RANK expression: higher means a better host."""

    __slots__ = ()

    def __call__(self, host_vars: Mapping[str, Any]) -> float:
        return self.evaluate(host_vars)


@lru_cache(maxsize=4096)
def compile_requirements(text: str | None) -> Requirement:
    """Compile a REQUIREMENTS expression; None or blank accepts every host.

    Cached because many VMs share one template's expression.
    """
    text = text or ""
    return Requirement(text, _BoolParser(text))


@lru_cache(maxsize=4096)
def compile_rank(text: str | None) -> Rank:
    """Compile a RANK expression; None or blank ranks every host 0.0."""
    text = text or ""
    return Rank(text, _ArithParser(text))
