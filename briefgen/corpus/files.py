"""Read the corpus: find article files, decode them, attach metadata and clean them into documents.

Formats: ``.txt``, ``.md`` (optional YAML front matter), ``.html``/``.htm`` (main text extracted
with trafilatura), ``.jsonl`` and ``.jsonl.gz`` (one article a line, streamed). Bad input never
raises: it is skipped with one ``warn("path[:line]: reason")`` call and reading goes on.

The reading half (``read_raw``: bytes → decoded text + metadata) is separate from the pure
cleaning half (``make_document``) so the index can compare hashes before cleaning and run the
cleaning in worker processes.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen._fs import file_kind, open_regular
from briefgen.corpus.clean import clean_text
from briefgen.corpus.decode import (
    SkippedInput,
    decode_bytes,
    extract_html_text,
    page_metadata,
    reject_binary,
)
from briefgen.corpus.discover import find_corpus_files
from briefgen.corpus.frontmatter import front_matter_meta
from briefgen.corpus.jsonl import JsonlCapReached, jsonl_chunks
from briefgen.corpus.metadata import NO_META, load_metadata, merge_meta, meta_from_fields
from briefgen.corpus.passages import build_passages
from briefgen.corpus.records import (
    DEFAULT_FIELDS,
    FieldMap,
    MissingTextField,
    field_map,
    missing_field_message,
    split_record,
)
from briefgen.errors import CorpusError
from briefgen.models import Document, Source, SourceMeta

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

# The corpus stage's public interface (decoding lives in briefgen.corpus.decode, metadata in
# briefgen.corpus.metadata; the names other stages use are re-exported here).
__all__ = [
    "MissingTextField",
    "RawArticle",
    "SkippedInput",
    "corpus_file_names",
    "corpus_files",
    "decode_bytes",
    "doc_ids_for",
    "extract_html_text",
    "field_map",
    "file_format",
    "file_meta",
    "file_metadata",
    "file_stem",
    "iter_documents",
    "jsonl_article",
    "load_document",
    "make_document",
    "missing_field_message",
    "over_cap_reason",
    "read_path",
    "read_raw",
    "record_cap",
    "reject_binary",
    "source_path_of",
]

Warn = Callable[[str], None]

# An HTML page whose main text is shorter than this is navigation or an error page.
_MIN_HTML_WORDS = 10


@dataclass(frozen=True, slots=True)
class RawArticle:
    """A decoded article before cleaning: exactly the arguments of :func:`make_document`."""

    doc_id: str
    source_path: str
    text: str
    sha256: str
    meta: SourceMeta
    fmt: str

    def to_document(self) -> Document:
        """Clean this article and split it into passages."""
        return make_document(
            doc_id=self.doc_id,
            source_path=self.source_path,
            text=self.text,
            sha256=self.sha256,
            meta=self.meta,
            fmt=self.fmt,
        )


# --- cleaning (pure) -------------------------------------------------------------------------


def make_document(
    *, doc_id: str, source_path: str, text: str, sha256: str, meta: SourceMeta, fmt: str
) -> Document:
    """Clean decoded article text and split it into passages (pure: no I/O)."""
    cleaned = clean_text(text, fmt)
    # Inferred from the text (headline, byline, dateline): only where nothing better said it.
    if cleaned.title or cleaned.author or cleaned.outlet or cleaned.date:
        meta = merge_meta(meta, SourceMeta(title=cleaned.title, outlet=cleaned.outlet,
                                           author=cleaned.author, date=cleaned.date))
    source = Source(
        doc_id=doc_id,
        source_path=source_path,
        sha256=sha256,
        meta=meta,
        warnings=tuple(cleaned.warnings),
    )
    return Document(source=source, text=text, passages=build_passages(doc_id, text, cleaned.blocks))


# --- files -----------------------------------------------------------------------------------


def file_format(path: Path) -> str:
    """Return how a file is read: "txt", "md", "html" or "jsonl" (gzip or not)."""
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz")):
        return "jsonl"
    if name.endswith((".html", ".htm")):
        return "html"
    if name.endswith((".md", ".markdown")):
        return "md"
    return "txt"


def file_stem(path: Path) -> str:
    """Return a file's name without its corpus extension (a doc_id, or a JSONL doc_id prefix)."""
    name = path.name
    for ext in (".jsonl.gz", ".jsonl", ".markdown", ".html", ".htm", ".txt", ".md"):
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return path.stem


def source_path_of(path: Path, cfg: LoadedConfig) -> str:
    """Return ``path`` relative to the project root with POSIX separators."""
    # Plain strings, not pathlib: this runs once per corpus file on every index refresh.
    # Each folder is resolved once (cached); a symlinked file itself is still resolved.
    name = os.fspath(path)
    if os.path.islink(name):
        real = os.path.realpath(name)
    else:
        folder, base = os.path.split(name)
        real = os.path.join(_realpath(folder or "."), base)
    root = _realpath(os.fspath(cfg.root))
    rel = real[len(root) + 1 :] if real.startswith(root + os.sep) else os.path.relpath(real, root)
    return rel.replace(os.sep, "/")


@functools.lru_cache(maxsize=4096)
def _realpath(folder: str) -> str:
    """Return a folder's canonical path (cached: folders do not move during a run)."""
    return os.path.realpath(folder)


def corpus_files(cfg: LoadedConfig, warn: Warn | None = None) -> list[Path]:
    """List the corpus files matching ``corpus.include``, sorted (raises if the corpus is missing).

    Only regular files inside the corpus folder with printable UTF-8 names; every other
    match is skipped with one ``warn`` line (see ``briefgen.corpus.discover``).
    """
    _realpath.cache_clear()  # a long-running scheduler must see folders renamed between runs
    return find_corpus_files(cfg, warn)


def doc_ids_for(paths: list[Path], corpus_root: Path) -> dict[Path, str]:
    """Give each one-document file its doc id: the file name without extension, unless shared."""
    stem_of = {p: file_stem(p) for p in paths}
    stems: dict[str, int] = {}
    for stem in stem_of.values():
        stems[stem] = stems.get(stem, 0) + 1
    ids = {}
    for p in paths:
        doc_id = stem_of[p]
        if stems[doc_id] > 1:
            rel = p.relative_to(corpus_root) if p.is_relative_to(corpus_root) else p
            doc_id = (rel.parent / file_stem(p)).as_posix()
        ids[p] = doc_id
    return ids


def file_metadata(cfg: LoadedConfig) -> dict[str, SourceMeta]:
    """Return the corpus metadata file's entries by file name (ConfigError if it is broken)."""
    meta_path = cfg.config.corpus.metadata
    if not meta_path:
        return {}
    # Parsed once per change of the file, kept beside the index (see load_metadata).
    return load_metadata(cfg.resolve(meta_path), cfg.resolve(cfg.config.index.path).parent)


def file_meta(path: Path, cfg: LoadedConfig) -> SourceMeta:
    """Return the metadata the corpus metadata file gives a corpus file (empty if none)."""
    return file_metadata(cfg).get(Path(path).name, NO_META)


def corpus_file_names(cfg: LoadedConfig) -> set[str]:
    """Return the names of the corpus files: what the metadata file's entries are keyed by."""
    try:
        return {path.name for path in corpus_files(cfg)}
    except CorpusError:
        return set()  # no corpus yet: `briefgen index` says so


def read_raw(
    path: Path, cfg: LoadedConfig, *, warn: Warn, doc_id: str | None = None
) -> Iterator[RawArticle]:
    """Read one file into decoded articles (a JSONL file yields many); skip bad input with a warning."""
    path = Path(path)
    source_path = source_path_of(path, cfg)
    yaml_meta = file_meta(path, cfg)
    fmt = file_format(path)
    if fmt == "jsonl":
        yield from _read_jsonl(path, source_path, yaml_meta, cfg, warn)
        return
    try:
        mode, size = (st := path.stat()).st_mode, st.st_size
        if not stat.S_ISREG(mode):  # put here since the listing: never opened
            raise SkippedInput(f"not a regular file ({file_kind(mode)}); skipped without opening it")
        cap = cfg.config.corpus.max_file_mb * 1024 * 1024
        if size > cap:
            raise SkippedInput(
                f"file is {size / 1048576:.3g} MB, over the {cfg.config.corpus.max_file_mb:g} MB cap "
                "(corpus.max_file_mb); raise the cap or split the file"
            )
        if size == 0:
            raise SkippedInput("empty file")
        data = _read_capped(path, cfg.config.corpus.max_file_mb)
        sha = hashlib.sha256(data).hexdigest()
        own_meta = page_meta = SourceMeta()
        if fmt == "html":
            reject_binary(data)
            text = extract_html_text(data)
            if len(text.split()) < _MIN_HTML_WORDS:
                raise SkippedInput(
                    "no article text found in the HTML (unreadable or not an article page)"
                )
            page_meta = page_metadata(data)
        else:
            text = decode_bytes(data)
            if not text.strip():
                raise SkippedInput("empty file (only whitespace)")
            if fmt == "md":
                own_meta = front_matter_meta(text)
    except SkippedInput as exc:
        warn(f"{source_path}: {exc}")
        return
    except OSError as exc:
        warn(f"{source_path}: cannot read the file ({exc.strerror or exc})")
        return
    yield RawArticle(
        doc_id=doc_id or file_stem(path),
        source_path=source_path,
        text=text,
        sha256=sha,
        # The article's own fields, then corpus.yaml, then what the page says about itself.
        meta=merge_meta(own_meta, yaml_meta, page_meta),
        fmt=fmt,
    )


def _read_capped(path: Path, cap_mb: float) -> bytes:
    """Read a file of at most ``cap_mb`` MB; it may have grown since it was measured."""
    cap = int(cap_mb * 1024 * 1024)
    with open_regular(path) as fh:  # a FIFO or device put here since the listing: OSError
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise SkippedInput(
            f"file grew past the {cap_mb:g} MB cap (corpus.max_file_mb) while being read"
        )
    return data


def record_cap(cap_mb: float) -> int:
    """Return the most bytes one JSONL record may have (``corpus.max_file_mb``: files are streamed)."""
    return int(cap_mb * 1024 * 1024)


def over_cap_reason(cap_mb: float) -> str:
    """Return the skip reason of a JSONL record over the size cap."""
    return f"record over the {cap_mb:g} MB cap (corpus.max_file_mb); skipped"


def jsonl_article(
    line: bytes, number: int, *, source_path: str, stem: str, file_meta: SourceMeta, cap_mb: float,
    fields: FieldMap = DEFAULT_FIELDS,
) -> RawArticle | None:
    """Decode one JSONL line into an article (None for a blank line); ``fields``: its keys.

    Raises :class:`SkippedInput` with the reason a record cannot be read
    (:class:`MissingTextField` when it has no text field at all).
    """
    if len(line) > record_cap(cap_mb):
        raise SkippedInput(over_cap_reason(cap_mb))
    if not line.strip():
        return None
    try:
        record = json.loads(line.decode("utf-8-sig" if number == 1 else "utf-8"))
    except UnicodeDecodeError:
        raise SkippedInput("not valid UTF-8; skipped") from None
    except json.JSONDecodeError as exc:
        raise SkippedInput(f"malformed JSON ({exc.msg} at column {exc.colno}); skipped") from None
    if not isinstance(record, dict):
        raise SkippedInput("not a JSON object; skipped")
    raw_id, text, meta_fields = split_record(record, fields)
    if not isinstance(text, str) or not text.strip():
        raise SkippedInput("empty text; skipped")
    meta = meta_from_fields(meta_fields)
    return RawArticle(
        doc_id=str(raw_id) if raw_id not in (None, "") else f"{stem}:{number}",
        source_path=source_path,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        # meta_from_fields leaves no empty strings, so without file metadata it is the result.
        meta=meta if file_meta == NO_META else merge_meta(meta, file_meta),
        fmt="jsonl",
    )


def _read_jsonl(
    path: Path, source_path: str, file_meta: SourceMeta, cfg: LoadedConfig, warn: Warn
) -> Iterator[RawArticle]:
    """Stream a .jsonl or .jsonl.gz file, one article per line, in bounded memory."""
    settings = cfg.config.corpus
    cap_mb = settings.max_file_mb
    stem = file_stem(path)
    fields = field_map(cfg.config.corpus.fields)
    seen: set[str] = set()
    missing = 0  # records without the text field: reported once for the file
    try:
        for chunk in jsonl_chunks(path, record_cap(cap_mb), max_lines=settings.max_records,
                                  max_unpacked=int(settings.max_decompressed_mb * 1048576)):
            if chunk.data is None:
                warn(f"{source_path}:{chunk.first_line}: {over_cap_reason(cap_mb)}")
                continue
            for number, line in chunk.lines():
                try:
                    article = jsonl_article(
                        line, number, source_path=source_path, stem=stem, file_meta=file_meta,
                        cap_mb=cap_mb, fields=fields,
                    )
                except MissingTextField as exc:
                    missing += 1
                    if missing == 1:
                        where = f"{source_path}:{number}"
                        warn(missing_field_message(where, exc.field, exc.present))
                    continue
                except SkippedInput as exc:
                    warn(f"{source_path}:{number}: {exc}")
                    continue
                if article is None:
                    continue
                if article.doc_id in seen:
                    warn(f"{source_path}:{number}: duplicate id {article.doc_id!r}; skipped")
                    continue
                seen.add(article.doc_id)
                yield article
    except JsonlCapReached as exc:
        warn(f"{source_path}:{exc.line}: {exc}")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        warn(f"{source_path}: cannot read the file ({exc}); stopped there")


def read_path(
    path: Path, cfg: LoadedConfig, *, warn: Warn, doc_id: str | None = None
) -> Iterator[Document]:
    """Read, clean and split one file (a JSONL file yields many documents)."""
    for raw in read_raw(path, cfg, warn=warn, doc_id=doc_id):
        yield raw.to_document()


def iter_documents(cfg: LoadedConfig, *, warn: Warn) -> Iterator[Document]:
    """Yield every article of the corpus, in file order."""
    paths = corpus_files(cfg)
    ids = doc_ids_for(paths, cfg.resolve(cfg.config.corpus.path))
    for path in paths:
        yield from read_path(path, cfg, warn=warn, doc_id=ids[path])


def load_document(cfg: LoadedConfig, source_path: str, doc_id: str) -> Document | None:
    """Re-read one document as it is now (``None`` if its file or record is gone or unreadable)."""
    path = cfg.resolve(source_path)
    if not path.is_file():
        return None
    for raw in read_raw(path, cfg, warn=lambda _msg: None, doc_id=doc_id):
        if raw.doc_id == doc_id:
            return raw.to_document()
    return None
