"""Read a YAML file defensively, keeping the ``line:col`` of every key and value.

PyYAML's own loaders lose positions, silently keep the last of two duplicate keys, read an
unquoted ``7:30`` as the integer 450, expand alias bombs and recurse once per nesting level.
Here the document is composed into nodes with a depth limit, then turned into plain Python
values by hand, so each of those is reported as a ``Problem`` at its position instead.

Composing uses libyaml (C) when the text has none of the few constructs where libyaml and
PyYAML read differently (tabs, tags, stray BOMs…): ~3× faster on a 20,000-entry metadata file
(8.6 → 2.8 s). Any failure falls back to PyYAML's pure-Python loader, whose messages and depth
check users see; a property test holds the two paths to the same values, marks and problems.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from briefgen.config.yamlsyntax import explain as explain_syntax_error

MAX_FILE_BYTES = 1_000_000  # a real config is a few kB; this refuses accidents and attacks
MAX_DEPTH = 50  # nesting levels; a config needs about six
MAX_ALIAS_EXPANSION = 10_000  # values reached a second time through aliases (small files)
# A large file may reuse anchors in every entry (`<<: *defaults`): that grows with its size,
# while an alias bomb grows exponentially. So the limit grows with the file, one reused value
# per this many bytes.
BYTES_PER_ALIAS_VALUE = 10

YamlPath = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_TIME_LIKE = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
_PLAIN_KEY = re.compile(r"^[\w-]+$")


@dataclass(frozen=True, order=True)
class Problem:
    """One configuration problem at a position (line and column are 1-based; 0 = whole file)."""

    file: str
    line: int
    col: int
    path: YamlPath
    message: str

    def format(self) -> str:
        """Return the ``file:line:col: dotted.path: message`` line."""
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        return (
            f"{where}: {dotted(self.path)}: {self.message}"
            if self.path
            else f"{where}: {self.message}"
        )


def dotted(path: YamlPath) -> str:
    """Return a path as ``topics.trade.terms[0]``; keys that are not plain words are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if _PLAIN_KEY.match(part) else '"' + part.replace('"', '\\"') + '"'
            out += f".{name}" if out else name
    return out


class FileFatal(Exception):
    """The file cannot be read at all; carries the one problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.format())
        self.problem = problem


@dataclass
class YamlDoc:
    """A YAML document as plain values plus the position of every key and value in it."""

    file: str
    data: Any
    value_marks: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    flagged: set[YamlPath] = field(default_factory=set)  # values already reported as wrong

    def mark(self, path: YamlPath, *, key: bool = False) -> tuple[int, int]:
        """Return the position of ``path`` (its key if ``key``), or of its nearest ancestor."""
        for end in range(len(path), -1, -1):
            sub = path[:end]
            if key and sub in self.key_marks:
                return self.key_marks[sub]
            if sub in self.value_marks:
                return self.value_marks[sub]
        return (1, 1)

    def problem(
        self, path: YamlPath, message: str, *, key: bool = False, shown: YamlPath | None = None
    ) -> Problem:
        """Return a problem at ``path`` in this file, displayed as ``shown`` (default ``path``)."""
        line, col = self.mark(path, key=key)
        return Problem(self.file, line, col, path if shown is None else shown, message)


@dataclass(frozen=True)
class SizeLimit:
    """The largest file accepted, and what the "file is too large" message calls such files."""

    max_bytes: int = MAX_FILE_BYTES
    files: str = "config and topic files"

    def too_large(self, size: int) -> str:
        """Return the message for a file of ``size`` bytes."""
        return (
            f"file is too large ({size / 1e6:.1f} MB); {self.files} are limited "
            f"to {self.max_bytes // 1_000_000} MB"
        )


def read_yaml(
    path: Path,
    shown: str,
    problems: list[Problem],
    *,
    limit: SizeLimit | None = None,
    empty_ok: bool = False,
) -> YamlDoc:
    """Read one YAML file, appending the problems found in its values to ``problems``.

    Raises ``FileFatal`` when the file cannot be read or parsed at all, or is empty (unless
    ``empty_ok``: then the document's data is ``None``).
    """
    text = read_text(path, shown, limit or SizeLimit())
    node = _compose(text, shown)
    if node is None and not empty_ok:
        raise FileFatal(Problem(shown, 0, 0, (), "file is empty"))
    return read_yaml_text(text, shown, problems, node)


def read_yaml_text(text: str, shown: str, problems: list[Problem], node: Node | None = None) -> YamlDoc:
    """Read YAML text (size checked by the caller) with a file's limits; empty: data ``None``."""
    node = node or _compose(text, shown)
    doc = YamlDoc(shown, None)
    if node is not None:
        max_reused = max(MAX_ALIAS_EXPANSION, len(text) // BYTES_PER_ALIAS_VALUE)
        doc.data = _Converter(doc, problems, max_reused).convert(node, (), 0, ())
    return doc


def read_text(path: Path, shown: str, limit: SizeLimit) -> str:
    """Return the file's text: a regular file, at most ``limit.max_bytes``, strict UTF-8."""
    try:
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "is not a regular file"
            raise FileFatal(Problem(shown, 0, 0, (), f"{what}; expected a YAML file"))
        size = path.stat().st_size
        if size > limit.max_bytes:
            raise FileFatal(Problem(shown, 0, 0, (), limit.too_large(size)))
        with path.open("rb") as fh:
            data = fh.read(limit.max_bytes + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise FileFatal(Problem(shown, 0, 0, (), f"cannot read: {exc.strerror or exc}")) from None
    if len(data) > limit.max_bytes:
        raise FileFatal(Problem(shown, 0, 0, (), limit.too_large(len(data))))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileFatal(Problem(shown, 1, 1, (), "file is UTF-16; save it as UTF-8"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data[: exc.start].decode("utf-8", "replace"), None)
        byte = data[exc.start]
        raise FileFatal(
            Problem(
                shown, line, col, (), f"not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8"
            )
        ) from None


def _line_col(text: str, index: int | None) -> tuple[int, int]:
    """Return the 1-based line and column of ``text[index]`` (default: just after the end)."""
    before = text if index is None else text[:index]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


class _DepthLimitedLoader(yaml.SafeLoader):
    """A SafeLoader whose composer refuses to nest deeper than ``MAX_DEPTH``.

    The parser itself is iterative; only composition recurses, so stopping it here keeps a
    5,000-deep ``[[[[...`` from ever reaching Python's recursion limit.
    """

    def __init__(self, stream: str, shown: str) -> None:
        super().__init__(stream)
        self.shown = shown
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise FileFatal(
                    Problem(
                        self.shown,
                        mark.line + 1,
                        mark.column + 1,
                        (),
                        f"nested more than {MAX_DEPTH} levels deep; refusing to read",
                    )
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _compose_fast(text: str) -> Node | None:
    """Compose with libyaml (C), ~4× faster than PyYAML's pure-Python composer, or raise.

    libyaml's composer cannot be limited in depth, so the C parser's events (iterative) are
    scanned first and a document nested deeper than ``MAX_DEPTH`` is refused before composing.
    Any failure raises: the caller then composes with the pure-Python loader, whose messages
    (and depth check) are the ones users see.
    """
    if not yaml.__with_libyaml__ or _NON_PRINTABLE.search(text) or _SLOW_ONLY.search(text):
        raise _UseSlowPath
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _UseSlowPath
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    node: Node | None = yaml.compose(text, Loader=yaml.CSafeLoader)
    return node


class _UseSlowPath(Exception):
    """The fast composer cannot (or must not) read this text."""


# Where libyaml and PyYAML disagree (tabs: libyaml accepts some PyYAML refuses; a BOM or NEL
# inside the text: positions are counted differently; tags, "!x"; a block scalar header with a
# comment glued to it, ">#"), only the pure-Python path reads.
_SLOW_ONLY = re.compile("[\t\ufeff\x85\u2028\u2029]|(?:^|[\\s\\[\\]{},:-])!|[>|][+-]?[0-9]?#", re.MULTILINE)
# What PyYAML's reader refuses ("special characters are not allowed"); libyaml may differ.
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


def _compose(text: str, shown: str) -> Node | None:
    """Parse ``text`` into a node tree, turning every parser failure into ``FileFatal``."""
    with contextlib.suppress(Exception):  # any trouble: the pure-Python path decides, explains
        return _compose_fast(text)
    try:
        loader = _DepthLimitedLoader(text, shown)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        line, col, message = explain_syntax_error(exc, text)
        raise FileFatal(Problem(shown, line, col, (), message)) from None
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        raise FileFatal(
            Problem(shown, line, col, (), f"character U+{exc.character:04X} is not allowed in YAML")
        ) from None
    except yaml.YAMLError as exc:
        raise FileFatal(Problem(shown, 1, 1, (), f"YAML syntax error: {exc}")) from None
    except RecursionError:
        raise FileFatal(Problem(shown, 1, 1, (), "nested too deeply; refusing to read")) from None
    except FileFatal:
        raise
    except Exception as exc:  # noqa: BLE001 -- a parser bug must not become a user's traceback
        raise FileFatal(Problem(shown, 1, 1, (), f"internal YAML parser error: {exc!r}")) from None


class _Converter:
    """Turn a node tree into plain values, recording marks and reporting node-level problems."""

    def __init__(
        self, doc: YamlDoc, problems: list[Problem], max_reused: int = MAX_ALIAS_EXPANSION
    ) -> None:
        self.doc = doc
        self.problems = problems
        self.seen: set[int] = set()
        self.reused = 0
        self.max_reused = max_reused
        self.constructor = SafeConstructor()

    def _fatal(self, node: Node, path: YamlPath, message: str) -> FileFatal:
        mark = node.start_mark
        return FileFatal(Problem(self.doc.file, mark.line + 1, mark.column + 1, path, message))

    def _report(self, node: Node, path: YamlPath, message: str, *, flag: bool = True) -> None:
        if flag:
            self.doc.flagged.add(path)
        mark = node.start_mark
        self.problems.append(Problem(self.doc.file, mark.line + 1, mark.column + 1, path, message))

    def convert(self, node: Node, path: YamlPath, depth: int, stack: tuple[int, ...]) -> Any:
        """Return the plain value of ``node`` found at ``path``."""
        if id(node) in stack:
            raise self._fatal(node, path, "an alias refers to a block that contains it")
        if depth > MAX_DEPTH:
            raise self._fatal(
                node, path, f"nested more than {MAX_DEPTH} levels deep (through aliases)"
            )
        if id(node) in self.seen:
            # Reached again through an alias: expansion is what an alias bomb multiplies.
            self.reused += 1
            if self.reused > self.max_reused:
                raise self._fatal(
                    node,
                    path,
                    f"aliases expand to more than {self.max_reused} "
                    "values; refusing to read (an alias bomb?)",
                )
        self.seen.add(id(node))
        self.doc.value_marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        stack = (*stack, id(node))
        if isinstance(node, MappingNode):
            if node.tag != f"{_TAG}map":
                self._report(node, path, f"unsupported tag {node.tag!r}; remove it")
            return self._mapping(node, path, depth, stack)
        if isinstance(node, SequenceNode):
            if node.tag != f"{_TAG}seq":
                self._report(node, path, f"unsupported tag {node.tag!r}; remove it")
            return [
                self.convert(item, (*path, i), depth + 1, stack)
                for i, item in enumerate(node.value)
            ]
        assert isinstance(node, ScalarNode)
        return self._scalar(node, path)

    def _scalar(self, node: ScalarNode, path: YamlPath) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self._report(node, path, f"unsupported tag {node.tag!r}; remove it")
            return node.value
        if (
            not node.style  # plain: None from PyYAML, "" from libyaml
            and node.tag in (f"{_TAG}int", f"{_TAG}float")
            and _TIME_LIKE.match(node.value)
        ):
            # YAML 1.1 reads 7:30 as the base-60 number 450; nobody means that in a config.
            self._report(node, path, f'looks like a time; quote it: "{node.value}"')
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception:  # noqa: BLE001 -- e.g. 2025-13-45 looks like a date but is none
            kind = {"timestamp": "date", "int": "number", "float": "number"}.get(
                node.tag[len(_TAG) :], "value"
            )
            self._report(
                node, path, f"{node.value!r} is not a valid {kind}; quote it if it is text"
            )
            return node.value

    def _mapping(
        self, node: MappingNode, path: YamlPath, depth: int, stack: tuple[int, ...]
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Node] = {}
        merges: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":
                merges.append((key_node, value_node))
                continue
            if not isinstance(key_node, ScalarNode):
                self._report(
                    key_node, path, "a key must be a plain word or phrase, not a list or mapping"
                )
                continue
            # Keys are names and terms: keep their text, so `no:` or `2024:` stay strings.
            key = key_node.value
            child = (*path, key)
            if key in first_seen:
                first = first_seen[key].start_mark
                self._report(
                    key_node,
                    child,
                    f"duplicate key; first defined at line {first.line + 1}, "
                    f"column {first.column + 1} (YAML would silently keep only this one)",
                    flag=False,
                )
            else:
                first_seen[key] = key_node
            self.doc.key_marks[child] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = self.convert(value_node, child, depth + 1, stack)
        for key_node, value_node in merges:
            # `<<: *base` copies the keys of `base` that this mapping does not set itself.
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode):
                    self._report(
                        key_node, path, "'<<' must name a mapping (an alias like *defaults)"
                    )
                    continue
                merged = self.convert(source, path + ("<<",), depth + 1, stack)
                nodes = _mapping_nodes(source)
                for key, value in merged.items():
                    if key not in result:
                        result[key] = value
                        if key in nodes:
                            key_node, value_node = nodes[key]
                            self._set_mark(self.doc.key_marks, path + (key,), key_node)
                            self._copy_marks(value_node, path + (key,))
        return result

    @staticmethod
    def _set_mark(marks: dict[YamlPath, tuple[int, int]], path: YamlPath, node: Node) -> None:
        marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))

    def _copy_marks(self, node: Node, path: YamlPath) -> None:
        """Record the marks of a merged value at its new path (it was converted already, so
        it is known to be finite and not too deep); the cost is the size of the value."""
        self._set_mark(self.doc.value_marks, path, node)
        if isinstance(node, MappingNode):
            for key, (key_node, value_node) in _mapping_nodes(node).items():
                self._set_mark(self.doc.key_marks, path + (key,), key_node)
                self._copy_marks(value_node, path + (key,))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                self._copy_marks(item, path + (i,))


def _mapping_nodes(node: MappingNode) -> dict[str, tuple[Node, Node]]:
    """Return a mapping node's keys with their key and value nodes, merged keys included."""
    own: dict[str, tuple[Node, Node]] = {}
    merged: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if key_node.tag == f"{_TAG}merge":
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if isinstance(source, MappingNode):
                    for key, pair in _mapping_nodes(source).items():
                        merged.setdefault(key, pair)
        elif isinstance(key_node, ScalarNode):
            own[key_node.value] = (key_node, value_node)  # the last one wins, as in YAML
    return {**merged, **own}
