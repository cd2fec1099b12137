"""Plan an index update: the corpus files with their stat fingerprints, and what to do with
each file (read it, keep it, record its new mtime, forget it).

The plan needs only reads, so a store that is already current can be recognised without the
update lock (``briefgen.index.update``). The fingerprints are in ``briefgen.index.fingerprint``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from briefgen._fs import sha256_file
from briefgen.corpus import files as corpus
from briefgen.index.base import FileRecord

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig


@dataclass(frozen=True, slots=True)
class CorpusFile:
    """A corpus file as found on disk: where it is and its stat fingerprint."""

    rel: str  # the source_path: relative to the project root, POSIX separators
    path: Path
    size: int
    mtime_ns: int
    doc_id: str | None  # the doc_id of a one-document file; None for JSONL



class StoreRecords(Protocol):
    """The reads a plan needs (a ``StoreWriter`` has them; so does an unlocked view)."""

    def setting(self, key: str) -> str | None: ...

    def files(self) -> dict[str, FileRecord]: ...

    def documents_by_source(self, *, with_doc_ids: bool) -> dict[str, tuple[int, str | None]]: ...


@dataclass
class Plan:
    """What an update has to do, decided from stat fingerprints and the store's records."""

    force: bool  # metadata or a cap changed: every file is read again
    known: dict[str, FileRecord]
    stored: dict[str, tuple[int, str | None]]  # source_path → (documents, smallest doc_id)
    to_read: list[CorpusFile] = field(default_factory=list)
    unchanged: list[CorpusFile] = field(default_factory=list)
    touched: list[CorpusFile] = field(default_factory=list)  # same bytes, new mtime
    gone: list[str] = field(default_factory=list)  # indexed files no longer in the corpus

    def writes_nothing(self) -> bool:
        """Say whether the store is current: nothing to read, record or delete."""
        return not (self.force or self.to_read or self.touched or self.gone)


def stat_files(cfg: LoadedConfig, paths: list[Path]) -> list[CorpusFile]:
    """Return the corpus files with their stat fingerprints and doc ids, in corpus order."""
    root = cfg.resolve(cfg.config.corpus.path)
    single = [p for p in paths if corpus.file_format(p) != "jsonl"]
    ids = corpus.doc_ids_for(single, root) if single else {}
    files = []
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue  # vanished since it was listed: it is simply not in the corpus now
        files.append(CorpusFile(corpus.source_path_of(p, cfg), p, st.st_size, st.st_mtime_ns,
                                ids.get(p)))
    return files


def make_plan(w: StoreRecords, files: list[CorpusFile], inputs: str) -> Plan:
    """Sort the files into new or changed (to read), unchanged, touched and gone."""
    plan = Plan(
        force=w.setting("inputs") != inputs,
        known=w.files(),
        # Per source_path: how many documents, and (for one-document files) the doc_id.
        stored=w.documents_by_source(with_doc_ids=any(f.doc_id is not None for f in files)),
    )
    for f in files:
        old = plan.known.get(f.rel)
        count, stored_id = plan.stored.get(f.rel, (0, None))
        if old is None or plan.force or (f.doc_id is not None and count and stored_id != f.doc_id):
            plan.to_read.append(f)  # new, settings changed, or its doc_id changed (a name clash)
        elif (old[0], old[1]) == (f.size, f.mtime_ns):
            plan.unchanged.append(f)
        elif old[0] == f.size and sha256_file(f.path) == old[2]:
            plan.unchanged.append(f)  # touched, not changed: keep the new mtime to skip the hash
            plan.touched.append(f)
        else:
            plan.to_read.append(f)
    on_disk = {f.rel for f in files}
    plan.gone = [rel for rel in plan.known if rel not in on_disk]
    return plan
