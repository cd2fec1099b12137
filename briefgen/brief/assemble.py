"""Assemble a Brief from topic selections: number the citations, pick the key points.

Citations are numbered in reading order (key points first, then the sections); a passage
quoted again in a later section keeps its number and is marked as a repeat. The plain data
is in ``briefgen.brief.model``, the naming of sources and excerpts in ``briefgen.brief.cite``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from briefgen.brief.cite import citation_note, excerpt, source_label
from briefgen.brief.model import (
    Brief,
    Citation,
    CorpusSummary,
    KeyPoint,
    Quote,
    Section,
    SourceEntry,
    TopicNote,
)
from briefgen.brief.record import passage_key
from briefgen.models import ScoredPassage, Source, TopicSelection

if TYPE_CHECKING:  # annotations only: the render process need not import pydantic
    from briefgen.config.schema import BriefSpec, Topic


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
