"""The brief as plain data: sections, citations, sources, key points, warnings, method note.

Nothing here renders anything: ``briefgen.outputs`` turns a :class:`Brief` into its files, and
``record`` is its brief.json. Citations are numbered in reading order (key points first, then
the sections), so the numbers in brief.md, brief.pdf and brief.json agree — GitHub also
numbers footnotes that way.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.brief.record import passage_key
from briefgen.models import ScoredPassage, Source, TopicSelection

if TYPE_CHECKING:  # annotations only: the render process need not import pydantic
    from briefgen.config.schema import BriefSpec, Topic

NO_REPORTING = "No relevant reporting in this corpus."
SENTENCE_MAX_CHARS = 320  # a key point keeps a sentence up to this long whole
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
# A sentence ends at . ! ? (optionally followed by a closing quote) and a space.
_SENTENCE_END = re.compile(r"[.!?][\"”’']?(?= )")
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


@dataclass(frozen=True, slots=True)
class Citation:
    """One numbered note: a quoted passage and where it comes from."""

    number: int
    doc_id: str
    source_path: str
    ordinal: int  # ¶ n: the passage's position in its cleaned article
    start: int
    end: int
    text: str  # the verbatim passage text (normalized source span)
    score: float
    also_reported_by: tuple[str, ...]  # doc_ids of merged near-duplicates
    also_reported_labels: tuple[str, ...]  # the same sources, as a reader names them
    label: str  # the cited source as a reader names it: outlet, else (short) title, else file
    note: str  # Chicago-like: Outlet, “Title,” date, ¶ n.
    new: bool  # not in the previous run's brief (always False without a previous run)


@dataclass(frozen=True, slots=True)
class Quote:
    """A passage in a section; ``repeat_of`` names the earlier section that already quotes it."""

    citation: Citation
    repeat_of: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """One topic's part of the brief."""

    topic: str
    title: str
    description: str
    quotes: tuple[Quote, ...]


@dataclass(frozen=True, slots=True)
class KeyPoint:
    """One of the strongest passages, shortened to the sentence(s) that state its topic best."""

    topic_title: str
    excerpt: str  # verbatim from the cited passage, "…" where it starts or stops inside it
    citation: int
    new: bool = False  # its passage was not in the previous run's brief


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """A cited source, for the sources list and brief.json."""

    doc_id: str
    source_path: str
    title: str | None
    outlet: str | None
    author: str | None
    date: str | None
    url: str | None
    sha256: str
    warnings: tuple[str, ...]
    label: str
    cited_in: tuple[int, ...]  # citation numbers that quote or mention it


@dataclass(frozen=True, slots=True)
class CorpusSummary:
    """What the corpus covers, for the title block and the method note."""

    source_count: int
    dated_count: int  # how many sources state a date (the range covers only those)
    date_from: str | None
    date_to: str | None
    snapshot_hash: str


@dataclass(frozen=True, slots=True)
class TopicNote:
    """How one topic selected its passages, for the method note."""

    key: str
    title: str
    rule: str  # one plain-language line: terms and weights, requirements, limits, window


@dataclass(frozen=True, slots=True)
class Brief:
    """Everything a reader receives, as plain data."""

    name: str
    title: str
    subtitle: str | None
    author: str | None
    paper: str
    date: str  # the brief's "today" (YYYY-MM-DD): --as-of, else the build day
    as_of: str | None
    generated_at: str
    version: str
    corpus: CorpusSummary
    key_points: tuple[KeyPoint, ...]
    sections: tuple[Section, ...]
    citations: tuple[Citation, ...]  # by number, 1..n
    sources: tuple[SourceEntry, ...]
    topic_notes: tuple[TopicNote, ...]
    new_since_previous: tuple[int, ...] | None  # None: no previous run to compare with
    previous_date: str | None = None  # the date of the brief compared with, if known

    @property
    def keywords(self) -> list[str]:
        """Return the section titles (the PDF's keywords)."""
        return [s.title for s in self.sections]

    @property
    def warnings(self) -> list[tuple[SourceEntry, str]]:
        """Return every (source, warning) pair carried from the cited sources."""
        return [(s, w) for s in self.sources for w in s.warnings]

    def to_dict(self) -> dict[str, Any]:
        """Return the brief as plain JSON-able data (everything, not the brief.json record)."""
        return asdict(self)


def long_date(value: str | None) -> str:
    """Format an ISO date as "March 12, 2026"; other strings pass unchanged."""
    if not value:
        return ""
    m = _ISO_DATE.match(value)
    if not m:
        return value
    year, month, day = (int(g) for g in m.groups())
    if not 1 <= month <= 12:
        return value
    return f"{_MONTHS[month - 1]} {day}, {year}"


def source_label(source: Source, *, max_chars: int | None = None) -> str:
    """Name a source as a reader would: its outlet, else its title, else its file name."""
    meta = source.meta
    if meta.outlet:
        return meta.outlet
    if meta.title:
        return shorten(meta.title, max_chars) if max_chars else meta.title
    return Path(source.source_path).name


def shorten(text: str, max_chars: int) -> str:
    """Cut text at a word boundary to at most ``max_chars`` characters, marking the cut with "…"."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > 0 else max_chars].rstrip(" ,;:") + "…"


def citation_note(source: Source, ordinal: int) -> str:
    """Return the Chicago-like note "Outlet, “Title,” date, ¶ n." leaving out what is unknown."""
    meta = source.meta
    parts: list[str] = []
    if meta.outlet:
        parts.append(meta.outlet)
    # A note needs something to name the work: the title, else the file it came from.
    parts.append(f"“{meta.title}”" if meta.title else Path(source.source_path).name)
    if meta.date:
        parts.append(long_date(meta.date))
    parts.append(f"¶ {ordinal}")
    note = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part.endswith("”") and not last:
            note += part[:-1] + ",” "  # Chicago puts the comma inside the closing quote
        else:
            note += part + ("." if last else ", ")
    return note


def excerpt(text: str, *, start: int = 0, min_chars: int = 60, max_chars: int = 240) -> str:
    """Return the sentence(s) of a passage from ``start`` on, verbatim, with "…" for each cut.

    From the start of the passage, that is its opening sentence(s); from a later sentence,
    the excerpt begins with "…". A single sentence up to ``SENTENCE_MAX_CHARS`` is kept whole
    rather than cut mid-sentence.
    """
    if start > 0:
        return "…" + excerpt(text[start:], min_chars=min_chars, max_chars=max_chars)
    first = _SENTENCE_END.search(text)
    first_end = first.end() if first else len(text)
    if max_chars < first_end <= SENTENCE_MAX_CHARS:
        return text[:first_end]
    if len(text) <= max_chars:
        end = None
        for m in _SENTENCE_END.finditer(text):
            if m.end() >= min_chars:
                end = m.end()
                break
        return text if end is None else text[:end]
    for m in _SENTENCE_END.finditer(text):
        if min_chars <= m.end() <= max_chars:
            return text[: m.end()]
        if m.end() > max_chars:
            break
    return shorten(text, max_chars)


def topic_rule(topic: Topic) -> str:
    """Describe in one line how a topic selects passages."""
    terms = ", ".join(f"{term} ({weight:g})" for term, weight in topic.terms.items())
    rule = f"terms: {terms or 'none'}"
    if topic.require:
        rule += f"; requires one of: {', '.join(topic.require)}"
    if topic.exclude:
        rule += f"; excludes: {', '.join(topic.exclude)}"
    rule += f"; minimum score {topic.min_score:g}"
    rule += f"; at most {topic.max_passages} passages, {topic.max_per_source} per source"
    if topic.date_from or topic.date_to:
        rule += f"; dated {topic.date_from or '…'} to {topic.date_to or '…'}"
    if topic.within_days:
        rule += f"; within {topic.within_days} days of the brief's date"
    return rule + "."


def pick_key_points(sections: list[TopicSelection], count: int) -> list[tuple[str, ScoredPassage]]:
    """Choose the strongest passages: each topic's best first (in order), then the best overall."""
    chosen: list[tuple[str, ScoredPassage]] = []
    seen: set[tuple[str, int]] = set()

    def take(title: str, sp: ScoredPassage) -> None:
        key = (sp.passage.doc_id, sp.passage.ordinal)
        if len(chosen) < count and key not in seen:
            seen.add(key)
            chosen.append((title, sp))

    for sel in sections:
        if sel.passages:
            take(sel.title, sel.passages[0])
    rest = [(sel.title, sp) for sel in sections for sp in sel.passages[1:]]
    for title, sp in sorted(rest, key=lambda item: -item[1].score):  # stable: ties keep order
        take(title, sp)
    return chosen


def assemble_brief(
    name: str,
    spec: BriefSpec,
    topics: dict[str, Topic],
    selections: list[TopicSelection],
    corpus: CorpusSummary,
    *,
    date: dt.date,
    as_of: dt.date | None,
    generated_at: str,
    version: str,
    previous: set[tuple[str, str]] | None = None,
    previous_date: str | None = None,
) -> Brief:
    """Number the citations in reading order and gather the sources they point to."""
    key_points = pick_key_points(selections, spec.key_points)
    numbers: dict[tuple[str, int], int] = {}
    order: list[ScoredPassage] = []

    def number(sp: ScoredPassage) -> int:
        key = (sp.passage.doc_id, sp.passage.ordinal)
        if key not in numbers:
            order.append(sp)
            numbers[key] = len(order)
        return numbers[key]

    kp_numbers = [number(sp) for _, sp in key_points]
    placed: dict[int, str] = {}  # citation number -> title of the first section quoting it
    section_quotes: list[list[tuple[int, str | None]]] = []
    for sel in selections:
        quotes = []
        for sp in sel.passages:
            n = number(sp)
            quotes.append((n, placed.get(n)))
            placed.setdefault(n, sel.title)
        section_quotes.append(quotes)

    citations = tuple(_citation(i, sp, previous) for i, sp in enumerate(order, start=1))
    by_number = {c.number: c for c in citations}
    return Brief(
        name=name,
        title=spec.title,
        subtitle=spec.subtitle,
        author=spec.author,
        paper=spec.paper,
        date=date.isoformat(),
        as_of=as_of.isoformat() if as_of else None,
        generated_at=generated_at,
        version=version,
        corpus=corpus,
        key_points=tuple(
            KeyPoint(title, excerpt(sp.passage.text, start=sp.key_sentence), n, by_number[n].new)
            for (title, sp), n in zip(key_points, kp_numbers, strict=True)
        ),
        sections=tuple(
            Section(sel.topic, sel.title, sel.description,
                    tuple(Quote(by_number[n], repeat) for n, repeat in quotes))
            for sel, quotes in zip(selections, section_quotes, strict=True)
        ),
        citations=citations,
        sources=_source_entries(order),
        topic_notes=tuple(
            TopicNote(sel.topic, sel.title, topic_rule(topics[sel.topic])) for sel in selections
        ),
        new_since_previous=(
            None if previous is None else tuple(c.number for c in citations if c.new)
        ),
        previous_date=previous_date if previous is not None else None,
    )


def other_reports(sp: ScoredPassage) -> list[ScoredPassage]:
    """Return the merged near-duplicates from other sources, one per source, in order."""
    seen = {sp.source.doc_id}
    others = []
    for c in sp.corroborated_by:
        if c.source.doc_id not in seen:  # a repeat within the same article corroborates nothing
            seen.add(c.source.doc_id)
            others.append(c)
    return others


def _citation(number: int, sp: ScoredPassage, previous: set[tuple[str, str]] | None) -> Citation:
    """Build the citation of a selected passage (and its merged near-duplicates)."""
    note = citation_note(sp.source, sp.passage.ordinal)
    others = other_reports(sp)
    if others:
        also = "; ".join(citation_note(c.source, c.passage.ordinal).rstrip(".") for c in others)
        note = f"{note} Also reported by {also}."
    return Citation(
        number=number,
        doc_id=sp.passage.doc_id,
        source_path=sp.source.source_path,
        ordinal=sp.passage.ordinal,
        start=sp.passage.start,
        end=sp.passage.end,
        text=sp.passage.text,
        score=round(sp.score, 6),
        also_reported_by=tuple(c.source.doc_id for c in others),
        also_reported_labels=tuple(source_label(c.source, max_chars=60) for c in others),
        label=source_label(sp.source, max_chars=60),
        note=note,
        new=previous is not None and passage_key(sp.passage.doc_id, sp.passage.text) not in previous,
    )


def _source_entries(order: list[ScoredPassage]) -> tuple[SourceEntry, ...]:
    """List every cited source once (quoted or merged as a near-duplicate), alphabetically."""
    sources: dict[str, Source] = {}
    cited_in: dict[str, list[int]] = {}
    for n, sp in enumerate(order, start=1):
        for src in (sp.source, *(c.source for c in other_reports(sp))):
            sources.setdefault(src.doc_id, src)
            if n not in cited_in.setdefault(src.doc_id, []):
                cited_in[src.doc_id].append(n)
    entries = [
        SourceEntry(
            doc_id=s.doc_id,
            source_path=s.source_path,
            title=s.meta.title,
            outlet=s.meta.outlet,
            author=s.meta.author,
            date=s.meta.date,
            url=s.meta.url,
            sha256=s.sha256,
            warnings=tuple(s.warnings),
            label=source_label(s),
            cited_in=tuple(cited_in[s.doc_id]),
        )
        for s in sources.values()
    ]
    return tuple(sorted(entries, key=lambda e: (e.label.casefold(), e.doc_id)))
