"""The OpenNebula template language: attribute text, its XML form, and the model.

Every object in the pools carries a template; users write it as ``NAME = value``
text or as XML, the core stores it as XML and renders it back in both forms,
so the two parsers and the two renderers must round-trip exactly.
"""
from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Union, cast

from lxml import etree

from one.errors import TemplateLimitError, TemplateSyntaxError

Value = Union[str, dict[str, str]]

_by_name = itemgetter(0)
_NAME = re.compile(r"[A-Za-z0-9_]+")
_BAD_NAME_CHAR = re.compile(r"[^A-Za-z0-9_]")
# Anything XML 1.0 cannot carry; rejected so every template can be stored as XML.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# A value is at most 4 UTF-8 bytes per character: this many stay under libxml2's
# 10,000,000-byte limit on one text node, whatever the configuration says.
MAX_VALUE_CEILING = 2_000_000
# Attribute names become XML tags, which libxml2 limits separately (50,000 bytes);
# no OpenNebula attribute comes anywhere near this.
MAX_NAME = 256


@dataclass(frozen=True)
class Limits:
    """The largest template text and attribute value (in characters) a user may submit.

    libxml2, under lxml, refuses a text node over 10,000,000 bytes: one such
    value, once stored, made its object unreadable for every client and every
    reader in oned.  The defaults stay far below it and below anything a VM
    needs -- 256 KiB holds a long cloud-init script or many SSH keys, and
    1 MiB of template text keeps every listing row and every render cheap.
    """

    text: int = 1 << 20
    value: int = 256 << 10

    def __post_init__(self) -> None:
        if not 0 < self.value <= min(self.text, MAX_VALUE_CEILING):
            raise ValueError(f"the template value limit must be between 1 and "
                             f"{MAX_VALUE_CEILING} and at most the template size limit")

    def check_text(self, text: str) -> None:
        """Refuse over-long text before spending time parsing it."""
        if len(text) > self.text:
            raise TemplateLimitError(f"Template is {len(text)} characters long: the limit is "
                                     f"{self.text} (TEMPLATE_MAX_SIZE).")

    def check_values(self, template: Template) -> Template:
        """The template itself, if every value (and every name) fits the limit."""
        for name, value in template.attrs:
            pairs = value.items() if isinstance(value, dict) else ((None, value),)
            for key, item in pairs:
                if max(len(name), len(key or "")) > MAX_NAME:
                    raise TemplateLimitError(f"Attribute name {(key or name)[:64]}... is longer "
                                             f"than {MAX_NAME} characters.")
                if len(item) > self.value:
                    where = f"{name}/{key}" if key else name
                    raise TemplateLimitError(
                        f"Value of {where} is {len(item)} characters long: the limit is "
                        f"{self.value} (TEMPLATE_MAX_VALUE).")
        return template

    def check(self, template: Template) -> Template:
        """The template itself, if its values and its text form fit the limits
        (for templates merged from several submissions)."""
        self.check_text(template.to_text())
        return self.check_values(template)


DEFAULT_LIMITS = Limits()


def error_at(text: str, pos: int, message: str) -> TemplateSyntaxError:
    """Build a syntax error pointing at character ``pos`` of ``text`` (1-based line/column)."""
    line = text.count("\n", 0, pos) + 1
    column = pos - text.rfind("\n", 0, pos)
    return TemplateSyntaxError(message, line, column)


def _norm_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"invalid template attribute name {name!r}")
    return name.upper()


def _norm_value(value: Value) -> Value:
    """Upper-case and sort vector keys (first of colliding keys wins), as the parsers do."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"template values are str or a mapping, not {type(value).__name__}")
    if not value:
        raise ValueError("a vector attribute needs at least one key")
    pairs: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            raise TypeError(f"vector values are str, not {type(item).__name__}")
        pairs.setdefault(_norm_name(key), item)
    return dict(sorted(pairs.items()))


class Template:
    """Ordered multimap of attributes, kept sorted by name as OpenNebula's multimap is
    (stable: repeated names keep insertion order; vector keys sorted too)."""

    __slots__ = ("attrs",)

    def __init__(self, attrs: Iterable[tuple[str, Value]] = ()) -> None:
        self.attrs: list[tuple[str, Value]] = sorted(
            ((_norm_name(name), _norm_value(value)) for name, value in attrs), key=_by_name
        )

    @classmethod
    def _trusted(cls, attrs: list[tuple[str, Value]]) -> Template:
        """Wrap attributes the parsers already normalised, skipping re-validation."""
        template = cls.__new__(cls)
        attrs.sort(key=_by_name)
        template.attrs = attrs
        return template

    def _span(self, name: str) -> tuple[int, int]:
        """Index range of the attributes called ``name`` (already upper-case)."""
        lo = bisect_left(self.attrs, name, key=_by_name)
        return lo, bisect_right(self.attrs, name, lo=lo, key=_by_name)

    def values(self, name: str) -> list[Value]:
        lo, hi = self._span(name.upper())
        return [value for _, value in self.attrs[lo:hi]]

    def get(self, name: str, default: str | None = None) -> str | None:
        """First single (non-vector) value called ``name``."""
        return next((v for v in self.values(name) if isinstance(v, str)), default)

    def vector(self, name: str) -> dict[str, str] | None:
        return next(iter(self.vectors(name)), None)

    def vectors(self, name: str) -> list[dict[str, str]]:
        return [v for v in self.values(name) if isinstance(v, dict)]

    def set(self, name: str, value: Value) -> None:
        """Replace every attribute called ``name`` by this one."""
        self.remove(name)
        self.add(name, value)

    def add(self, name: str, value: Value) -> None:
        """Append one more attribute, after any existing ones of the same name."""
        name = _norm_name(name)
        self.attrs.insert(bisect_right(self.attrs, name, key=_by_name), (name, _norm_value(value)))

    def remove(self, name: str) -> int:
        lo, hi = self._span(name.upper())
        del self.attrs[lo:hi]
        return hi - lo

    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.attrs))

    def merge(self, other: Template) -> None:
        """OpenNebula's update in append mode: names in ``other`` replace ours entirely."""
        replaced = set(other.names())
        kept = [attr for attr in self.attrs if attr[0] not in replaced]
        self.attrs = sorted(kept + other.copy().attrs, key=_by_name)

    def copy(self) -> Template:
        return Template._trusted(
            [(name, v if isinstance(v, str) else dict(v)) for name, v in self.attrs]
        )

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.values(name))

    def __len__(self) -> int:
        return len(self.attrs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and self.attrs == other.attrs

    def __repr__(self) -> str:
        return f"Template({self.attrs!r})"

    def to_text(self) -> str:
        """The attribute syntax, one attribute per line, every value quoted."""
        lines = []
        for name, value in self.attrs:
            if isinstance(value, str):
                lines.append(f'{name}="{_quote(value)}"\n')
            else:
                pairs = ",\n".join(f'  {key}="{_quote(item)}"' for key, item in value.items())
                lines.append(f"{name}=[\n{pairs} ]\n")
        return "".join(lines)

    def to_xml(self, root: str = "TEMPLATE") -> str:
        return f"<{root}>{self.xml_body()}</{root}>"

    def xml_body(self, skip: Container[str] = ()) -> str:
        """The children of the root element, leaving out the (upper-case) names in ``skip``.

        Plain string building: objects are rendered on every pool read.
        """
        out = []
        for name, value in self.attrs:
            if name in skip:
                continue
            tag = _xml_tag(name)
            if isinstance(value, str):
                out.append(f"<{tag}>{_cdata(value)}</{tag}>")
            else:
                inner = "".join(
                    f"<{_xml_tag(k)}>{_cdata(v)}</{_xml_tag(k)}>" for k, v in value.items()
                )
                out.append(f"<{tag}>{inner}</{tag}>")
        return "".join(out)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _xml_tag(name: str) -> str:
    """XML names cannot start with a digit; prefix such names with ``_.``, which no
    template name can contain, so parse_xml can undo it."""
    return "_." + name if name[0].isdigit() else name


def _cdata(value: str) -> str:
    """Wrap in CDATA, splitting at ``]]>`` and emitting CR as ``&#13;`` (parsers
    would otherwise normalise it to LF)."""
    if "]]>" in value:
        value = value.replace("]]>", "]]]]><![CDATA[>")
    if "\r" in value:
        value = value.replace("\r", "]]>&#13;<![CDATA[")
    return f"<![CDATA[{value}]]>"


# ---------------------------------------------------------------- text syntax

# One match per token: (blanks, newlines and whole-line comments before it, the
# token).  The token is a punctuation character, a quoted string, a lone '"' (an
# unterminated string), a bare word, or '' at the end of the input.  Newlines only
# matter right after a top-level '=', so they live in the prefix.
_TOKEN = re.compile(
    r"""((?:\n|^[ \t\r]*\#[^\n]*|[ \t\r]+)*+)
        ([=,\[\]\#]|"[^"\\]*(?:\\.[^"\\]*)*"|"|[^=\#\ \t\r\n,\[\]"]+|\Z)""",
    re.M | re.S | re.X,
)
_PUNCT = frozenset('=,[]#"')
_UNESCAPE = re.compile(r'\\(["\\])')


def _is_word(token: str) -> bool:
    return bool(token) and token[0] not in _PUNCT


def _is_string(token: str) -> bool:
    return len(token) > 1 and token[0] == '"'  # a lone '"' is an unterminated string


class _TextParser:
    """Recursive descent over the token list.

    Tokens come from ``findall`` (no match objects: the hot path); positions are
    recomputed only when reporting an error.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str]] = _TOKEN.findall(text)

    def fail(self, i: int, message: str, offset: int = 0) -> TemplateSyntaxError:
        positions = [m.start(2) for m in _TOKEN.finditer(self.text)]
        return error_at(self.text, positions[i] + offset, message)

    def unexpected(self, i: int, context: str = "") -> TemplateSyntaxError:
        token = self.tokens[i][1]
        if token == '"':
            return self.fail(i, "unterminated quoted string")
        what = "quoted string" if _is_string(token) else repr(token[:40])
        return self.fail(i, f"unexpected {what}{context}")

    def name(self, i: int, what: str, where: str = "") -> str:
        token = self.tokens[i][1]
        if _NAME.fullmatch(token):
            return token.upper()
        if not _is_word(token):
            raise self.unexpected(i, f", expected {what}{where}")
        bad = _BAD_NAME_CHAR.search(token)
        assert bad is not None  # a word that is not a name holds some other character
        message = f"invalid character {bad.group()!r} in {what} {token!r}{where}"
        raise self.fail(i, message, bad.start())

    def parse(self) -> list[tuple[str, Value]]:
        tokens = self.tokens
        attrs: list[tuple[str, Value]] = []
        i = 0
        while tokens[i][1]:
            name = self.name(i, "attribute name")
            blanks, token = tokens[i + 1]
            if token != "=" or "\n" in blanks:
                raise self.fail(i + 1, f"expected '=' after attribute name {name!r}")
            i, value = self.value(i + 2, name)
            attrs.append((name, value))
        return attrs

    def value(self, i: int, name: str) -> tuple[int, Value]:
        """The value starting at token ``i`` and the index after it."""
        blanks, token = self.tokens[i]
        if not token or "\n" in blanks:
            return i, ""
        value: Value
        if token == "[":
            i, value = self.vector(i + 1, name)
        elif _is_string(token):
            i, value = i + 1, _unquote(token)
        elif _is_word(token):
            i, value = i + 1, token
        else:
            raise self.unexpected(i, f" in the value of {name!r}")
        blanks, token = self.tokens[i]
        if not blanks and token:
            raise self.unexpected(i, f", expected a blank or newline after {name!r}")
        return i, value

    def vector(self, i: int, name: str) -> tuple[int, dict[str, str]]:
        tokens = self.tokens
        if tokens[i][1] == "]":
            raise self.fail(i, f"empty vector {name!r}")
        pairs: dict[str, str] = {}
        while True:
            token = tokens[i][1]
            key = token.upper() if _NAME.fullmatch(token) else self.key_error(i, name)
            if tokens[i + 1][1] != "=":
                raise self.fail(i + 1, f"expected '=' after key {key!r} in vector {name!r}")
            token = tokens[i + 2][1]
            first = token[:1]
            if first == '"' and len(token) > 1:
                i, value = i + 3, _unquote(token)
            elif first and first not in _PUNCT:
                i, value = i + 3, token
            else:
                i, value = i + 2, self.empty_value(i + 2, key, name)
            pairs.setdefault(key, value)
            token = tokens[i][1]
            if token == "]":
                return i + 1, dict(sorted(pairs.items()))
            if token != ",":
                raise self.not_separator(i, name)
            i += 1

    def key_error(self, i: int, name: str) -> str:
        """Raise the right error for a token that is not a valid vector key."""
        if not self.tokens[i][1]:
            raise self.fail(i, f"unterminated vector {name!r}")
        return self.name(i, "key name", f" of vector {name!r}")

    def not_separator(self, i: int, name: str) -> TemplateSyntaxError:
        if not self.tokens[i][1]:
            return self.fail(i, f"unterminated vector {name!r}")
        return self.unexpected(i, f", expected ',' or ']' in vector {name!r}")

    def empty_value(self, i: int, key: str, name: str) -> str:
        """A vector value that is neither a string nor a word: empty, or an error."""
        token = self.tokens[i][1]
        if token == "," or token == "]":
            return ""
        if token == "[":
            raise self.fail(i, f"nested vectors are not allowed (key {key!r} of {name!r})")
        if not token:
            raise self.fail(i, f"unterminated vector {name!r}")
        raise self.unexpected(i, f" in vector {name!r}")


def _unquote(token: str) -> str:
    """Undo the two escapes of quoted strings, leaving any other backslash alone."""
    body = token[1:-1]
    return _UNESCAPE.sub(r"\1", body) if "\\" in body else body


def parse_text(text: str) -> Template:
    """Parse the ``NAME = value`` attribute syntax."""
    bad = _NOT_XML_CHAR.search(text)
    if bad:
        raise error_at(text, bad.start(), f"character U+{ord(bad.group()):04X} is not allowed")
    return Template._trusted(_TextParser(text).parse())


# ---------------------------------------------------------------- XML form

_XML_DECL = re.compile(r"\s*<\?xml\s[^>]*\?>")
_LXML_WHERE = re.compile(r", line \d+, column \d+$")
_local = threading.local()


def _xml_parser(huge: bool) -> etree.XMLParser:
    """One parser per thread (lxml advises against sharing them); never resolves
    entities nor touches the network."""
    name = "huge_parser" if huge else "parser"
    parser = getattr(_local, name, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, huge_tree=huge, load_dtd=False,
            remove_comments=True, remove_pis=True,
        )
        setattr(_local, name, parser)
    return parser


def _element_error(text: str, element: etree._Element, message: str) -> TemplateSyntaxError:
    """lxml keeps no column for elements: find the start tag on its line instead."""
    line = element.sourceline or 0
    source = text.split("\n")[line - 1] if line else ""
    tag = cast(str, element.tag)  # parsed, never assigned: always text
    return TemplateSyntaxError(message, line, max(source.find(f"<{tag}") + 1, 1))


def _children(text: str, element: etree._Element) -> list[etree._Element]:
    """Element children, refusing unexpanded entity references (content we would lose)."""
    children = []
    for child in element:
        if not isinstance(child.tag, str):
            raise _element_error(text, element, f"entity reference {child} is not supported")
        children.append(child)
    return children


def _xml_name(text: str, element: etree._Element) -> str:
    tag = cast(str, element.tag)  # one of _children(): an element, so a text tag
    name = (tag[2:] if tag.startswith("_.") else tag).upper()
    if not _NAME.fullmatch(name):
        raise _element_error(text, element, f"invalid attribute name {tag!r}")
    return name


def _xml_vector(text: str, element: etree._Element, children: list) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for child in children:
        if _children(text, child):
            raise _element_error(
                text, child, f"nested vectors are not allowed ({child.tag!r} in {element.tag!r})"
            )
        pairs.setdefault(_xml_name(text, child), child.text or "")
    return dict(sorted(pairs.items()))


def parse_xml(text: str, stored: bool = False) -> Template:
    """Parse ``<TEMPLATE>...</TEMPLATE>`` (any root name) without touching the network
    or expanding entities.

    ``stored`` lifts libxml2's size limits for documents oned wrote itself: a row
    stored before the limits existed (or written around them) must stay readable,
    so that it can be listed, terminated and deleted.
    """
    # lxml refuses str input with an encoding declaration; blanking it keeps positions.
    decl = _XML_DECL.match(text)
    source = re.sub(r"[^\n]", " ", decl.group()) + text[decl.end():] if decl else text
    try:
        root = etree.fromstring(source, _xml_parser(stored))
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise TemplateSyntaxError(_LXML_WHERE.sub("", exc.msg.strip()), line, column) from None
    attrs: list[tuple[str, Value]] = []
    for child in _children(text, root):
        name = _xml_name(text, child)
        grandchildren = _children(text, child)
        if grandchildren:
            attrs.append((name, _xml_vector(text, child, grandchildren)))
        else:
            attrs.append((name, child.text or ""))
    return Template._trusted(attrs)


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Template:
    """Parse a user's template in either form (XML when the first non-blank character
    is ``<``), refusing it when it exceeds ``limits``."""
    limits.check_text(text)
    template = parse_xml(text) if text.lstrip().startswith("<") else parse_text(text)
    return limits.check_values(template)
