"""Cleaning work for the indexer, run in worker processes while the main process writes SQLite.

The main process reads and decodes articles (``corpus.read_raw``: cheap, and it must compare
hashes before deciding what to clean); the expensive part, ``make_document`` (cleaning and
passage splitting), runs here on batches of articles. Batches are submitted through a bounded
window, so memory stays flat however large the corpus (``Pool.imap`` would read ahead without
limit).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import struct
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.models import Document

if TYPE_CHECKING:
    from briefgen.corpus import RawArticle

#: A batch of articles for a worker holds about this many characters of text.
UNIT_CHARS = 1_000_000
#: How many batches may be in flight at once (bounds memory to a few MB each).
IN_FLIGHT = 8


@dataclass
class Unit:
    """A batch of articles to clean, in corpus order; ``last`` closes the file it belongs to."""

    file_index: int
    articles: list[RawArticle] = field(default_factory=list)
    replaces: list[int] = field(default_factory=list)  # documents.id rows these articles replace
    meta_keys: dict[str, str] = field(default_factory=dict)  # doc_id → key of its metadata
    done_bytes: int = 0  # input bytes consumed once this unit is written (the progress bar)
    last: bool = False


@dataclass
class UnitResult:
    """The documents a worker made of a unit (their texts dropped: only passages are stored)."""

    documents: list[Document] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def clean_unit(articles: list[RawArticle]) -> UnitResult:
    """Clean and split a batch of decoded articles into documents."""
    result = UnitResult()
    for article in articles:
        try:
            doc = article.to_document()
        except Exception as exc:  # noqa: BLE001 — a cleaning bug must cost one article, not the whole run
            result.warnings.append(
                f"{article.source_path}: {article.doc_id}: cannot be cleaned ({exc!r}); skipped"
            )
            continue
        # The source text is only needed to cut passages; dropping it halves what is pickled.
        result.documents.append(replace(doc, text=""))
    return result


def uncompressed_size(path: Path, size: int) -> int:
    """Estimate how many bytes a (possibly gzipped) JSONL file holds once decompressed."""
    if not path.name.endswith(".gz") or size < 18:
        return size
    try:
        with open(path, "rb") as fh:
            fh.seek(-4, 2)
            isize = int(struct.unpack("<I", fh.read(4))[0])
    except OSError:
        return size * 3
    # ISIZE is the size modulo 4 GiB: add the wraps a typical text compression ratio implies.
    while isize < size:
        isize += 1 << 32
    return isize


def record_bytes(article: RawArticle) -> int:
    """Estimate the bytes of the JSONL line an article came from (for the progress bar)."""
    meta = article.meta
    extra = sum(len(v) for v in (meta.title, meta.author, meta.url, meta.outlet) if v)
    return len(article.text) + extra + len(article.doc_id) + 120


Mapper = Callable[[Iterator[Unit]], Iterator[tuple[Unit, UnitResult]]]


@contextlib.contextmanager
def worker_pool(*, parallel: bool) -> Iterator[Mapper]:
    """Yield a function that cleans units in order: in worker processes, or inline for small runs."""
    if not parallel:
        yield lambda units: ((u, clean_unit(u.articles)) for u in units)
        return
    # fork: workers start in milliseconds with every module already imported. Two workers
    # keep both cores busy: cleaning costs far more than the writes this process does.
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(max(2, min(4, multiprocessing.cpu_count())))
    try:
        yield lambda units: _bounded_map(pool, units)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _bounded_map(pool: Any, units: Iterator[Unit]) -> Iterator[tuple[Unit, UnitResult]]:
    """Clean units in the pool, yielding results in order with at most IN_FLIGHT outstanding."""
    pending: deque[tuple[Unit, Any]] = deque()
    for unit in units:
        job = pool.apply_async(clean_unit, (unit.articles,)) if unit.articles else None
        pending.append((unit, job))
        while len(pending) >= IN_FLIGHT or (pending and _ready(pending[0][1])):
            done, first = pending.popleft()
            yield done, first.get() if first is not None else UnitResult()
    while pending:
        done, first = pending.popleft()
        yield done, first.get() if first is not None else UnitResult()


def _ready(job: Any) -> bool:
    return job is None or bool(job.ready())
