"""Bring the index up to date with the corpus, incrementally and crash-safely.

A file whose size and mtime are as recorded is not opened; if they differ, the sha256 of
its bytes decides. Changed files are re-read — a JSONL file record by record: a record with
the same doc_id, text hash and metadata is not cleaned or rewritten — and deleted files are
removed. Writes go in batches, one transaction each; a file's row in ``files`` is written in
the transaction that holds its last documents, so after a crash (even ``kill -9``) the index
is consistent and the next run simply picks the unfinished files up again.

Large runs read, parse and clean articles in worker processes (``briefgen.index.workers``)
while this process only reads raw bytes and writes to SQLite.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen._fs import sha256_file
from briefgen.corpus import files as corpus
from briefgen.corpus.jsonl import JsonlChunk, jsonl_chunks
from briefgen.index.backends import backend_for
from briefgen.index.base import DocumentRows, StoreWriter
from briefgen.index.fingerprint import inputs_fingerprint, pipeline_fingerprint
from briefgen.index.workers import (
    UNIT_BYTES,
    Item,
    Part,
    ReadContext,
    Record,
    TextFieldMissing,
    Unit,
    worker_pool,
)

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

#: Commit after about this many characters of passage text or this many documents: large
#: enough that FTS5 merges few segments, small enough that a crash loses little.
BATCH_CHARS = 32_000_000
BATCH_DOCS = 10_000
#: Below this many bytes to read, worker processes cost more than they save.
PARALLEL_MIN_BYTES = 2_000_000
SUMMARY_MAX_SKIPPED = 10


def _ignore(message: str) -> None:
    """Drop a warning (the library default when the caller passes no ``warn``)."""


@dataclass
class IndexSummary:
    """What one ``update_index`` run did."""

    path: str  # where the index is (a file, a database)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)  # one "file[:line]: reason" per skip
    unlisted: int = 0  # more records without the text field: their file's message stands for them
    passages: int = 0  # passages written in this run
    documents_total: int = 0
    passages_total: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # e.g. "index rebuilt: schema changed"

    def format(self) -> str:
        """Return the end-of-run summary, a few short lines."""
        lines = [f"note: {note}" for note in self.notes]
        lines.append(
            f"documents: {self.added:,} added, {self.updated:,} updated, {self.unchanged:,} "
            f"unchanged, {self.removed:,} removed, {len(self.skipped) + self.unlisted:,} skipped"
        )
        rate = f" ({self.passages / self.seconds:,.0f}/s)" if self.passages and self.seconds else ""
        lines.append(
            f"passages: {self.passages:,} written{rate}; the index holds "
            f"{self.documents_total:,} documents, {self.passages_total:,} passages"
        )
        lines.append(f"index: {self.path} ({self.seconds:.1f} s)")
        if self.skipped:
            lines.append("skipped:")
            lines += [f"  {reason}" for reason in self.skipped[:SUMMARY_MAX_SKIPPED]]
            if len(self.skipped) > SUMMARY_MAX_SKIPPED:
                lines.append(f"  … and {len(self.skipped) - SUMMARY_MAX_SKIPPED:,} more")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class CorpusFile:
    """A corpus file as found on disk: where it is and its stat fingerprint."""

    rel: str  # the source_path: relative to the project root, POSIX separators
    path: Path
    size: int
    mtime_ns: int
    doc_id: str | None  # the doc_id of a one-document file; None for JSONL


@dataclass
class _FileState:
    """What is known about a file while its documents stream through."""

    file: CorpusFile
    existing: dict[str, tuple[int, str, str]]  # doc_id → (row id, sha256, meta key)
    seen: set[str] = field(default_factory=set)  # doc_ids this file keeps
    read: set[str] = field(default_factory=set)  # doc_ids read from it (duplicates are skipped)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""
    without_text: int = 0  # records without the text field (reported once)


# Skipped-input lines a build or scheduled run shows (`briefgen index` shows every one).
BUILD_MAX_WARNINGS = 20


def update_index(
    cfg: LoadedConfig,
    *,
    progress: bool = True,
    warn: Callable[[str], None] = _ignore,
    max_warnings: int | None = None,
) -> IndexSummary:
    """Bring the index up to date with the corpus; return what changed.

    Bad input is skipped with one ``warn`` line each and listed in ``summary.skipped``. Inputs
    skipped before and still there are reported again (``--strict`` must see them); with
    ``max_warnings``, only that many lines are shown, then one line counting the rest (a
    scheduled build over a corpus with 1,000 empty records need not log them every run).
    """
    started = time.perf_counter()
    paths = corpus.corpus_files(cfg)  # raises CorpusError naming a missing corpus folder
    backend = backend_for(cfg)
    summary = IndexSummary(path=backend.describe(cfg))
    with backend.writer(cfg, summary.notes) as writer:
        _Updater(cfg, writer, summary, progress=progress, warn=warn,
                 max_warnings=max_warnings).run(paths)
        # Snapshot hash and date range, for every build until the corpus changes again.
        writer.store_corpus_facts()
        summary.documents_total, summary.passages_total = writer.totals()
    hidden = 0 if max_warnings is None else len(summary.skipped) - max_warnings
    if hidden > 0:
        warn(f"… and {hidden:,} more skipped input(s) not shown; "
             "`briefgen index --verbose` lists them all")
    summary.seconds = time.perf_counter() - started
    return summary


class _Updater:
    """One update run: plan from the stat fingerprints, then read, clean and write in batches."""

    def __init__(
        self,
        cfg: LoadedConfig,
        writer: StoreWriter,
        summary: IndexSummary,
        *,
        progress: bool,
        warn: Callable[[str], None],
        max_warnings: int | None = None,
    ) -> None:
        self.cfg = cfg
        self._max_warnings = max_warnings
        self.writer = writer
        self.summary = summary
        self.progress = progress
        self._warn = warn
        self._bar: Any = None
        self._states: dict[int, _FileState] = {}
        self._existing: dict[str, dict[str, tuple[int, str, str]]] = {}  # per file to read
        self._claimed: set[str] = set()  # doc_ids read in this run, in any file
        self._pending: set[str] = set()  # files not yet re-read in this run
        self._fresh = False  # the index held no documents when reading began
        self._uncommitted = 0  # characters of passage text written since the last commit
        self._uncommitted_docs = 0
        self._inputs = ""

    def warn(self, message: str, state: _FileState | None = None) -> None:
        """Report a skipped item: count it, remember it, and show it above the progress bar."""
        self.summary.skipped.append(message)
        if state is not None:
            state.warnings.append(message)
        if self._max_warnings is not None and len(self.summary.skipped) > self._max_warnings:
            return  # counted; update_index says how many were not shown
        if self._bar is not None:
            from tqdm import tqdm

            with tqdm.external_write_mode(file=sys.stderr):
                self._warn(message)
        else:
            self._warn(message)

    # --- planning ------------------------------------------------------------------------

    def run(self, paths: list[Path]) -> None:
        """Update the index to match the corpus files ``paths``."""
        w = self.writer
        root = self.cfg.resolve(self.cfg.config.corpus.path)
        single = [p for p in paths if corpus.file_format(p) != "jsonl"]
        ids = corpus.doc_ids_for(single, root) if single else {}
        files = []
        for p in paths:
            try:
                st = p.stat()
            except OSError:
                continue  # vanished since it was listed: it is simply not in the corpus now
            files.append(CorpusFile(corpus.source_path_of(p, self.cfg), p, st.st_size,
                                    st.st_mtime_ns, ids.get(p)))

        w.begin()
        pipeline, inputs = pipeline_fingerprint(), inputs_fingerprint(self.cfg)
        if w.setting("pipeline") not in (None, pipeline):
            self.summary.notes.append("the cleaning code changed: every document is read again")
            w.clear()
        # Metadata or the size cap changed: re-read every file; unchanged articles stay put.
        force = w.setting("inputs") != inputs
        w.set_setting("pipeline", pipeline)
        self._inputs = inputs
        known = w.files()
        # Per source_path: how many documents, and (for one-document files) the doc_id.
        stored = w.documents_by_source(with_doc_ids=any(f.doc_id is not None for f in files))
        to_read: list[CorpusFile] = []
        unchanged: list[CorpusFile] = []
        for f in files:
            old = known.get(f.rel)
            count, stored_id = stored.get(f.rel, (0, None))
            if old is None or force or (f.doc_id is not None and count and stored_id != f.doc_id):
                to_read.append(f)  # new, settings changed, or its doc_id changed (a name clash)
            elif (old[0], old[1]) == (f.size, f.mtime_ns):
                unchanged.append(f)
            elif old[0] == f.size and sha256_file(f.path) == old[2]:
                unchanged.append(f)  # touched, not changed: keep the new mtime to skip the hash
                w.set_file(f.rel, f.size, f.mtime_ns, old[2], old[3])
            else:
                to_read.append(f)
        on_disk = {f.rel for f in files}
        for rel in known:
            if rel not in on_disk:
                self.summary.removed += w.delete_file(rel)
        if not to_read:
            w.set_setting("inputs", inputs)  # else only once every file has been re-read
        w.commit()

        for f in unchanged:
            self.summary.unchanged += stored.get(f.rel, (0, None))[0]
            for message in known[f.rel][3]:
                self.warn(message)  # the bad input is still there: --strict must still see it
        if to_read:
            # Read (and check) the metadata file once, here: forked workers inherit it instead
            # of each parsing it again, and a mistake in it stops the run from this process.
            corpus.file_metadata(self.cfg)
            self._fresh = not w.has_documents()
            self._existing = {f.rel: {} if self._fresh else w.documents_of(f.rel) for f in to_read}
            self._read_and_write(to_read)

    # --- reading (producer) --------------------------------------------------------------

    def _units(self, files: list[CorpusFile]) -> Iterator[Unit]:
        """Cut the files into units of reading work, in order (JSONL files into line blocks)."""
        batch: list[Part] = []  # one-document files, grouped
        batch_bytes = base = 0
        for i, f in enumerate(files):
            self._states[i] = _FileState(f, self._existing[f.rel])
            if f.doc_id is not None:
                batch.append(Part(i, f.rel, f.path, doc_id=f.doc_id, last=True))
                batch_bytes += f.size
            elif batch:
                yield Unit(batch, base)
                batch, batch_bytes = [], 0
            if f.doc_id is None:
                yield from self._jsonl_units(i, f, base)
            base += f.size
            if batch_bytes >= UNIT_BYTES:
                yield Unit(batch, base)
                batch, batch_bytes = [], 0
        if batch:
            yield Unit(batch, base)

    def _jsonl_units(self, i: int, f: CorpusFile, base: int) -> Iterator[Unit]:
        """Read a JSONL file in blocks of whole lines (only bytes: workers parse them)."""
        cap_mb = self.cfg.config.corpus.max_file_mb
        stem, file_meta = corpus.file_stem(f.path), corpus.file_meta(f.path, self.cfg)
        digest = hashlib.sha256()
        notes = []
        try:
            for chunk in jsonl_chunks(f.path, corpus.record_cap(cap_mb), digest=digest):
                part = Part(i, f.rel, f.path, chunk=chunk, stem=stem, file_meta=file_meta)
                if chunk.data is None:
                    part.notes.append(f"{f.rel}:{chunk.first_line}: {corpus.over_cap_reason(cap_mb)}")
                yield Unit([part], base + min(chunk.consumed, f.size - 1))
            sha = digest.hexdigest()
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            notes.append(f"{f.rel}: cannot read the file ({exc}); stopped there")
            sha = _sha_or_empty(f.path)
        end = JsonlChunk(0, b"", f.size)
        yield Unit([Part(i, f.rel, f.path, chunk=end, last=True, sha256=sha, notes=notes)], base + f.size)

    def _wants(self, state: _FileState, record: Record) -> bool:
        """Decide whether an article must be written (counting it either way)."""
        did = record.doc_id
        if did in self._claimed:
            self.warn(f"{state.file.rel}: document id {did!r} also appears in an earlier "
                      "file; skipped", state)
            return False
        self._claimed.add(did)
        state.seen.add(did)
        old = state.existing.get(did)
        if old is not None:
            if (old[1], old[2]) == (record.sha256, record.meta_key):
                self.summary.unchanged += 1
                return False
            self._replaces.append(old[0])
            self.summary.updated += 1
        else:
            owner = None if self._fresh else self.writer.document_owner(did)
            if owner is not None and owner not in self._pending:
                self.warn(f"{state.file.rel}: document id {did!r} is already indexed from "
                          f"{owner}; skipped", state)
                return False
            if owner is not None:  # moving here from a file that is re-read later in this run
                self._replaces.append(self.writer.document_row(did))
                self._existing[owner].pop(did, None)  # that file no longer holds it
            self.summary.added += 1
        return True

    # --- writing (consumer) --------------------------------------------------------------

    def _read_and_write(self, files: list[CorpusFile]) -> None:
        from tqdm import tqdm

        total = sum(f.size for f in files)
        self._pending = {f.rel for f in files}
        known = {
            rel: {did: (sha, key) for did, (_, sha, key) in docs.items()}
            for rel, docs in self._existing.items()
        }
        self._replaces: list[int] = []
        self._documents: list[DocumentRows] = []
        with tqdm(
            total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="indexing",
            disable=None if self.progress else True,  # None: shown only on a terminal
            delay=1.0, file=sys.stderr, mininterval=0.5, smoothing=0.05,
        ) as bar:
            self._bar = None if bar.disable else bar
            done = 0
            with worker_pool(ReadContext(self.cfg, known), parallel=total >= PARALLEL_MIN_BYTES) as read:
                self.writer.begin()
                try:
                    for unit, results in read(self._units(files)):
                        for part, result in zip(unit.parts, results, strict=True):
                            self._take_part(part, result.items, result.sha256)
                        bar.update(unit.done_bytes - done)
                        done = unit.done_bytes
                    self.writer.set_setting("inputs", self._inputs)
                    self.writer.commit()
                except BaseException:
                    self.writer.rollback()
                    raise
            self._bar = None

    def _take_part(self, part: Part, items: list[Item], sha256: str) -> None:
        """Write what a worker read from a part; close its file if the part is its last."""
        state = self._states[part.file_index]
        if part.chunk is None:
            state.sha256 = sha256  # of a one-document file's bytes (as read now)
        for item in items:
            if isinstance(item, str):
                self.warn(item, state)
            elif isinstance(item, TextFieldMissing):
                state.without_text += 1
                if state.without_text == 1:
                    message = corpus.missing_field_message(item.where, item.field, item.present)
                    self.warn(message, state)
                else:
                    self.summary.unlisted += 1
            elif item.doc_id in state.read:
                self.warn(f"{item.where}: duplicate id {item.doc_id!r}; skipped", state)
            else:
                state.read.add(item.doc_id)
                if self._wants(state, item):
                    self._add(state, item)
        for note in part.notes:
            self.warn(note, state)
        self._write()
        if part.last:
            if part.chunk is not None:
                state.sha256 = part.sha256
            self._finish_file(state)
            del self._states[part.file_index]
        if self._uncommitted >= BATCH_CHARS or self._uncommitted_docs >= BATCH_DOCS:
            self._commit()

    def _add(self, state: _FileState, record: Record) -> None:
        """Queue a wanted article's document for writing (or report why it has none)."""
        if record.error:
            self.warn(record.error, state)
            return
        assert record.rows is not None, f"{record.where}: read as unchanged, yet wanted"
        self._documents.append(record.rows)
        self._uncommitted += record.chars

    def _write(self) -> None:
        """Replace the queued articles' old rows by their new documents (in the open transaction)."""
        if self._replaces:
            self.writer.delete_documents(self._replaces)
            self._replaces = []
        if self._documents:
            documents, self._documents = self._documents, []
            self.summary.passages += self.writer.add_rows(documents)
            self._uncommitted_docs += len(documents)

    def _finish_file(self, state: _FileState) -> None:
        """Drop the file's records that are gone and record the file as indexed."""
        stale = [row[0] for did, row in state.existing.items() if did not in state.seen]
        self.writer.delete_documents(stale)
        self.summary.removed += len(stale)
        f = state.file
        self.writer.set_file(f.rel, f.size, f.mtime_ns, state.sha256, state.warnings)
        self._pending.discard(f.rel)

    def _commit(self) -> None:
        """End the current batch's transaction and start the next."""
        self.writer.commit()
        self._uncommitted = self._uncommitted_docs = 0
        self.writer.begin()


def _sha_or_empty(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return ""  # unreadable now: the next run compares against nothing and re-reads it
