"""The README's walkthroughs as data, and how their printed lines are compared.

A walkthrough is a `## ` section with ```console blocks: `$ command` lines
(a `<<'EOF'` heredoc carries its lines up to EOF) and the lines the command
prints, where a line `...` stands for any number of lines left out. Its
```python blocks run too; `# prints: text` says what a line prints.

Values that differ from run to run are matched by RULES, a short explicit
list; every other character of a line must be as written (trailing spaces
aside, which a terminal does not show; in a line with such a value, the gaps
between columns may widen or narrow with it). The reader's HOME and oned's
port are the test's own (test_walkthroughs.Shell.as_written).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Union

ELIDED = "..."
_HEREDOC = re.compile(r"<<-?\s*'?\"?(\w+)'?\"?")
_PRINTS = re.compile(r"#\s*prints:\s?(.*)$")


@dataclass(frozen=True)
class Rule:
    why: str
    written: str   # how the README writes such a value
    printed: str   # what the tools may print in its place


RULES = (
    Rule("elapsed time (TIME columns)", r"\d+d \d\dh\d\d", r"\d+d \d\dh\d\d"),
    Rule("date and time (START TIME...)", r"\d\d/\d\d \d\d:\d\d:\d\d", r"\d\d/\d\d \d\d:\d\d:\d\d"),
    Rule("time of a VM log line", r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \d{4}",
         r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \d{4}"),
    Rule("memory measured on a real host: written with a decimal, 7.3G",
         r"\d+\.\d[KMGT]", r"\d+(?:\.\d)?[KMGT]"),
    Rule("a host's CPU total, 100 per core", r"(?<=/ )\d+(?= \(\d+%\))|(?<=TOTAL CPU {11}: )\d+$",
         r"\d+"),
)
_WRITTEN = re.compile("|".join(f"(?P<r{n}>{rule.written})" for n, rule in enumerate(RULES)))


@dataclass
class Step:
    """One `$ command` and the lines it prints (stdout and stderr, as a terminal shows)."""

    command: str
    expected: list[str]


@dataclass
class Script:
    """A ```python block and what its `# prints:` comments say it prints."""

    code: str
    expected: list[str]


@dataclass
class Walkthrough:
    title: str
    items: list[Union[Step, Script]] = field(default_factory=list)

    @property
    def starts_oned(self) -> bool:
        first = self.items[0] if self.items else None
        return isinstance(first, Step) and first.command == "make run"


def parse(readme: Path) -> list[Walkthrough]:
    """Every section with a console block, its blocks in order."""
    sections: list[Walkthrough] = []
    lines = readme.read_text().splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith("## "):
            sections.append(Walkthrough(line[3:].strip()))
        elif line in ("```console", "```python") and sections:
            end = lines.index("```", index)
            block = lines[index:end]
            index = end + 1
            if line == "```console":
                sections[-1].items.extend(_steps(block))
            else:
                sections[-1].items.append(Script("\n".join(block), [
                    found[1] for found in map(_PRINTS.search, block) if found]))
    return [section for section in sections if any(isinstance(i, Step) for i in section.items)]


def _steps(block: list[str]) -> list[Step]:
    steps: list[Step] = []
    index = 0
    while index < len(block):
        line = block[index]
        if not line.startswith("$ "):
            raise ValueError(f"README console block: output before any command: {line!r}")
        command, index = [line[2:]], index + 1
        heredoc = _HEREDOC.search(line)
        if heredoc:
            end = block.index(heredoc[1], index)
            command.extend(block[index:end + 1])
            index = end + 1
        expected = []
        while index < len(block) and not block[index].startswith("$ "):
            expected.append(block[index])
            index += 1
        steps.append(Step("\n".join(command), expected))
    return steps


def _literal(text: str) -> str:
    """A literal piece of a line with variable values: a value wider or narrower than
    written moves its column, so column gaps (two spaces or more) may differ too."""
    return "".join(" +" if piece.startswith("  ") else re.escape(piece)
                   for piece in re.split(r"( {2,})", text))


@lru_cache(maxsize=None)
def line_pattern(written: str) -> re.Pattern[str]:
    """The README line as a regex: RULES' values variable, everything else literal."""
    found = list(_WRITTEN.finditer(written))
    if not found:
        return re.compile(re.escape(written))
    pieces: list[str] = []
    position = 0
    for match in found:
        rule = RULES[int(str(match.lastgroup)[1:])]
        pieces += [_literal(written[position:match.start()]), f"(?:{rule.printed})"]
        position = match.end()
    return re.compile("".join(pieces) + _literal(written[position:]))


def matches(expected: list[str], printed: list[str]) -> bool:
    """Line by line, `...` taking any number of printed lines."""
    want = [line.rstrip() for line in expected]
    got = [line.rstrip() for line in printed]

    @lru_cache(maxsize=None)
    def at(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i] == ELIDED:
            return any(at(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and bool(line_pattern(want[i]).fullmatch(got[j])) and at(i + 1, j + 1)

    return at(0, 0)
