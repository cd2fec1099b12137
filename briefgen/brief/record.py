"""The brief's JSON record (brief.json), and reading the previous run's record back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from briefgen.brief.model import Brief
from briefgen.errors import RenderError


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


def brief_record(brief: Brief) -> dict[str, Any]:
    """Return the brief.json audit record (the shape fixed by issue 4, plus new_since_previous)."""
    return {
        "brief": brief.name,
        "title": brief.title,
        "generated_at": brief.generated_at,
        "as_of": brief.as_of,
        "sections": [
            {
                "topic": s.topic,
                "title": s.title,
                "passages": [
                    {
                        "citation": q.citation.number,
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
                "sha256": s.sha256,
                "warnings": list(s.warnings),
            }
            for s in brief.sources
        ],
        "new_since_previous": (
            None if brief.new_since_previous is None else list(brief.new_since_previous)
        ),
    }
