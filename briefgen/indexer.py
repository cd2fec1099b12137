"""Bring the index up to date with the corpus, incrementally and crash-safely.

A file whose size and mtime are as recorded is not opened; if they differ, the sha256 of
its bytes decides. Changed files are re-read (a JSONL file record by record: a record with
the same doc_id and sha256 is not rewritten), deleted files are removed. Writes go in
batches, one transaction each; a file's record in ``files`` is written in the transaction
that holds its last documents, so after a crash (even ``kill -9``) the index is consistent
and the next run picks up the unfinished files again.

Large runs parse and clean in worker processes while this process writes to SQLite.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import multiprocessing
import os
import sqlite3
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from briefgen import __version__
from briefgen.errors import CorpusError, IndexError_
from briefgen.index import (
    SCHEMA_VERSION,
    IndexWriter,
    connect,
    create_schema,
    index_error,
    index_path,
    meta_values,
    schema_version,
)
from briefgen.models import Document, Source
from briefgen.readunits import iter_units, worker_pool

if TYPE_CHECKING:
    from briefgen.config import LoadedConfig

#: Commit after this many documents or this many characters of passage text, whichever
#: comes first: large enough that FTS5 merges few segments, small enough that a crash loses
#: little and memory stays bounded.
BATCH_DOCS = 5000
BATCH_CHARS = 24_000_000
#: Below this many bytes to read, worker processes cost more than they save.
PARALLEL_MIN_BYTES = 8_000_000
SUMMARY_MAX_SKIPPED = 10


def _ignore(message: str) -> None:
    """Drop a warning (the library default when the caller passes no ``warn``)."""


@dataclass
class IndexSummary:
    """What one ``update_index`` run did."""

    path: Path
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)  # one "file[:line]: reason" per skip
    passages: int = 0  # passages written in this run
    documents_total: int = 0
    passages_total: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # e.g. "index rebuilt: schema changed"

    def format(self) -> str:
        """Return the end-of-run summary, a few short lines."""
        lines = [f"note: {note}" for note in self.notes]
        lines.append(
            f"documents: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.skipped)} skipped"
        )
        rate = f", {self.passages / self.seconds:,.0f}/s" if self.passages and self.seconds else ""
        lines.append(
            f"passages: {self.passages:,} written{rate}; index holds {self.documents_total:,} "
            f"documents, {self.passages_total:,} passages"
        )
        lines.append(f"index: {self.path} updated in {self.seconds:.1f} s")
        if self.skipped:
            lines.append("skipped:")
            lines += [f"  {reason}" for reason in self.skipped[:SUMMARY_MAX_SKIPPED]]
            if len(self.skipped) > SUMMARY_MAX_SKIPPED:
                lines.append(f"  … and {len(self.skipped) - SUMMARY_MAX_SKIPPED} more")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class CorpusFile:
    """A corpus file as found on disk: where it is and its stat fingerprint."""

    rel: str  # the source_path: relative to the project root, POSIX separators
    path: Path
    size: int
    mtime_ns: int

    @property
    def is_jsonl(self) -> bool:
        """Return True for a .jsonl or .jsonl.gz file (many documents, one a line)."""
        return self.path.name.endswith((".jsonl", ".jsonl.gz"))


def corpus_files(cfg: LoadedConfig) -> list[CorpusFile]:
    """List the corpus files (one stat each), sorted; raise CorpusError if the corpus is missing."""
    settings = cfg.config.corpus
    root = cfg.resolve(settings.path)
    if not root.exists():
        raise CorpusError(
            f"{root}: the corpus folder does not exist; create it or set corpus.path in "
            f"{cfg.path.name}"
        )
    if root.is_file():
        candidates: Iterable[Path] = [root]
    else:
        candidates = _walk(root, settings.include)
    out = []
    for path in candidates:
        try:
            st = path.stat()
        except OSError:
            continue  # vanished between listing and stat: it is simply not in the corpus
        out.append(CorpusFile(_rel(path, cfg.root), path, st.st_size, st.st_mtime_ns))
    out.sort(key=lambda f: f.rel)
    return out


def _walk(root: Path, include: list[str]) -> Iterator[Path]:
    """Yield files under ``root`` whose names match ``include``; hidden folders are skipped."""
    for folder, dirs, names in os.walk(root):
        # .briefgen (the index itself), .git and the like are never articles.
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if not name.startswith(".") and any(fnmatch(name, pat) for pat in include):
                yield Path(folder, name)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()  # a corpus outside the project: keep it absolute


def file_sha256(path: Path) -> str:
    """Return the sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fingerprint(cfg: LoadedConfig) -> str:
    """Return what, besides the files themselves, decides the index content."""
    settings = cfg.config.corpus
    metadata_sha = None
    if settings.metadata:
        meta_path = cfg.resolve(settings.metadata)
        if meta_path.is_file():
            metadata_sha = file_sha256(meta_path)
    return json.dumps(
        {
            "briefgen": __version__,
            "schema": SCHEMA_VERSION,
            "corpus": settings.path,
            "include": settings.include,
            "max_file_mb": settings.max_file_mb,
            "metadata": metadata_sha,
        },
        sort_keys=True,
    )


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold a lock file beside the index so that two updates never interleave their batches."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path.with_name(path.name + ".lock"), "a+b")
    except OSError as exc:
        raise index_error(path, exc) from exc
    try:
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not POSIX: SQLite's own locking still keeps the data safe
            pass
        except OSError as exc:
            raise IndexError_(
                f"{path}: another `briefgen index` is updating this index; try again when it "
                "has finished"
            ) from exc
        yield
    finally:
        fh.close()


def _open_for_update(path: Path, notes: list[str]) -> sqlite3.Connection:
    """Open (creating or rebuilding as needed) the index database for writing."""
    existed = path.exists()
    con = connect(path)
    try:
        version = schema_version(con)
    except sqlite3.DatabaseError as exc:
        version = -1
        notes.append(f"{path} was not a readable index ({exc}); rebuilt it from scratch")
    if existed and version not in (0, SCHEMA_VERSION):
        if version != -1:
            notes.append(
                f"{path} had schema version {version} (this briefgen uses {SCHEMA_VERSION}); "
                "rebuilt it from scratch"
            )
        con.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{path}{suffix}")
        con = connect(path)
        version = 0
    try:
        if version == 0:
            create_schema(con)
        # A larger page cache lets FTS5 merge its segments with fewer page reads (~200 MB cap).
        con.execute("PRAGMA cache_size=-200000")
    except sqlite3.Error as exc:
        con.close()
        raise index_error(path, exc) from exc
    return con


def update_index(
    cfg: LoadedConfig, *, progress: bool = True, warn: Callable[[str], None] = _ignore
) -> IndexSummary:
    """Bring the index up to date with the corpus; return what changed.

    Bad input is skipped with one ``warn`` line each and listed in ``summary.skipped``.
    """
    started = time.perf_counter()
    files = corpus_files(cfg)
    path = index_path(cfg)
    summary = IndexSummary(path=path)
    with _exclusive(path):
        con = _open_for_update(path, summary.notes)
        try:
            _Updater(cfg, con, summary, progress=progress, warn=warn).run(files)
            summary.documents_total, summary.passages_total = _totals(con)
        except sqlite3.Error as exc:
            raise index_error(path, exc) from exc
        finally:
            con.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _totals(con: sqlite3.Connection) -> tuple[int, int]:
    row = con.execute("SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM passages)").fetchone()
    return int(row[0]), int(row[1])


class _Updater:
    """One update run: plan from the stat fingerprints, then read and write in batches."""

    def __init__(
        self,
        cfg: LoadedConfig,
        con: sqlite3.Connection,
        summary: IndexSummary,
        *,
        progress: bool,
        warn: Callable[[str], None],
    ) -> None:
        self.cfg = cfg
        self.writer = IndexWriter(con)
        self.summary = summary
        self.progress = progress
        self._warn = warn
        self._bar: Any = None
        self._batch_docs: list[Document] = []
        self._batch_delete: list[int] = []
        self._batch_chars = 0
        self._claimed: set[str] = set()  # doc_ids written or kept in this run
        self._pending_files: set[str] = set()  # files still to be re-read in this run
        self._fresh = False  # the index held no documents when reading began

    def warn(self, message: str) -> None:
        """Report a skipped item: count it and pass it on (above the progress bar, if any)."""
        self.summary.skipped.append(message)
        if self._bar is not None:
            from tqdm import tqdm

            with tqdm.external_write_mode(file=sys.stderr):
                self._warn(message)
        else:
            self._warn(message)

    def run(self, files: list[CorpusFile]) -> None:
        """Update the index to match ``files``."""
        w = self.writer
        fingerprint = _fingerprint(self.cfg)
        force = w.setting("fingerprint") != fingerprint
        known = w.files()
        on_disk = {f.rel for f in files}
        to_read: list[CorpusFile] = []
        unchanged: list[str] = []
        for f in files:
            old = known.get(f.rel)
            if old is None or force:
                to_read.append(f)
            elif (old[0], old[1]) == (f.size, f.mtime_ns):
                unchanged.append(f.rel)
            elif old[0] == f.size and file_sha256(f.path) == old[2]:
                # Touched but not changed: remember the new mtime so the next run skips the hash.
                unchanged.append(f.rel)
                w.set_file(f.rel, f.size, f.mtime_ns, old[2], old[3])
            else:
                to_read.append(f)
        for rel in unchanged:
            for message in known[rel][3]:
                self.warn(message)  # still there: --strict must still see it
        gone = [rel for rel in known if rel not in on_disk]

        w.begin()
        for rel in gone:
            self.summary.removed += w.delete_file(rel)
        if force:
            w.set_setting("fingerprint", fingerprint)
        w.commit()

        self.summary.unchanged += self._count_documents(unchanged)
        self._fresh = w.con.execute("SELECT NOT EXISTS (SELECT 1 FROM documents)").fetchone()[0] == 1
        if to_read:
            self._read_and_write(to_read, force=force)

    def _count_documents(self, rels: list[str]) -> int:
        if not rels:
            return 0
        wanted = set(rels)
        return sum(
            n for rel, n in self.writer.con.execute(
                "SELECT source_path, COUNT(*) FROM documents GROUP BY source_path"
            ) if rel in wanted
        )

    def _read_and_write(self, to_read: list[CorpusFile], *, force: bool) -> None:
        from tqdm import tqdm

        total = sum(f.size for f in to_read)
        self._pending_files = {f.rel for f in to_read}
        bar_disabled = None if self.progress else True  # None: tqdm shows it only on a TTY
        with tqdm(
            total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="indexing",
            disable=bar_disabled, delay=1.0, file=sys.stderr, mininterval=0.5, smoothing=0.1,
        ) as bar:
            self._bar = bar if not bar.disable else None
            max_bytes = self.cfg.config.corpus.max_file_mb * 1e6
            with worker_pool(self.cfg, parallel=total >= PARALLEL_MIN_BYTES) as mapper:
                done_bytes = 0
                current: _FileState | None = None
                self.writer.begin()
                try:
                    for unit, result in mapper(iter_units(to_read, max_bytes)):
                        f = to_read[unit.file_index]
                        if current is None or current.file is not f:
                            current = _FileState(f, self.writer.documents_of(f.rel), force)
                        for message in result.warnings:
                            current.warnings.append(message)
                            self.warn(message)
                        for doc in result.documents:
                            self._take(current, doc)
                        bar.update(unit.done_bytes - done_bytes)
                        done_bytes = unit.done_bytes
                        if self._batch_full():
                            self._flush(commit=True)
                        if unit.last:
                            self._finish_file(current, result.sha256)
                            current = None
                    self._flush(commit=True)
                except BaseException:
                    self.writer.rollback()
                    raise
            self._bar = None

    def _take(self, state: _FileState, doc: Document) -> None:
        """Queue one freshly read document for writing, unless it is already indexed as is."""
        src = doc.source
        did = src.doc_id
        if did in state.seen or did in self._claimed:
            self.warn(f"{src.source_path}: duplicate document id {did!r}; skipped")
            return
        state.seen.add(did)
        self._claimed.add(did)
        old = state.existing.get(did)
        if old is None:
            owner = None if self._fresh else self.writer.document_owner(did)
            if owner is not None and owner not in self._pending_files:
                self.warn(
                    f"{src.source_path}: document id {did!r} is already indexed from {owner}; skipped"
                )
                return
            if owner is not None:  # moving from a file re-read later in this run
                self._flush(commit=False)
                self.writer.con.execute("DELETE FROM documents WHERE doc_id = ?", (did,))
            self.summary.added += 1
        elif old[1] == src.sha256 and not state.force:
            if old[2] != (*meta_values(src.meta), _json_list(src.warnings)):
                self.writer.update_meta(old[0], src)
                self.summary.updated += 1
            else:
                self.summary.unchanged += 1
            return
        else:
            self._batch_delete.append(old[0])
            self.summary.updated += 1
        self._batch_docs.append(doc)
        self._batch_chars += sum(len(p.text) for p in doc.passages) + 200

    def _batch_full(self) -> bool:
        return len(self._batch_docs) >= BATCH_DOCS or self._batch_chars >= BATCH_CHARS

    def _flush(self, *, commit: bool) -> None:
        """Write the queued documents; with ``commit``, end the transaction and start the next."""
        w = self.writer
        if self._batch_delete:
            w.delete_documents(self._batch_delete)
        if self._batch_docs:
            self.summary.passages += w.add_documents(self._batch_docs)
        self._batch_docs, self._batch_delete, self._batch_chars = [], [], 0
        if commit:
            w.commit()
            w.begin()

    def _finish_file(self, state: _FileState, sha256: str) -> None:
        """Drop the file's records that are gone and record the file as indexed."""
        stale = [row[0] for did, row in state.existing.items() if did not in state.seen]
        self._flush(commit=False)
        self.writer.delete_documents(stale)
        self.summary.removed += len(stale)
        f = state.file
        self.writer.set_file(f.rel, f.size, f.mtime_ns, sha256, state.warnings)
        self._pending_files.discard(f.rel)


@dataclass
class _FileState:
    """What is known about a file while its documents stream in."""

    file: CorpusFile
    existing: dict[str, tuple[int, str, tuple[Any, ...]]]
    force: bool
    seen: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


def _json_list(items: Iterable[str]) -> str:
    return json.dumps(list(items), ensure_ascii=False)
