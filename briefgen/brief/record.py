"""The brief's JSON record (brief.json), and reading the previous run's record back.

brief.json is the audit trail of a brief: every quote with its source span, every key point
with the span of its passage it quotes, every source with its file and sha256, the window
the brief drew on, and the sha256 of every file written with it (brief.md, brief.pdf, …).
``record_sha256`` closes it: the sha256 of the record without that key, as
:func:`record_text` writes it, so ``briefgen verify`` can tell an edited record from a
changed source.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from briefgen.brief.model import Brief
from briefgen.errors import RenderError

RECORD_HASH_KEY = "record_sha256"


def passage_key(doc_id: str, text: str) -> tuple[str, str]:
    """Identify a passage across runs: the same words from the same document."""
    return (doc_id, text)


def read_previous(path: Path | None) -> set[tuple[str, str]] | None:
    """Return the passages of a previous brief.json; ``None`` if there is no previous run."""
    return read_previous_brief(path)[0]


def read_previous_brief(path: Path | None) -> tuple[set[tuple[str, str]] | None, str | None]:
    """Return the passages and the date (as of, else generation day) of a previous brief.json."""
    if path is None or not Path(path).is_file():
        return None, None
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        passages = {
            passage_key(p["doc_id"], p["text"])
            for section in record["sections"]
            for p in section["passages"]
        }
        day = record.get("as_of") or str(record.get("generated_at") or "")[:10] or None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RenderError(f"{path}: cannot read the previous brief.json ({exc})") from exc
    return passages, day


def record_text(brief: Brief, files: Mapping[str, str] | None = None) -> str:
    """Return brief.json: the record, its own hash last; stable key order, UTF-8 text.

    ``files``: file name -> sha256 of every other file written with it.
    """
    record = brief_record(brief, files)
    record[RECORD_HASH_KEY] = record_digest(record)
    return dump(record)


def dump(record: Mapping[str, Any]) -> str:
    """Return a record as brief.json writes it."""
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def record_digest(record: Mapping[str, Any]) -> str:
    """Return the sha256 of a record without its ``record_sha256``, as brief.json writes it."""
    body = {k: v for k, v in record.items() if k != RECORD_HASH_KEY}
    return hashlib.sha256(dump(body).encode("utf-8")).hexdigest()


def brief_record(brief: Brief, files: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the brief.json audit record (without its own hash)."""
    window, corpus = brief.window, brief.corpus
    kinds = {s.doc_id: s.kind for s in brief.sources}
    return {
        "brief": brief.name,
        "title": brief.title,
        "generated_at": brief.generated_at,
        "as_of": brief.as_of,
        "window": {
            "from": window.date_from,
            "to": window.date_to,
            "dated_inside": window.dated_inside,
            "undated": window.undated,
            "undated_kept": window.undated_kept,
            "dated_later": window.dated_later,
        },
        "corpus": {
            "sources": corpus.source_count,
            "dated": corpus.dated_count,
            "date_from": corpus.date_from,
            "date_to": corpus.date_to,
            "snapshot_hash": corpus.snapshot_hash,
        },
        # start/end: where the quoted words (without "…") are in the cited passage's text.
        "key_points": [
            {
                "topic": k.topic,
                "text": k.excerpt,
                "citation": k.citation,
                "doc_id": brief.citations[k.citation - 1].doc_id,
                "start": k.start,
                "end": k.end,
                "kind": kinds.get(brief.citations[k.citation - 1].doc_id),
            }
            for k in brief.key_points
        ],
        "sections": [
            {
                "topic": s.topic,
                "title": s.title,
                "passages": [
                    {
                        "citation": q.citation.number,
                        "see_note": q.citation.see,
                        "doc_id": q.citation.doc_id,
                        "source_path": q.citation.source_path,
                        "start": q.citation.start,
                        "end": q.citation.end,
                        "text": q.citation.text,
                        "score": q.citation.score,
                        "also_reported_by": list(q.citation.also_reported_by),
                    }
                    for q in s.quotes
                ],
            }
            for s in brief.sections
        ],
        "sources": [
            {
                "doc_id": s.doc_id,
                "source_path": s.source_path,
                "title": s.title,
                "outlet": s.outlet,
                "author": s.author,
                "date": s.date,
                "url": s.url,
                "kind": s.kind,
                "sha256": s.sha256,
                "warnings": list(s.warnings),
                "cited_in": list(s.cited_in),
            }
            for s in brief.sources
        ],
        "new_since_previous": (
            None if brief.new_since_previous is None else list(brief.new_since_previous)
        ),
        "files": dict(files or {}),
    }
