"""Article metadata: field names and aliases, date normalization, merging, the corpus metadata file."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from briefgen._fs import write_bytes_atomic
from briefgen.config import yamlread as yamlread_module
from briefgen.config.problems import (
    describe_value,
    did_you_mean,
    kind_of,
    raise_problems,
    wrong_type,
)
from briefgen.config.yamlread import FileFatal, Problem, SizeLimit, YamlDoc, read_yaml
from briefgen.models import SourceMeta

# A 100,000-article corpus needs tens of MB of metadata; this still refuses accidents.
MAX_METADATA_BYTES = 64_000_000
MAX_UNUSED_SHOWN = 20  # `briefgen validate` lists this many entries naming no corpus file

_META_FIELDS = tuple(f.name for f in fields(SourceMeta))
# Other names article front matter and JSONL records use for the same facts.
_META_ALIASES = {
    "byline": "author",
    "authors": "author",
    "publisher": "outlet",
    "source": "outlet",
    "site": "outlet",
    "link": "url",
    "published": "date",
    "type": "kind",
}


NO_META = SourceMeta()



_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
# A leading weekday name ("Fri", "Monday,"); only weekdays, so "October 20, 2006" keeps its month.
_WEEKDAY = re.compile(
    r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\.?,?\s+"
    r"(?=[A-Za-z]{3}|\d)",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\s+\d{1,2}:\d{2}")
_NAMED_DATE_FORMATS = (
    "%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%d %b %Y", "%b %d %Y", "%B %d %Y",
    "%d-%b-%Y",  # Reuters-21578: "26-FEB-1987 15:01:01.79"
)


def normalize_date(value: object) -> str | None:
    """Return a date as ISO ``YYYY-MM-DD`` (or ``None`` if it cannot be read as one)."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    s = str(value).strip()
    if m := _ISO_DATE.match(s):
        return _iso_date(m.group(0))
    if m := _COMPACT_DATE.fullmatch(s):
        return _iso_date(f"{m[1]}-{m[2]}-{m[3]}")
    # "Fri Oct 20, 2006 6:15pm EDT", "20 October 2006", "October 20, 2006"
    s = _WEEKDAY.sub("", s)
    return _named_date(_CLOCK.split(s, maxsplit=1)[0].strip().rstrip(","))


@functools.lru_cache(maxsize=4096)
def _iso_date(candidate: str) -> str | None:
    try:
        return dt.date.fromisoformat(candidate).isoformat()
    except ValueError:
        return None


# Cached: a large corpus has many articles a day, and strptime is slow.
@functools.lru_cache(maxsize=4096)
def _named_date(s: str) -> str | None:
    for fmt in _NAMED_DATE_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _clean_author(value: object) -> str | None:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if v)
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    value = re.sub(r"^by\s+", "", value, flags=re.IGNORECASE)
    return value or None


def meta_from_fields(record: dict[str, Any]) -> SourceMeta:
    """Build a SourceMeta from an article's own fields (front matter or a JSONL record)."""
    values: dict[str, str | None] = {}
    for key, raw in record.items():
        name = _META_ALIASES.get(str(key).lower(), str(key).lower())
        if name not in _META_FIELDS or values.get(name) or raw in (None, ""):
            continue
        if name == "date":
            values[name] = normalize_date(raw)
        elif name == "author":
            values[name] = _clean_author(raw)
        elif isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
            values[name] = " ".join(str(raw).split()) or None
    return SourceMeta(**values)


def merge_meta(*layers: SourceMeta) -> SourceMeta:
    """Combine metadata, the first layer that knows a field winning."""
    values = {}
    for name in _META_FIELDS:
        values[name] = next((getattr(m, name) for m in layers if getattr(m, name)), None)
    return SourceMeta(**values)


def load_metadata(path: Path, cache_dir: Path | None = None) -> dict[str, SourceMeta]:
    """Read the corpus metadata file (YAML mapping: file name → title, outlet, ...).

    A missing file means no metadata; a broken one raises ``ConfigError`` listing every
    problem as ``file:line:col: path: message``. With ``cache_dir`` (the index's folder), a
    file read without problems is kept there as JSON under its content hash, so it is parsed
    again only when it changes: YAML parsing runs at ~1–2 MB/s, and a 100,000-article corpus
    can have a metadata file of tens of MB.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    cache = str(cache_dir / METADATA_CACHE) if cache_dir is not None else None
    return _load_metadata_cached(str(path), stat.st_mtime_ns, stat.st_size, cache)


METADATA_CACHE = "metadata-cache.json"  # in the index's folder


@functools.lru_cache(maxsize=8)
def _load_metadata_cached(
    path_str: str, _mtime_ns: int, _size: int, cache: str | None
) -> dict[str, SourceMeta]:
    key = _cache_key(Path(path_str)) if cache is not None else ""
    if cache is not None and (entries := _read_cache(Path(cache), key)) is not None:
        return entries
    problems: list[Problem] = []
    metadata = read_metadata(Path(path_str), path_str, problems)
    raise_problems(problems, [path_str])
    if cache is not None:
        _write_cache(Path(cache), key, metadata.entries)
    return metadata.entries


def _cache_key(path: Path) -> str:
    """Return a hash of the metadata file's bytes and of the code that reads it."""
    digest = hashlib.sha256(path.read_bytes())
    for module in (__file__, yamlread_module.__file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


def _read_cache(cache: Path, key: str) -> dict[str, SourceMeta] | None:
    """Return the cached entries if the cache holds the file with this key (else None)."""
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        return {name: SourceMeta(**values) for name, values in data["entries"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # absent, unreadable or from another version: parse the YAML


def _write_cache(cache: Path, key: str, entries: dict[str, SourceMeta]) -> None:
    """Keep the entries as JSON for the next run (best effort: a cache is never required)."""
    record = {"key": key, "entries": {name: asdict(meta) for name, meta in entries.items()}}
    with contextlib.suppress(OSError):
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(cache, json.dumps(record, ensure_ascii=False).encode("utf-8"))


@dataclass(frozen=True)
class CorpusMetadata:
    """The corpus metadata file as read: each article file name's metadata, and where it is."""

    shown: str  # the file, as problems name it
    entries: dict[str, SourceMeta] = field(default_factory=dict)
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)  # line, col of a name


def read_metadata(path: Path, shown: str, problems: list[Problem]) -> CorpusMetadata:
    """Read and check the corpus metadata file, appending every problem found to ``problems``.

    An empty file (or one of comments only) holds no metadata and is fine.
    """
    try:
        doc = read_yaml(
            path,
            shown,
            problems,
            limit=SizeLimit(MAX_METADATA_BYTES, "corpus metadata files"),
            empty_ok=True,
        )
    except FileFatal as exc:
        problems.append(exc.problem)
        return CorpusMetadata(shown)
    if doc.data is None:
        return CorpusMetadata(shown)
    if not isinstance(doc.data, dict):
        problems.append(
            doc.problem(
                (),
                "the file must be a mapping of article file names to their metadata "
                f"(title:, outlet:, ...), not {kind_of(doc.data)}",
            )
        )
        return CorpusMetadata(shown)
    metadata = CorpusMetadata(shown)
    for name, entry in doc.data.items():
        problems.extend(_entry_problems(doc, name, entry))
        metadata.entries[name] = meta_from_fields(entry if isinstance(entry, dict) else {})
        metadata.positions[name] = doc.mark((name,), key=True)
    return metadata


def _entry_problems(doc: YamlDoc, name: str, entry: Any) -> Iterator[Problem]:
    """Yield the problems of one file name's entry: unknown fields and values of the wrong type."""
    if entry is None or (name,) in doc.flagged:
        return
    if not isinstance(entry, dict):
        fields_ = ", ".join(_META_FIELDS)
        yield doc.problem((name,), f"must be a mapping of {fields_} (got {describe_value(entry)})")
        return
    for key, value in entry.items():
        at = (name, key)
        if key not in _META_FIELDS:
            yield doc.problem(at, f"unknown field '{key}'{_field_hint(key)}", key=True)
        elif at in doc.flagged or value in (None, ""):
            continue  # already reported where it was read (an unquoted 7:30), or left empty
        elif key == "date":
            if normalize_date(value) is None:
                yield doc.problem(at, wrong_type(dt.date, [], value))
        elif key == "author" and isinstance(value, list):
            # Several authors may be listed; they are joined with ", ".
            for i, author in enumerate(value):
                if author is not None and not isinstance(author, str):
                    yield doc.problem((*at, i), wrong_type(str, [], author))
        elif not isinstance(value, str):
            yield doc.problem(at, wrong_type(str, [], value))


def _field_hint(key: str) -> str:
    """Suggest the field meant: a close spelling, or the name of what an alias stands for."""
    alias = _META_ALIASES.get(key.lower())
    if alias:  # articles' own fields may say `byline:`; this file uses the field names only
        return f"; did you mean '{alias}'?"
    return did_you_mean(key, _META_FIELDS, "fields")


def unused_entries(metadata: CorpusMetadata, corpus_names: set[str]) -> list[str]:
    """Return a warning line for each entry naming no file in ``corpus_names`` (at most 20).

    A warning, not a problem: articles come and go, and their metadata may stay behind.
    """
    unused = [name for name in metadata.entries if name not in corpus_names]
    warnings = []
    for name in unused[:MAX_UNUSED_SHOWN]:
        line, col = metadata.positions[name]
        message = "no file of this name in the corpus"
        if "/" in name:
            message += " (entries are keyed by the file name alone, without its folder)"
        message += "; the entry is not used"
        warnings.append(Problem(metadata.shown, line, col, (name,), message).format())
    if len(unused) > MAX_UNUSED_SHOWN:
        warnings.append(
            f"{metadata.shown}: ... and {len(unused) - MAX_UNUSED_SHOWN} more entries "
            "naming no file in the corpus"
        )
    return warnings
