"""Reading work for the indexer, run in worker processes while the main process writes SQLite.

The main process only reads raw bytes (whole one-document files are read by the workers;
a JSONL file is cut into blocks of whole lines, ``jsonl_lines.jsonl_chunks``) and writes. The
per-article work — decoding, JSON parsing, metadata, sha256 and, for every article that is
new or changed, cleaning and passage splitting — runs here, on units of work submitted in
corpus order through a bounded window, so memory stays flat however large the corpus.

Workers compare each article with what the index held when the run began (``ReadContext.known``)
and clean only new or changed ones; the main process makes the final decision (duplicate ids,
ids owned by another file) from the same facts, so it never needs a document that was not made.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from briefgen._fs import sha256_file
from briefgen.corpus import files as corpus
from briefgen.corpus.jsonl import JsonlCapReached, JsonlChunk, jsonl_chunks
from briefgen.index.base import DocumentRows, document_rows
from briefgen.index.summary import PART_MAX_WARNINGS
from briefgen.models import SourceMeta

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig
    from briefgen.corpus.files import RawArticle

#: One-document files are grouped into units of about this many bytes.
UNIT_BYTES = 1_000_000
#: How many units may be in flight at once (bounds memory to a few MB each).
IN_FLIGHT = 8


def meta_key(article: RawArticle) -> str:
    """Return a short key of what, besides the text, shapes an article's document."""
    meta = article.meta
    raw = "\x1f".join(
        v or "" for v in (meta.title, meta.outlet, meta.author, meta.date, meta.url, meta.kind, article.fmt)
    )
    return hashlib.blake2b(raw.encode("utf-8"), digest_size=12).hexdigest()


@dataclass(frozen=True)
class ReadContext:
    """What every worker needs to know, given once when the pool starts."""

    cfg: LoadedConfig
    #: source_path → doc_id → (sha256, meta key) of the documents indexed when the run began
    known: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)


class Record(NamedTuple):
    """An article as a worker read it: what the writer decides on, and its rows if cleaned."""

    doc_id: str
    sha256: str
    meta_key: str
    where: str  # "path:line" (JSONL) or "path", to name it in a warning
    rows: DocumentRows | None  # None: indexed unchanged (not cleaned), or cleaning failed
    chars: int = 0  # characters of passage text (to size the write batches)
    error: str = ""  # the warning, if cleaning failed


class TextFieldMissing(NamedTuple):
    """A record without the text field (reported once per file, so kept apart from warnings)."""

    where: str  # "path:line"
    field: str
    present: tuple[str, ...]  # the record's fields


#: What reading yields, in corpus order: an article, a skip warning, or a record without text.
Item = Record | str | TextFieldMissing


@dataclass
class Part:
    """One file's share of a unit: a block of JSONL lines, or a whole one-document file."""

    file_index: int
    source_path: str
    path: Path
    doc_id: str | None = None  # one-document files
    chunk: JsonlChunk | None = None  # JSONL files
    stem: str = ""  # JSONL: the doc_id prefix of records without an id
    file_meta: SourceMeta = field(default_factory=SourceMeta)  # JSONL: from corpus.metadata
    last: bool = False  # the file ends with this part
    sha256: str = ""  # JSONL, last part: of the file's bytes
    notes: list[str] = field(default_factory=list)  # the reader's own warnings, after the part's


@dataclass
class PartResult:
    """The items a worker read from a part (and, for a one-document file, its bytes' sha256)."""

    items: list[Item] = field(default_factory=list)
    sha256: str = ""
    warnings: int = 0  # skip warnings among ``items``
    hidden: int = 0  # skip warnings past PART_MAX_WARNINGS: counted, not sent
    without_text: int = 0  # records without the text field after the first: counted, not sent

    def skip(self, message: str) -> None:
        """Add a skip warning (or only count it, past ``PART_MAX_WARNINGS`` of them)."""
        if self.warnings >= PART_MAX_WARNINGS:
            self.hidden += 1
        else:
            self.warnings += 1
            self.items.append(message)


@dataclass
class Unit:
    """Parts read by one worker task, in corpus order."""

    parts: list[Part]
    done_bytes: int  # input bytes consumed once this unit is written (the progress bar)

    def needs_worker(self) -> bool:
        return any(p.chunk is None or p.chunk.data is not None for p in self.parts)


_context: ReadContext | None = None  # set in each worker by the pool initializer


def _init_worker(ctx: ReadContext) -> None:
    global _context
    _context = ctx


def read_unit(parts: list[Part], ctx: ReadContext | None = None) -> list[PartResult]:
    """Read, check and clean the articles of a unit's parts."""
    ctx = ctx or _context
    assert ctx is not None, "read_unit runs in a worker started by worker_pool"
    return [_read_part(part, ctx) for part in parts]


def _read_part(part: Part, ctx: ReadContext) -> PartResult:
    result = PartResult()
    known = ctx.known.get(part.source_path, {})
    if part.chunk is None:  # a one-document file
        for article in corpus.read_raw(part.path, ctx.cfg, warn=result.skip, doc_id=part.doc_id):
            result.sha256 = article.sha256  # of the file's bytes
            result.items.append(_record(article, article.source_path, known))
        return result
    cap_mb = ctx.cfg.config.corpus.max_file_mb
    fields = corpus.field_map(ctx.cfg.config.corpus.fields)
    sent_missing = False
    for number, line in part.chunk.lines():
        where = f"{part.source_path}:{number}"
        try:
            record = corpus.jsonl_article(
                line, number, source_path=part.source_path, stem=part.stem,
                file_meta=part.file_meta, cap_mb=cap_mb, fields=fields,
            )
        except corpus.MissingTextField as exc:
            if sent_missing:
                result.without_text += 1  # only a file's first one is reported: count the rest
            else:
                result.items.append(TextFieldMissing(where, exc.field, exc.present))
                sent_missing = True
            continue
        except corpus.SkippedInput as exc:
            result.skip(f"{where}: {exc}")
            continue
        if record is not None:
            result.items.append(_record(record, where, known))
    return result


def _record(article: RawArticle, where: str, known: dict[str, tuple[str, str]]) -> Record:
    """Describe an article, cleaning it unless the index already holds it as it is."""
    key = meta_key(article)
    if known.get(article.doc_id) == (article.sha256, key):
        return Record(article.doc_id, article.sha256, key, where, None)
    try:
        doc = article.to_document()
    except Exception as exc:  # noqa: BLE001 — a cleaning bug must cost one article, not the whole run
        error = f"{article.source_path}: {article.doc_id}: cannot be cleaned ({exc!r}); skipped"
        return Record(article.doc_id, article.sha256, key, where, None, error=error)
    # Only the rows go back: not the source text (it is not stored), nor objects slow to unpickle.
    rows = document_rows(doc, key)
    return Record(article.doc_id, article.sha256, key, where, rows, sum(len(p[4]) for p in rows[1]))


Mapper = Callable[[Iterator[Unit]], Iterator[tuple[Unit, list[PartResult]]]]


@contextlib.contextmanager
def worker_pool(ctx: ReadContext, *, parallel: bool) -> Iterator[Mapper]:
    """Yield a function that reads units in order: in worker processes, or inline for small runs."""
    if not parallel:
        yield lambda units: ((u, read_unit(u.parts, ctx) if u.needs_worker() else _empty(u)) for u in units)
        return
    # fork: workers start in milliseconds with every module already imported, and inherit
    # ``ctx`` without pickling it. Two workers keep both cores busy.
    mp = multiprocessing.get_context("fork")
    pool = mp.Pool(max(2, min(4, multiprocessing.cpu_count())), initializer=_init_worker, initargs=(ctx,))
    try:
        yield lambda units: _bounded_map(pool, units)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _empty(unit: Unit) -> list[PartResult]:
    return [PartResult() for _ in unit.parts]


def _bounded_map(pool: Any, units: Iterator[Unit]) -> Iterator[tuple[Unit, list[PartResult]]]:
    """Read units in the pool, yielding results in order with at most IN_FLIGHT outstanding."""
    pending: deque[tuple[Unit, Any]] = deque()
    for unit in units:
        job = pool.apply_async(read_unit, (unit.parts,)) if unit.needs_worker() else None
        pending.append((unit, job))
        while len(pending) >= IN_FLIGHT or (pending and _ready(pending[0][1])):
            done, first = pending.popleft()
            yield done, first.get() if first is not None else _empty(done)
    while pending:
        done, first = pending.popleft()
        yield done, first.get() if first is not None else _empty(done)


def _ready(job: Any) -> bool:
    return job is None or bool(job.ready())


def jsonl_units(cfg: LoadedConfig, i: int, rel: str, path: Path, size: int, base: int) -> Iterator[Unit]:
    """Cut the JSONL file ``path`` (file index ``i``) into units of whole-line blocks, in order.

    Only bytes are read here (the workers parse them); the last unit carries the file's sha256
    and why reading stopped early, if it did (a cap, a damaged gzip).
    """
    settings = cfg.config.corpus
    stem, file_meta = corpus.file_stem(path), corpus.file_meta(path, cfg)
    digest = hashlib.sha256()
    notes = []
    try:
        for chunk in jsonl_chunks(path, corpus.record_cap(settings.max_file_mb), digest=digest,
                                  max_lines=settings.max_records,
                                  max_unpacked=int(settings.max_decompressed_mb * 1024 * 1024)):
            part = Part(i, rel, path, chunk=chunk, stem=stem, file_meta=file_meta)
            if chunk.data is None:
                part.notes.append(f"{rel}:{chunk.first_line}: {corpus.over_cap_reason(settings.max_file_mb)}")
            yield Unit([part], base + min(chunk.consumed, size - 1))
        sha = digest.hexdigest()
    except JsonlCapReached as exc:
        notes.append(f"{rel}:{exc.line}: {exc}")
        sha = _sha_or_empty(path)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        notes.append(f"{rel}: cannot read the file ({exc}); stopped there")
        sha = _sha_or_empty(path)
    end = JsonlChunk(0, b"", size)
    yield Unit([Part(i, rel, path, chunk=end, last=True, sha256=sha, notes=notes)], base + size)


def _sha_or_empty(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return ""  # unreadable now: the next run compares against nothing and re-reads it
