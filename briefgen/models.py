"""Plain data shared by the pipeline stages: sources, passages, selections."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SourceMeta:
    """What is known about an article; ``None`` where the source does not say."""

    title: str | None = None
    outlet: str | None = None
    author: str | None = None
    date: str | None = None  # ISO 8601 date (YYYY-MM-DD) or datetime
    url: str | None = None
    kind: str | None = None  # news, analysis, aggregator, opinion, ...


@dataclass(frozen=True, slots=True)
class Passage:
    """A paragraph-level quote: exactly ``normalize(source_text[start:end])``."""

    doc_id: str
    ordinal: int  # 1-based position among the document's passages: the "¶ n" locator
    start: int  # character offsets into the decoded source text
    end: int
    text: str
    section: str | None = None  # the heading the passage sits under, if any


@dataclass(frozen=True, slots=True)
class Source:
    """A document as the index knows it, without its text."""

    doc_id: str
    source_path: str  # relative to the project root (POSIX separators)
    sha256: str  # of the source bytes (a file) or of the record's text (a JSONL record)
    meta: SourceMeta = field(default_factory=SourceMeta)
    warnings: tuple[str, ...] = ()  # e.g. "This content is AI-generated ..."


@dataclass(frozen=True, slots=True)
class Document:
    """A decoded and cleaned article with its passages."""

    source: Source
    text: str  # the decoded source text that passage offsets point into
    passages: tuple[Passage, ...]


@dataclass(frozen=True, slots=True)
class ScoredPassage:
    """A passage selected for a topic, with why it was chosen."""

    passage: Passage
    source: Source
    score: float
    matched: tuple[str, ...]  # topic terms/phrases found in the passage
    corroborated_by: tuple[ScoredPassage, ...] = ()  # near-duplicates merged into this one
    key_sentence: int = 0  # where in passage.text the sentence that best states the topic begins
    hits: tuple[tuple[str, float, int], ...] = ()  # (term, weight, occurrences), in topic order
    parts: tuple[tuple[str, float], ...] = ()  # (signal, value): the parts that add up to score


@dataclass(frozen=True, slots=True)
class TopicSelection:
    """The passages chosen for one topic, best first."""

    topic: str  # the topic's key in the config
    title: str
    description: str
    passages: tuple[ScoredPassage, ...]
