"""What the rest of briefgen knows about an index: the backend-neutral Store interface.

Selection, verification, the build and the scheduler see only these protocols; each backend
(``briefgen.index.sqlite``, ``briefgen.index.postgres``) implements them and is chosen by
``index.backend`` in config.yaml through :func:`briefgen.index.backends.backend_for`.

Contracts every backend keeps (the parametrized store tests hold both to them):

- ``Store.search(query)`` returns the passages whose text contains at least one of
  ``query.any_of`` (a phrase is its tokens, consecutive, as ``Store.analyzer()`` makes them), at
  least one of ``query.require`` (when given) and none of ``query.exclude``; only documents dated
  inside ``[date_from, date_to]`` (inclusive, compared on ``YYYY-MM-DD``) when a bound is given;
  none dated after ``query.as_of`` when it is given (undated documents stay: "the corpus as it
  stood that day" cannot tell when they were written); at most ``query.limit`` hits, most relevant first, ties by passage order in the corpus.
  ``Hit.relevance`` is a non-negative number on the backend's own scale, with
  ``Store.relevance_half`` the value that the scorer maps to one half.
- ``Store.analyzer()`` tokenizes text exactly as the backend matches it, so Python-side scoring
  agrees with retrieval.
- ``snapshot_hash()`` is a sha256 over the sorted ``(doc_id, sha256)`` pairs; equal hashes,
  equal corpus, whichever backend holds it.
- A ``StoreWriter`` is used inside ``Backend.writer()``, which holds the store's update lock
  (waiting up to ``index.lock_wait_seconds`` for it, then raising ``IndexBusyError``); the
  caller owns transactions (``begin``/``commit``), and a crash at any point leaves the last
  committed state readable: a document is never half written.
- Optionally, ``Backend.unlocked_view(cfg)`` yields a read-only object with the reads of a
  ``StoreWriter`` (``setting``, ``files``, ``documents_by_source``, ``totals``) and
  ``has_corpus_facts()``, or None: the update checks with it whether the store is current, so
  builds on an up-to-date index never take (or wait for) the update lock. A backend without
  it simply always takes the lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, Self, TypeVar

from briefgen.models import Document, Passage, Source, SourceMeta

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

T = TypeVar("T")


#: The version of what a store holds per document (fields, passage rows): part of the pipeline
#: fingerprint, so a change re-reads every document whichever backend holds them.
STORE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Phrase:
    """A term to search for: as the user wrote it, and as the analyzer tokenizes it."""

    text: str
    tokens: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TopicQuery:
    """A backend-neutral search: any of the phrases, one required, none excluded, dated."""

    any_of: tuple[Phrase, ...]
    require: tuple[Phrase, ...] = ()
    exclude: tuple[Phrase, ...] = ()
    date_from: str | None = None  # YYYY-MM-DD, inclusive; undated documents are left out
    date_to: str | None = None
    limit: int = 1000
    as_of: str | None = None  # YYYY-MM-DD: documents dated after it are left out, undated ones stay


class Hit(NamedTuple):
    """One passage found by a search, with its source and relevance (higher is better)."""

    passage: Passage
    source: Source
    relevance: float


class Analyzer(Protocol):
    """Turns text into the tokens a store matches (case folded, stemmed)."""

    def stems_many(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """Return the tokens of each text, in order."""
        ...

    def stems(self, text: str) -> tuple[str, ...]:
        """Return the tokens of one text."""
        ...

    def close(self) -> None:
        """Release what the analyzer holds."""
        ...


#: (documents, documents with an ISO date, earliest date, latest date)
DateSummary = tuple[int, int, str | None, str | None]


class Store(Protocol):
    """The read side of an index."""

    location: str  # where it is, for messages (a file path, a database URL without password)
    relevance_half: float  # the relevance the scorer maps to 0.5

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def close(self) -> None:
        """Release the connection."""
        ...

    def analyzer(self) -> Analyzer:
        """Return an analyzer that tokenizes as this store matches (close it after use)."""
        ...

    def search(self, query: TopicQuery) -> list[Hit]:
        """Return the passages matching ``query``, most relevant first."""
        ...

    def source(self, doc_id: str) -> Source | None:
        """Return the indexed source with this doc_id, if any."""
        ...

    def sources(self) -> list[Source]:
        """Return every indexed source, ordered by doc_id."""
        ...

    def passages(self, doc_id: str) -> list[Passage]:
        """Return a document's passages in order (empty if it is not indexed)."""
        ...

    def passages_of(self, doc_ids: Sequence[str]) -> dict[str, list[Passage]]:
        """Return the passages of several documents, in order (absent ones are left out)."""
        ...

    def snapshot_hash(self) -> str:
        """Return a sha256 over the sorted (doc_id, sha256) pairs."""
        ...

    def date_summary(self) -> DateSummary:
        """Return (sources, sources with an ISO date, earliest date, latest date)."""
        ...

    def count_dated(self, date_from: str | None, date_to: str | None) -> int:
        """Return how many sources have an ISO date inside ``[date_from, date_to]`` (inclusive;
        ``None`` leaves that side open), compared on ``YYYY-MM-DD``."""
        ...


#: A document ready to insert, as plain tuples (worker processes build them, the writer
#: unpickles them cheaply): ``(doc_id, source_path, sha256, meta_key, title, outlet, author,
#: date, url, kind, warnings_json)`` and one ``(ordinal, start, end, section, text)`` per passage.
DocumentRows = tuple[tuple[Any, ...], list[tuple[Any, ...]]]

#: A file record: (size, mtime_ns, sha256, warnings)
FileRecord = tuple[int, int, str, list[str]]


def passage_from_row(row: Sequence[Any], i: int) -> Passage:
    """Return the Passage in a store's row at column ``i``: doc_id, ordinal, start, end, text,
    section (the column order both backends select)."""
    return Passage(doc_id=row[i], ordinal=row[i + 1], start=row[i + 2], end=row[i + 3],
                   text=row[i + 4], section=row[i + 5])


def source_from_row(row: Sequence[Any], i: int) -> Source:
    """Return the Source in a store's row at column ``i``: doc_id, source_path, sha256, the six
    metadata fields of ``meta_values`` and the warnings as stored (``warnings_json``)."""
    return Source(
        doc_id=row[i],
        source_path=row[i + 1],
        sha256=row[i + 2],
        meta=SourceMeta(*row[i + 3 : i + 9]),
        warnings=() if row[i + 9] == "[]" else tuple(json.loads(row[i + 9])),
    )


def meta_values(meta: SourceMeta) -> tuple[str | None, ...]:
    """Return the metadata fields of a source in ``DocumentRows`` order."""
    return (meta.title, meta.outlet, meta.author, meta.date, meta.url, meta.kind)


def warnings_json(warnings: Sequence[str]) -> str:
    """Return warnings as stored: a JSON list."""
    return json.dumps(list(warnings), ensure_ascii=False) if warnings else "[]"


def document_rows(doc: Document, meta_key: str) -> DocumentRows:
    """Return a document as the rows ``StoreWriter.add_rows`` inserts."""
    src = doc.source
    values = (src.doc_id, src.source_path, src.sha256, meta_key, *meta_values(src.meta),
              warnings_json(src.warnings))
    return values, [(p.ordinal, p.start, p.end, p.section, p.text) for p in doc.passages]


class StoreWriter(Protocol):
    """The write side of a store: documents, passages and file records, in transactions."""

    def begin(self) -> None:
        """Start a write transaction."""
        ...

    def commit(self) -> None:
        """Commit the current transaction."""
        ...

    def rollback(self) -> None:
        """Abandon the current transaction, if any."""
        ...

    def setting(self, key: str) -> str | None:
        """Return a stored setting (e.g. the pipeline fingerprint)."""
        ...

    def set_setting(self, key: str, value: str) -> None:
        """Store a setting."""
        ...

    def clear(self) -> None:
        """Delete every document, passage and file record."""
        ...

    def files(self) -> dict[str, FileRecord]:
        """Return every file record: path → (size, mtime_ns, sha256, warnings)."""
        ...

    def set_file(self, path: str, size: int, mtime_ns: int, sha256: str, warnings: Sequence[str]) -> None:
        """Record that ``path`` is indexed as of this size, mtime and content hash."""
        ...

    def delete_file(self, path: str) -> int:
        """Forget a file and its documents; return how many documents went."""
        ...

    def documents_by_source(self, *, with_doc_ids: bool) -> dict[str, tuple[int, str | None]]:
        """Return source_path → (documents, smallest doc_id if asked for, else None)."""
        ...

    def has_documents(self) -> bool:
        """Say whether any document is indexed."""
        ...

    def documents_of(self, source_path: str) -> dict[str, tuple[int, str, str]]:
        """Return the documents read from a file: doc_id → (row id, sha256, meta key)."""
        ...

    def document_owner(self, doc_id: str) -> str | None:
        """Return the source_path a doc_id is indexed from, if it is indexed."""
        ...

    def document_row(self, doc_id: str) -> int:
        """Return the row id of an indexed doc_id."""
        ...

    def delete_documents(self, ids: Iterable[int]) -> None:
        """Delete documents (by row id) with their passages."""
        ...

    def add_rows(self, docs: Sequence[DocumentRows]) -> int:
        """Insert documents; return the passages written."""
        ...

    def totals(self) -> tuple[int, int]:
        """Return (documents, passages) in the store."""
        ...

    def store_corpus_facts(self) -> None:
        """Compute and keep the snapshot hash and date summary (call with no transaction open)."""
        ...


class Backend(Protocol):
    """A kind of store: how to open it for reading and for an update."""

    name: str

    def open_store(self, cfg: LoadedConfig) -> Store:
        """Open the configured index for queries; raise IndexStoreError if there is none."""
        ...

    def writer(self, cfg: LoadedConfig, notes: list[str]) -> AbstractContextManager[StoreWriter]:
        """Hold the update lock and yield a writer (creating or rebuilding the store)."""
        ...

    def describe(self, cfg: LoadedConfig) -> str:
        """Return where the configured index is, for summaries and messages."""
        ...

    def parallel_selection(self, cfg: LoadedConfig) -> bool:
        """Say whether selecting topics in forked processes pays off (without opening it)."""
        ...


def chunks_of(items: list[T], size: int) -> Iterator[list[T]]:
    """Yield ``items`` in lists of at most ``size``."""
    for i in range(0, len(items), size):
        yield items[i : i + size]
