"""Assemble a Brief from topic selections: number the notes, pick the key points, name the sources.

Notes are numbered in reading order (key points first, then the sections), one per place a
passage is quoted: a passage quoted again (a key point's passage in its section, a passage in
two sections) gets a new, short note pointing to its first one, so the note numbers on any
page of the PDF run upwards. The plain data is in ``briefgen.brief.model``, how sources are
named and excerpts cut in ``briefgen.brief.cite``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from briefgen.brief.cite import (
    attribution,
    citation_note,
    description,
    excerpt_span,
    is_news,
    kind_label,
    marked,
    mentions,
    reader_name,
    short_note,
)
from briefgen.brief.model import (
    Brief,
    Citation,
    Concentration,
    CorpusSummary,
    KeyPoint,
    Quote,
    Section,
    SourceEntry,
    TopicNote,
    Window,
)
from briefgen.brief.record import passage_key
from briefgen.models import ScoredPassage, Source, TopicSelection
from briefgen.text import sentence_spans

if TYPE_CHECKING:  # annotations only: the render process need not import pydantic
    from briefgen.config.schema import BriefSpec, Topic

#: A scheduled brief whose newest cited source is older than this says so in its title block.
SCHEDULED_STALE_AFTER_DAYS = 7


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


@dataclass(frozen=True, slots=True)
class KeyPick:
    """A passage chosen as a key point, and the span of it the key point quotes."""

    topic: str
    title: str
    passage: ScoredPassage
    start: int
    end: int


def key_span(sp: ScoredPassage) -> tuple[int, int] | None:
    """Return the span of a passage a key point quotes, or None if no sentence carries the topic.

    The excerpt opens with the passage's key sentence (``ScoredPassage.key_sentence``) if it
    mentions one of the terms the passage matched, else with the first sentence that does.
    """
    text = sp.passage.text
    terms = tuple(term for term, _, _ in sp.hits)
    spans = sentence_spans(text)
    key = next((s for s in spans if s[0] <= sp.key_sentence < s[1]), spans[0] if spans else None)
    if key is None:
        return None
    for start, end in [key, *(s for s in spans if s != key)]:
        if not terms or mentions(text[start:end], terms):
            return excerpt_span(text, start, keep=terms)
    return None


def _news_first(sp: ScoredPassage) -> int:
    return 0 if is_news(sp.source.meta.kind) else 1


def pick_key_points(sections: list[TopicSelection], count: int) -> list[KeyPick]:
    """Choose the strongest passages: each topic's best first (in order), then the best overall.

    News reporting is preferred to analysis, opinion or summaries; a passage qualifies only
    if one of its sentences carries the topic's evidence (see :func:`key_span`).
    """
    chosen: list[KeyPick] = []
    seen: set[tuple[str, int]] = set()

    def take(sel: TopicSelection, sp: ScoredPassage) -> bool:
        key = (sp.passage.doc_id, sp.passage.ordinal)
        if len(chosen) >= count or key in seen:
            return False
        span = key_span(sp)
        if span is None:
            return False
        seen.add(key)
        chosen.append(KeyPick(sel.topic, sel.title, sp, *span))
        return True

    for sel in sections:
        for sp in sorted(sel.passages, key=_news_first):  # stable: best first within each kind
            if take(sel, sp):
                break
    rest = [(sel, sp) for sel in sections for sp in sel.passages]
    for sel, sp in sorted(rest, key=lambda item: (_news_first(item[1]), -item[1].score)):
        take(sel, sp)
    return chosen


class _Notes:
    """Numbers notes in reading order; a passage cited again gets a short note."""

    def __init__(self, previous: set[tuple[str, str]] | None) -> None:
        self.previous = previous
        self.citations: list[Citation] = []
        self.passages: list[ScoredPassage] = []
        self.first: dict[tuple[str, int], int] = {}

    def cite(self, sp: ScoredPassage) -> Citation:
        number = len(self.citations) + 1
        key = (sp.passage.doc_id, sp.passage.ordinal)
        see = self.first.setdefault(key, number)
        citation = _citation(number, sp, None if see == number else see, self.previous)
        self.citations.append(citation)
        self.passages.append(sp)
        return citation


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
    window: Window | None = None,
) -> Brief:
    """Number the notes in reading order and gather the sources they point to.

    ``topics``: the topics as selected (with the run's date window applied), for the appendix.
    """
    notes = _Notes(previous)
    key_points = []
    for pick in pick_key_points(selections, spec.key_points):
        note = notes.cite(pick.passage)
        key_points.append(KeyPoint(
            pick.topic, pick.title, marked(pick.passage.passage.text, pick.start, pick.end),
            note.number, pick.start, pick.end, attribution(pick.passage.source),
            kind_label(pick.passage.source), note.new,
        ))
    placed: dict[tuple[str, int], str] = {}  # passage -> title of the first section quoting it
    sections = []
    for sel in selections:
        quotes = []
        for sp in sel.passages:
            key = (sp.passage.doc_id, sp.passage.ordinal)
            quotes.append(Quote(notes.cite(sp), placed.get(key)))
            placed.setdefault(key, sel.title)
        sections.append(Section(sel.topic, sel.title, sel.description, tuple(quotes)))
    sources = _source_entries(notes.citations, notes.passages)
    citations = tuple(notes.citations)
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
        window=window or whole_corpus(corpus),
        latest_reporting=_latest_if_stale(sources, date, stale_limit(spec)),
        key_points=tuple(key_points),
        sections=tuple(sections),
        citations=citations,
        sources=sources,
        concentration=_concentration(citations, sources),
        topic_notes=tuple(
            TopicNote(sel.topic, sel.title, topic_rule(topics[sel.topic])) for sel in selections
        ),
        # New passages, each by its first note (so the title block counts passages, not notes).
        new_since_previous=(
            None if previous is None else tuple(c.number for c in citations if c.new and c.see is None)
        ),
        previous_date=previous_date if previous is not None else None,
    )


def whole_corpus(corpus: CorpusSummary) -> Window:
    """Return the window of a brief that draws on the whole corpus."""
    return Window(None, None, None, corpus.dated_count, corpus.source_count - corpus.dated_count,
                  True, 0)


def stale_limit(spec: BriefSpec) -> int | None:
    """Return the brief's staleness limit in days (None: never said)."""
    if spec.stale_after_days is not None:
        return spec.stale_after_days
    return SCHEDULED_STALE_AFTER_DAYS if spec.schedule is not None else None


def _latest_if_stale(sources: tuple[SourceEntry, ...], day: dt.date, limit: int | None) -> str | None:
    """Return the newest cited source's date when it is more than ``limit`` days before ``day``."""
    dates = []
    for s in sources:
        try:
            dates.append(dt.date.fromisoformat((s.date or "")[:10]))
        except ValueError:
            continue
    if limit is None or not dates:
        return None
    newest = max(dates)
    return newest.isoformat() if (day - newest).days > limit else None


def _concentration(citations: tuple[Citation, ...], sources: tuple[SourceEntry, ...]) -> tuple[Concentration, ...]:
    """Return the sources that supply a third or more of the quotes (key points included)."""
    total = len(citations)
    counts: dict[str, int] = {}
    for c in citations:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    return tuple(
        Concentration(s.label, counts[s.doc_id], total)
        for s in sources
        if total >= 3 and 3 * counts.get(s.doc_id, 0) >= total
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


def _citation(
    number: int, sp: ScoredPassage, see: int | None, previous: set[tuple[str, str]] | None
) -> Citation:
    """Build the note of a selected passage (and its merged near-duplicates)."""
    others = other_reports(sp)
    if see is not None:
        note = short_note(sp.source, sp.passage.ordinal, see)
    else:
        note = citation_note(sp.source, sp.passage.ordinal)
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
        also_reported_labels=tuple(attribution(c.source) for c in others),
        label=attribution(sp.source),
        kind_label=kind_label(sp.source),
        note=note,
        see=see,
        new=previous is not None and passage_key(sp.passage.doc_id, sp.passage.text) not in previous,
    )


def _source_entries(
    citations: list[Citation], passages: list[ScoredPassage]
) -> tuple[SourceEntry, ...]:
    """List every cited source once (quoted or merged as a near-duplicate), in note order."""
    sources: dict[str, Source] = {}
    cited_in: dict[str, list[int]] = {}
    for citation, sp in zip(citations, passages, strict=True):
        for src in (sp.source, *(c.source for c in other_reports(sp))):
            sources.setdefault(src.doc_id, src)
            numbers = cited_in.setdefault(src.doc_id, [])
            if citation.number not in numbers:
                numbers.append(citation.number)
    return tuple(
        SourceEntry(
            doc_id=s.doc_id,
            source_path=s.source_path,
            title=s.meta.title,
            outlet=s.meta.outlet,
            author=s.meta.author,
            date=s.meta.date,
            url=s.meta.url,
            kind=s.meta.kind,
            sha256=s.sha256,
            warnings=tuple(s.warnings),
            label=reader_name(s),
            description=description(s),
            kind_label=kind_label(s),
            cited_in=tuple(cited_in[s.doc_id]),
        )
        for s in sources.values()
    )
