"""Bring the index up to date with the corpus, incrementally and crash-safely.

A file whose size and mtime are as recorded is not opened; if they differ, the sha256 of
its bytes decides. Changed files are re-read — a JSONL file record by record: a record with
the same doc_id, text hash and metadata is not cleaned or rewritten — and deleted files are
removed. Writes go in batches, one transaction each; a file's row in ``files`` is written in
the transaction that holds its last documents, so after a crash (even ``kill -9``) the index
is consistent and the next run simply picks the unfinished files up again.

Large runs read, parse and clean articles in worker processes (``briefgen.index.workers``)
while this process only reads raw bytes and writes to SQLite.

An index that is already current is checked without the update lock (a backend may offer an
``unlocked_view``), so builds on an up-to-date index never wait for each other; otherwise the
update lock is waited for, up to ``index.lock_wait_seconds``. Which file keeps a document id
that two files use is decided by corpus order alone, so a fresh and an incremental run give
the same index.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from briefgen.corpus import files as corpus
from briefgen.index.backends import backend_for
from briefgen.index.base import DocumentRows, StoreWriter
from briefgen.index.fingerprint import inputs_fingerprint, pipeline_fingerprint
from briefgen.index.plan import CorpusFile, Plan, make_plan, stat_files
from briefgen.index.summary import (
    FILE_MAX_WARNINGS,
    IndexSummary,
    more_skipped_count,
    more_skipped_line,
)
from briefgen.index.workers import (
    UNIT_BYTES,
    Item,
    Part,
    PartResult,
    ReadContext,
    Record,
    TextFieldMissing,
    Unit,
    jsonl_units,
    worker_pool,
)
from briefgen.names import printable

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

#: Commit after about this many characters of passage text or this many documents: large
#: enough that FTS5 merges few segments, small enough that a crash loses little.
BATCH_CHARS = 32_000_000
BATCH_DOCS = 10_000
#: Below this many bytes to read, worker processes cost more than they save.
PARALLEL_MIN_BYTES = 2_000_000


def _ignore(message: str) -> None:
    """Drop a warning (the library default when the caller passes no ``warn``)."""


@dataclass
class _FileState:
    """What is known about a file while its documents stream through."""

    file: CorpusFile
    existing: dict[str, tuple[int, str, str]]  # doc_id → (row id, sha256, meta key)
    seen: set[str] = field(default_factory=set)  # doc_ids this file keeps
    read: set[str] = field(default_factory=set)  # doc_ids read from it (duplicates are skipped)
    warnings: list[str] = field(default_factory=list)
    hidden: int = 0  # skip warnings beyond FILE_MAX_WARNINGS: counted only
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

    Bad input is skipped with one ``warn`` line each and listed in ``summary.skipped`` (past a
    file's first ``FILE_MAX_WARNINGS``, only counted). Inputs skipped before and still there
    are reported again (``--strict`` must see them); with ``max_warnings``, only that many lines
    are shown, then one line counting the rest (a scheduled build over a corpus with 1,000
    empty records need not log them every run). Raises ``IndexBusyError`` when another
    process holds the update lock for longer than ``index.lock_wait_seconds``.
    """
    started = time.perf_counter()
    found: list[str] = []
    paths = corpus.corpus_files(cfg, warn=found.append)  # CorpusError if the folder is missing
    backend = backend_for(cfg)
    summary = IndexSummary(path=backend.describe(cfg))
    updater = _Updater(cfg, summary, progress=progress, warn=warn, max_warnings=max_warnings)
    for message in found:
        updater.warn(message)  # not a regular file, a link out of the corpus, a bad name
    files = stat_files(cfg, paths)
    if not updater.current_without_lock(backend, files):
        with backend.writer(cfg, summary.notes) as writer:
            updater.run(writer, files)
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
        summary: IndexSummary,
        *,
        progress: bool,
        warn: Callable[[str], None],
        max_warnings: int | None = None,
    ) -> None:
        self.cfg = cfg
        self._max_warnings = max_warnings
        self.summary = summary
        self.progress = progress
        self._warn = warn
        self._bar: Any = None
        self._states: dict[int, _FileState] = {}
        self._next_file = 0  # index of the next file state
        self._existing: dict[str, dict[str, tuple[int, str, str]]] = {}  # per file to read
        self._claimed: dict[str, str] = {}  # doc_id → "file[:line]" that took it in this run
        self._pending: set[str] = set()  # files not yet re-read in this run
        self._order: dict[str, int] = {}  # source_path → position in corpus order
        self._by_rel: dict[str, CorpusFile] = {}
        self._unchanged: dict[str, CorpusFile] = {}  # not read: reported once reading is done
        self._requeued: list[CorpusFile] = []  # unchanged files that must be read after all
        self._plan: Plan | None = None
        self._fresh = False  # the index held no documents when reading began
        self._uncommitted = 0  # characters of passage text written since the last commit
        self._uncommitted_docs = 0
        self._pipeline, self._inputs = pipeline_fingerprint(), inputs_fingerprint(cfg)

    def warn(self, message: str, state: _FileState | None = None, *, listed: bool = False) -> None:
        """Report a skipped item: count it, remember it, and show it above the progress bar
        (past a file's first FILE_MAX_WARNINGS, only count it, unless ``listed``)."""
        message = printable(message)  # a file name must not forge or hide a line of the log
        if state is not None and not listed and len(state.warnings) >= FILE_MAX_WARNINGS:
            state.hidden += 1
            self.summary.unlisted += 1
            return
        self.summary.skipped.append(message)
        if state is not None:
            state.warnings.append(message)
        self._show(message)

    def _show(self, message: str) -> None:
        if self._max_warnings is not None and len(self.summary.skipped) > self._max_warnings:
            return  # counted; update_index says how many were not shown
        if self._bar is not None:
            from tqdm import tqdm

            with tqdm.external_write_mode(file=sys.stderr):
                self._warn(message)
        else:
            self._warn(message)

    def _report_again(self, message: str) -> None:
        """Report a warning stored with an unchanged file (its count line stands for many)."""
        more = more_skipped_count(message)
        if more:
            self.summary.unlisted += more
            self._show(message)
        else:
            self.warn(message)

    # --- planning ------------------------------------------------------------------------

    def current_without_lock(self, backend: Any, files: list[CorpusFile]) -> bool:
        """If the store is current, report it as a run would, without the update lock.

        Builds on an up-to-date index then never queue for the lock. Needs the backend's
        optional ``unlocked_view``; False whenever anything is to be written.
        """
        view_of = getattr(backend, "unlocked_view", None)
        if view_of is None:
            return False
        with view_of(self.cfg) as view:
            if view is None or view.setting("pipeline") != self._pipeline:
                return False
            if not view.has_corpus_facts():
                return False
            plan = make_plan(view, files, self._inputs)
            if not plan.writes_nothing():
                return False
            self._plan = plan
            self._unchanged = {f.rel: f for f in plan.unchanged}
            self._report_unchanged()
            self.summary.documents_total, self.summary.passages_total = view.totals()
        return True

    def run(self, writer: StoreWriter, files: list[CorpusFile]) -> None:
        """Update the store to match the corpus ``files`` (holding its update lock)."""
        self.writer = w = writer
        self._order = {f.rel: i for i, f in enumerate(files)}
        self._by_rel = {f.rel: f for f in files}
        w.begin()
        if w.setting("pipeline") not in (None, self._pipeline):
            self.summary.notes.append("the cleaning code changed: every document is read again")
            w.clear()
        w.set_setting("pipeline", self._pipeline)
        # Metadata or the size cap changed: re-read every file; unchanged articles stay put.
        self._plan = plan = make_plan(w, files, self._inputs)
        for f in plan.touched:
            old = plan.known[f.rel]
            w.set_file(f.rel, f.size, f.mtime_ns, old[2], old[3])
        for rel in plan.gone:
            self.summary.removed += w.delete_file(rel)
        if not plan.to_read:
            w.set_setting("inputs", self._inputs)  # else only once every file has been re-read
        w.commit()

        self._unchanged = {f.rel: f for f in plan.unchanged}
        if plan.to_read:
            # Read (and check) the metadata file once, here: forked workers inherit it instead
            # of each parsing it again, and a mistake in it stops the run from this process.
            corpus.file_metadata(self.cfg)
            self._fresh = not w.has_documents()
            self._existing = {f.rel: {} if self._fresh else w.documents_of(f.rel) for f in plan.to_read}
            self._read_and_write(plan.to_read)
        self._report_unchanged()

    def _report_unchanged(self) -> None:
        """Count the files not read and report their stored warnings again."""
        assert self._plan is not None
        for f in self._unchanged.values():
            self.summary.unchanged += self._plan.stored.get(f.rel, (0, None))[0]
            for message in self._plan.known[f.rel][3]:
                self._report_again(message)  # still there: --strict must still see it

    # --- reading (producer) --------------------------------------------------------------

    def _units(self, files: list[CorpusFile], base: int) -> Iterator[Unit]:
        """Cut the files into units of reading work, in order (JSONL files into line blocks)."""
        batch: list[Part] = []  # one-document files, grouped
        batch_bytes = 0
        for f in files:
            i, self._next_file = self._next_file, self._next_file + 1
            self._states[i] = _FileState(f, self._existing[f.rel])
            if f.doc_id is not None:
                batch.append(Part(i, f.rel, f.path, doc_id=f.doc_id, last=True))
                batch_bytes += f.size
            elif batch:
                yield Unit(batch, base)
                batch, batch_bytes = [], 0
            if f.doc_id is None:
                yield from jsonl_units(self.cfg, i, f.rel, f.path, f.size, base)
            base += f.size
            if batch_bytes >= UNIT_BYTES:
                yield Unit(batch, base)
                batch, batch_bytes = [], 0
        if batch:
            yield Unit(batch, base)

    def _wants(self, state: _FileState, record: Record) -> bool:
        """Decide whether an article must be written (counting it either way).

        Of two files with one doc_id, the first in corpus order keeps it, whichever was read
        first in this run: an unchanged file later in the order gives it up and is read again.
        """
        did = record.doc_id
        first = self._claimed.get(did)
        if first is not None:
            self.warn(f"{record.where}: document id {did!r} is already used by {first}; skipped",
                      state)
            return False
        self._claimed[did] = record.where
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
                if self._order.get(owner, -1) < self._order.get(state.file.rel, -1):
                    self.warn(f"{record.where}: document id {did!r} is already used by "
                              f"{owner}, earlier in the corpus; skipped", state)
                    return False
                self._read_again(owner)  # later in the corpus: it gives the id up
            if owner is not None:  # moving here from a file that is re-read later in this run
                self._replaces.append(self.writer.document_row(did))
                self._existing[owner].pop(did, None)  # that file no longer holds it
            self.summary.added += 1
        return True

    def _read_again(self, rel: str) -> None:
        """Read an unchanged file after all, once this pass is done (it lost a doc_id)."""
        self._unchanged.pop(rel, None)
        self._pending.add(rel)
        self._existing[rel] = self.writer.documents_of(rel)
        self._requeued.append(self._by_rel[rel])

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
                    while files:
                        for unit, results in read(self._units(files, done)):
                            for part, result in zip(unit.parts, results, strict=True):
                                self._take_part(part, result.items, result.sha256, result)
                            bar.update(unit.done_bytes - done)
                            done = unit.done_bytes
                        files, self._requeued = self._requeued, []
                    self.writer.set_setting("inputs", self._inputs)
                    self.writer.commit()
                except BaseException:
                    self.writer.rollback()
                    raise
            self._bar = None

    def _take_part(self, part: Part, items: list[Item], sha256: str, counted: PartResult) -> None:
        """Write what a worker read from a part; close its file if the part is its last."""
        state = self._states[part.file_index]
        if part.chunk is None:
            state.sha256 = sha256  # of a one-document file's bytes (as read now)
        for item in items:
            if isinstance(item, str):
                self.warn(item, state)
            elif isinstance(item, TextFieldMissing):
                state.without_text += 1
                if state.without_text == 1:  # stands for every record of the file without it
                    message = corpus.missing_field_message(item.where, item.field, item.present)
                    self.warn(message, state, listed=True)
                else:
                    self.summary.unlisted += 1
            elif item.doc_id in state.read:
                self.warn(f"{item.where}: duplicate id {item.doc_id!r}; skipped", state)
            else:
                state.read.add(item.doc_id)
                if self._wants(state, item):
                    self._add(state, item)
        # What the worker counted without sending: more skips, more records without text.
        state.hidden += counted.hidden
        state.without_text += counted.without_text
        self.summary.unlisted += counted.hidden + counted.without_text
        for note in part.notes:
            self.warn(note, state, listed=True)  # why reading stopped: always shown
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
        if state.hidden:  # stored with the file: an unchanged run reports the same count
            line = more_skipped_line(printable(f.rel), state.hidden)
            state.warnings.append(line)
            self._show(line)
        self.writer.set_file(f.rel, f.size, f.mtime_ns, state.sha256, state.warnings)
        self._pending.discard(f.rel)

    def _commit(self) -> None:
        """End the current batch's transaction and start the next."""
        self.writer.commit()
        self._uncommitted = self._uncommitted_docs = 0
        self.writer.begin()
