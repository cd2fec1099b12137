"""Re-check a brief.json, and the files written with it, against the corpus as it is now.

Every quote must still be exactly ``normalize(text[start:end])`` of its source; every key point
must still be its passage's words; every file written with the record (brief.md, brief.pdf…)
must still have the sha256 recorded; the record itself must still hash to its
``record_sha256``. Each check is one function below. A finding says what changed — the
source, or the record and its files — and is either a problem (exit 1) or a warning: a quote
still verbatim in its source but at another place, a source whose bytes changed while every
quote from it still holds, an output file that is not there to check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from briefgen._fs import sha256_file
from briefgen.brief.record import RECORD_HASH_KEY, record_digest
from briefgen.config.schema import LoadedConfig
from briefgen.errors import VerifyError
from briefgen.models import Document
from briefgen.names import printable

SOURCE_CHANGED = "the source changed since the brief was built"
RECORD_CHANGED = "the record changed: the source is as it was when the brief was built"


@dataclass(frozen=True)
class Problem:
    """One thing in the brief that the corpus (or its own files) no longer supports."""

    where: str  # "note 3 (seeds/a.txt)", a source path, or a file name
    message: str


@dataclass
class VerifyReport:
    """The outcome of verifying one brief.json."""

    path: Path
    quotes: int = 0
    sources: int = 0
    files: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when nothing is wrong (warnings allowed)."""
        return not self.problems

    def format(self) -> str:
        """Return the report: a summary line, then one line per problem and per warning."""
        if self.ok:
            files = f"; {self.files} file(s) as written" if self.files else ""
            summary = (f"{self.path}: ok — {self.quotes} quote(s) from {self.sources} source(s) "
                       f"match the corpus{files}")
            lines = [summary]
        else:
            lines = [f"{self.path}: {len(self.problems)} problem(s)"]
            lines += [printable(f"  {p.where}: {p.message}") for p in self.problems]
        lines += [printable(f"  warning: {w.where}: {w.message}") for w in self.warnings]
        return "\n".join(lines)


def verify_brief(path: Path, cfg: LoadedConfig) -> VerifyReport:
    """Re-read every cited source and file and compare them with what the brief recorded."""
    record = _read_record(path)
    report = VerifyReport(Path(path))
    check_record_hash(record, report)
    documents = check_sources(record, cfg, report)
    check_quotes(record, documents, report)
    check_key_points(record, report)
    check_files(record, Path(path).parent, report)
    return report


def check_record_hash(record: dict[str, Any], report: VerifyReport) -> None:
    """Report a record edited after it was written (its content no longer hashes to its hash)."""
    recorded = record.get(RECORD_HASH_KEY)
    if recorded is not None and recorded != record_digest(record):
        report.problems.append(Problem(
            report.path.name,
            "edited since it was written (its content no longer matches its record_sha256): "
            "the record changed",
        ))


def check_sources(
    record: dict[str, Any], cfg: LoadedConfig, report: VerifyReport
) -> dict[str, Document | None]:
    """Re-read each cited source; report one that is gone, and one whose bytes changed."""
    from briefgen.corpus.files import load_document

    documents: dict[str, Document | None] = {}
    for src in record["sources"]:
        doc_id = src["doc_id"]
        report.sources += 1
        outside = _outside_corpus(cfg, src["source_path"])
        if outside:  # a forged record: never read, and a problem
            documents[doc_id] = None
            report.problems.append(Problem(src["source_path"], outside))
            continue
        doc = documents[doc_id] = load_document(cfg, src["source_path"], doc_id)
        if doc is None:
            report.problems.append(Problem(
                src["source_path"],
                f"source {doc_id} is missing or can no longer be read: {SOURCE_CHANGED}",
            ))
        elif doc.source.sha256 != src["sha256"]:
            # Its quotes decide: a source edited elsewhere (a line added above) still holds them.
            report.warnings.append(Problem(
                src["source_path"],
                f"source {doc_id} changed since the brief was built "
                f"(sha256 {src['sha256'][:12]}… is now {doc.source.sha256[:12]}…)",
            ))
    return documents


def _outside_corpus(cfg: LoadedConfig, source_path: object) -> str | None:
    """Say why a recorded source path is not a file of the corpus (None: it is one).

    A forged brief.json could cite "../x.txt" or /etc/passwd with a matching sha256: only a
    file inside the corpus folder (links resolved) can back a quote.
    """
    from briefgen.corpus.discover import inside_corpus

    if not isinstance(source_path, str) or not source_path or "\x00" in source_path:
        return f"source path {source_path!r} is not a file path"
    if inside_corpus(cfg, cfg.resolve(source_path)):
        return None
    return (
        f"source path {source_path!r} is outside the corpus folder "
        f"({cfg.config.corpus.path}); briefgen never cites such a file"
    )


def check_quotes(
    record: dict[str, Any], documents: dict[str, Document | None], report: VerifyReport
) -> None:
    """Check every quoted passage against its source span; say where a moved quote is now."""
    from briefgen.text import normalize

    listed = {s["doc_id"]: s for s in record["sources"]}
    seen: set[tuple[str, int, int, str]] = set()
    for section in record["sections"]:
        for p in section["passages"]:
            key = (p["doc_id"], p["start"], p["end"], p["text"])
            if key in seen:
                continue  # the same passage quoted again was checked already
            seen.add(key)
            report.quotes += 1
            where = f"note {p['citation']} ({p['source_path']})"
            for doc_id in (p["doc_id"], *p["also_reported_by"]):
                if doc_id not in listed:
                    report.problems.append(Problem(
                        where, f"source {doc_id} is not in the sources list: the record changed"
                    ))
            doc = documents.get(p["doc_id"])
            if doc is None:
                continue  # already reported as missing (or not listed)
            if normalize(doc.text[p["start"] : p["end"]]) == p["text"]:
                continue
            moved = next((q for q in doc.passages if q.text == p["text"]), None)
            if moved is not None:
                report.warnings.append(Problem(where, (
                    f"quote moved but is still verbatim: characters {p['start']}–{p['end']} "
                    f"no longer hold it; it is now at {moved.start}–{moved.end} (¶ {moved.ordinal})"
                )))
                continue
            unchanged = doc.source.sha256 == listed.get(p["doc_id"], {}).get("sha256")
            report.problems.append(Problem(
                where, _describe_difference(p, normalize(doc.text[p["start"] : p["end"]]), unchanged)
            ))


def check_key_points(record: dict[str, Any], report: VerifyReport) -> None:
    """Check that each key point is still the words of a passage the record quotes."""
    quoted: dict[str, list[str]] = {}
    for section in record["sections"]:
        for p in section["passages"]:
            quoted.setdefault(p["doc_id"], []).append(p["text"])
    for point in record.get("key_points", []):
        words = point["text"].removeprefix("…").removesuffix("…").rstrip(" ")
        texts = quoted.get(point["doc_id"], [])
        if not any(t[point["start"] : point["end"]] == words for t in texts):
            report.problems.append(Problem(
                f"key point (note {point['citation']})",
                "is not the words of its passage at the recorded place: the record changed",
            ))


def check_files(record: dict[str, Any], folder: Path, report: VerifyReport) -> None:
    """Check that each file written with the record still has the sha256 recorded."""
    for name, recorded in record.get("files", {}).items():
        path = folder / name
        if Path(name).name != name:
            report.problems.append(Problem(name, "not a file name beside brief.json: the record changed"))
            continue
        try:
            actual = sha256_file(path)
        except FileNotFoundError:
            report.warnings.append(Problem(name, "not found beside brief.json; not checked"))
            continue
        except OSError as exc:
            report.problems.append(Problem(name, f"cannot be read ({exc.strerror or exc})"))
            continue
        report.files += 1
        if actual != recorded:
            report.problems.append(Problem(name, (
                f"changed since the brief was built (sha256 {recorded[:12]}… is now "
                f"{actual[:12]}…): the file was edited or replaced, not the sources"
            )))


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
        for point in record.get("key_points", []):
            _ = (point["citation"], point["doc_id"], point["text"] + "")
            if not isinstance(point["start"], int) or not isinstance(point["end"], int):
                raise TypeError("key point start/end must be integers")
        if not isinstance(record.get("files", {}), dict):
            raise TypeError("files must be a mapping")
    except (KeyError, TypeError) as exc:
        raise VerifyError(f"{path}: not a brief.json record (missing or bad {exc})") from None
    return record  # type: ignore[no-any-return]


def _describe_difference(p: dict[str, Any], current: str, source_unchanged: bool) -> str:
    """Say precisely how a quote differs from its source span now, and which side changed."""
    quote = p["text"]
    span = f"characters {p['start']}–{p['end']}"
    cause = RECORD_CHANGED if source_unchanged else SOURCE_CHANGED
    if not current:
        return f"quote no longer matches: {span} are past the end of the source ({cause})"
    i = next((k for k, (a, b) in enumerate(zip(quote, current)) if a != b), min(len(quote), len(current)))
    lo = max(0, i - 20)
    return (
        f"quote no longer matches at {span}: from character {i} the brief has "
        f"{_snippet(quote, lo, i)} but the source now has {_snippet(current, lo, i)} ({cause})"
    )


def _snippet(text: str, lo: int, i: int) -> str:
    """Return a short quoted excerpt around position ``i``."""
    return json.dumps(("…" if lo else "") + text[lo : i + 30] + ("…" if i + 30 < len(text) else ""),
                      ensure_ascii=False)
