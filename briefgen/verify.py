"""Re-check a brief.json against the corpus as it is now.

Every quote must still be exactly ``normalize(text[start:end])`` of its source, and every
cited source must still have the sha256 recorded in the brief. The report says which
citation, which file and what differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefgen.config.schema import LoadedConfig
from briefgen.errors import VerifyError
from briefgen.models import Document


@dataclass(frozen=True)
class Problem:
    """One thing in the brief that the corpus no longer supports."""

    where: str  # "note 3" or the source path
    message: str


@dataclass
class VerifyReport:
    """The outcome of verifying one brief.json."""

    path: Path
    quotes: int = 0
    sources: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when every quote and source still matches."""
        return not self.problems

    def format(self) -> str:
        """Return the report as text: one line when all is well, one line per problem otherwise."""
        if self.ok:
            return (
                f"{self.path}: ok — {self.quotes} quote(s) from {self.sources} source(s) "
                "match the corpus"
            )
        lines = [f"{self.path}: {len(self.problems)} problem(s)"]
        lines += [f"  {p.where}: {p.message}" for p in self.problems]
        return "\n".join(lines)


def verify_brief(path: Path, cfg: LoadedConfig) -> VerifyReport:
    """Re-read every cited source and compare it with what the brief recorded."""
    from briefgen.corpus.files import load_document
    from briefgen.text import normalize

    record = _read_record(path)
    report = VerifyReport(Path(path))
    sources = {s["doc_id"]: s for s in record["sources"]}
    documents: dict[str, Document | None] = {}
    for doc_id, src in sources.items():
        doc = documents[doc_id] = load_document(cfg, src["source_path"], doc_id)
        report.sources += 1
        if doc is None:
            report.problems.append(Problem(
                src["source_path"], f"source {doc_id} is missing or can no longer be read"
            ))
        elif doc.source.sha256 != src["sha256"]:
            report.problems.append(Problem(
                src["source_path"],
                f"source {doc_id} changed since the brief was built "
                f"(sha256 {src['sha256'][:12]}… is now {doc.source.sha256[:12]}…)",
            ))

    seen: set[int] = set()
    for section in record["sections"]:
        for p in section["passages"]:
            if p["citation"] in seen:
                continue  # the same citation in a later section was checked already
            seen.add(p["citation"])
            report.quotes += 1
            where = f"note {p['citation']} ({p['source_path']})"
            for doc_id in (p["doc_id"], *p["also_reported_by"]):
                if doc_id not in sources:
                    report.problems.append(Problem(where, f"source {doc_id} is not in the sources list"))
            doc = documents.get(p["doc_id"])
            if doc is None:
                continue  # already reported as missing (or not listed)
            current = normalize(doc.text[p["start"] : p["end"]])
            if current != p["text"]:
                report.problems.append(Problem(where, _describe_difference(p, current, doc)))
    return report


def _read_record(path: Path) -> dict[str, Any]:
    """Read brief.json, checking the parts verify relies on."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VerifyError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VerifyError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise VerifyError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    try:
        for src in record["sources"]:
            _ = (src["doc_id"], src["source_path"], src["sha256"])
        for section in record["sections"]:
            for p in section["passages"]:
                _ = (p["citation"], p["doc_id"], p["source_path"], p["text"])
                if not isinstance(p["start"], int) or not isinstance(p["end"], int):
                    raise TypeError("start/end must be integers")
                if not isinstance(p["also_reported_by"], list):
                    raise TypeError("also_reported_by must be a list")
    except (KeyError, TypeError) as exc:
        raise VerifyError(f"{path}: not a brief.json record (missing or bad {exc})") from None
    return record  # type: ignore[no-any-return]


def _describe_difference(p: dict[str, Any], current: str, doc: Document) -> str:
    """Say precisely how a quote differs from its source span now."""
    quote = p["text"]
    span = f"characters {p['start']}–{p['end']}"
    moved = next((q for q in doc.passages if q.text == quote), None)
    if moved is not None:
        return (
            f"quote moved: {span} no longer hold it; it is now at "
            f"{moved.start}–{moved.end} (¶ {moved.ordinal})"
        )
    if not current:
        return f"quote no longer matches: {span} are past the end of the source"
    i = next((k for k, (a, b) in enumerate(zip(quote, current)) if a != b), min(len(quote), len(current)))
    lo = max(0, i - 20)
    return (
        f"quote no longer matches at {span}: from character {i} the brief has "
        f"{_snippet(quote, lo, i)} but the source now has {_snippet(current, lo, i)}"
    )


def _snippet(text: str, lo: int, i: int) -> str:
    """Return a short quoted excerpt around position ``i``."""
    return json.dumps(("…" if lo else "") + text[lo : i + 30] + ("…" if i + 30 < len(text) else ""),
                      ensure_ascii=False)
