"""Units of reading work for the indexer, and the worker processes that do them.

A unit is one whole file (``.txt``/``.md``/``.html``) or a chunk of lines of a JSONL file.
Workers decode, clean and split units into documents; the main process only writes them to
SQLite. Units are submitted with a bounded window, so memory stays flat however large the
corpus (``Pool.imap`` would read the whole input ahead).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import multiprocessing
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from briefgen.models import Document

if TYPE_CHECKING:
    from briefgen.config import LoadedConfig
    from briefgen.indexer import CorpusFile

#: A JSONL file is handed to the workers in chunks of about this many bytes of lines.
JSONL_CHUNK_BYTES = 1_000_000
#: How many units may be in flight at once (bounds memory: a chunk is about 1 MB).
IN_FLIGHT = 8


@dataclass(frozen=True, slots=True)
class Unit:
    """One piece of reading work."""

    file_index: int  # position of the file in the list being read
    path: str
    rel: str  # the source_path of its documents
    done_bytes: int  # input bytes consumed once this unit is done (drives the progress bar)
    last: bool  # the file's last unit: its documents are complete after this one
    lines: tuple[bytes, ...] = ()  # a JSONL chunk; empty for a whole file
    first_line: int = 0  # 1-based line number of lines[0]
    sha256: str | None = None  # a JSONL file's sha256, known once its last chunk is read
    jsonl: bool = False
    warning: str | None = None  # a problem found while cutting the unit (size cap, bad gzip)
    skip: bool = False  # nothing to read: only the warning


@dataclass
class UnitResult:
    """What a worker made of a unit."""

    documents: list[Document] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""  # of the file's bytes (set on a file's last unit)


class _HashingReader:
    """Wrap a binary file for GzipFile: hash every byte read and count them (progress bar)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        self.count += len(data)
        return data


def iter_units(files: Sequence[CorpusFile], max_bytes: float) -> Iterator[Unit]:
    """Yield the reading work for ``files`` in order; JSONL files are streamed in chunks."""
    done = 0
    for i, f in enumerate(files):
        path, rel = str(f.path), f.rel
        if f.size > max_bytes:
            done += f.size
            reason = (
                f"{rel}: {f.size / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB size cap "
                "(corpus.max_file_mb); skipped"
            )
            yield Unit(i, path, rel, done, True, warning=reason, skip=True)
        elif f.is_jsonl:
            yield from _jsonl_units(i, f.path, rel, done)
            done += f.size
        else:
            done += f.size
            yield Unit(i, path, rel, done, True)


def _jsonl_units(index: int, path: Path, rel: str, base: int) -> Iterator[Unit]:
    """Stream a JSONL file (gzip or not) as chunks of whole lines, hashing the bytes read."""
    chunk: list[bytes] = []
    size, first, line_no = 0, 1, 0
    with open(path, "rb") as raw:
        reader = _HashingReader(raw)
        lines: Any = gzip.GzipFile(fileobj=reader, mode="rb") if path.name.endswith(".gz") else None
        try:
            for line in lines if lines is not None else raw:
                if lines is None:
                    reader.digest.update(line)
                    reader.count += len(line)
                line_no += 1
                chunk.append(line)
                size += len(line)
                if size >= JSONL_CHUNK_BYTES:
                    yield Unit(index, str(path), rel, base + reader.count, False,
                               lines=tuple(chunk), first_line=first, jsonl=True)
                    chunk, size, first = [], 0, line_no + 1
            warning = None
        except (OSError, EOFError, zlib.error) as exc:  # a truncated or corrupt .gz
            warning = f"{rel}:{line_no + 1}: cannot decompress ({exc}); the rest of the file is skipped"
            reader.digest.update(raw.read())  # the hash is of the whole file, as on disk
    yield Unit(index, str(path), rel, base + reader.count, True, lines=tuple(chunk),
               first_line=first, jsonl=True, sha256=reader.digest.hexdigest(), warning=warning)


# --- the worker side ------------------------------------------------------------------------

_CFG: LoadedConfig | None = None


def init_worker(cfg: LoadedConfig) -> None:
    """Give a worker process the configuration (once, not with every unit)."""
    global _CFG
    _CFG = cfg


def read_unit(unit: Unit) -> UnitResult:
    """Decode, clean and split one unit into documents (texts dropped: they are not stored)."""
    assert _CFG is not None, "init_worker() was not called"
    result = UnitResult(sha256=unit.sha256 or "")
    if unit.warning is not None:
        result.warnings.append(unit.warning)
    if unit.skip:
        return result  # not hashed either: the cap is checked before reading
    warn = result.warnings.append
    if unit.jsonl:
        from briefgen.corpus import documents_from_jsonl_lines

        docs: Any = documents_from_jsonl_lines(
            unit.lines, Path(unit.path), _CFG, first_line=unit.first_line, warn=warn
        )
    else:
        from briefgen.corpus import read_path

        path = Path(unit.path)
        docs = read_path(path, _CFG, warn=warn)
        try:
            result.sha256 = _file_sha256(path)
        except OSError as exc:
            warn(f"{unit.rel}: cannot read ({exc.strerror}); skipped")
    # The source text is only needed to cut passages; dropping it halves what is pickled.
    result.documents = [replace(doc, text="") for doc in docs]
    return result


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- running units ---------------------------------------------------------------------------

Mapper = Callable[[Iterator[Unit]], Iterator[tuple[Unit, UnitResult]]]


@contextlib.contextmanager
def worker_pool(cfg: LoadedConfig, *, parallel: bool) -> Iterator[Mapper]:
    """Yield a function that runs units, in order, in worker processes or (small runs) inline."""
    if not parallel:
        init_worker(cfg)
        yield lambda units: ((u, read_unit(u)) for u in units)
        return
    # fork: workers start in milliseconds and inherit the imported modules.
    ctx = multiprocessing.get_context("fork")
    processes = max(1, min(2, (multiprocessing.cpu_count() or 2)))
    pool = ctx.Pool(processes, initializer=init_worker, initargs=(cfg,))
    try:
        yield lambda units: _bounded_map(pool, units)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _bounded_map(pool: Any, units: Iterator[Unit]) -> Iterator[tuple[Unit, UnitResult]]:
    """Run units in the pool, yielding results in order with at most IN_FLIGHT outstanding."""
    pending: deque[tuple[Unit, Any]] = deque()
    for unit in units:
        pending.append((unit, pool.apply_async(read_unit, (unit,))))
        if len(pending) >= IN_FLIGHT:
            done, job = pending.popleft()
            yield done, job.get()
    while pending:
        done, job = pending.popleft()
        yield done, job.get()
