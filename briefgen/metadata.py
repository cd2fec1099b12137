"""Article metadata: field names and aliases, date normalization, merging, the corpus metadata file."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from briefgen.errors import CorpusError
from briefgen.models import SourceMeta

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


_NO_META = SourceMeta()



_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_WEEKDAY = re.compile(r"^[A-Za-z]{3,9},?\s+(?=[A-Za-z]{3}|\d)")
_CLOCK = re.compile(r"\s+\d{1,2}:\d{2}")
_NAMED_DATE_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%d %B %Y", "%d %b %Y", "%b %d %Y", "%B %d %Y")


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


def load_metadata(path: Path) -> dict[str, SourceMeta]:
    """Read the corpus metadata file (YAML mapping: file name → title, outlet, ...).

    A missing file means no metadata; a broken one raises CorpusError naming file and line.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    return _load_metadata_cached(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_metadata_cached(path_str: str, _mtime_ns: int, _size: int) -> dict[str, SourceMeta]:
    path = Path(path_str)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise CorpusError(f"{where}: invalid YAML ({exc.problem}); fix the metadata file") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CorpusError(f"{path}: cannot read the metadata file ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: must be a mapping of file name → metadata (title, outlet, ...)")
    out = {}
    for name, entry in data.items():
        if entry is None:
            entry = {}
        if not isinstance(entry, dict):
            raise CorpusError(f"{path}: {name}: must be a mapping of {', '.join(_META_FIELDS)}")
        unknown = sorted(set(map(str, entry)) - set(_META_FIELDS))
        if unknown:
            raise CorpusError(
                f"{path}: {name}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(_META_FIELDS)}"
            )
        out[str(name)] = meta_from_fields(entry)
    return out
