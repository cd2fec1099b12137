"""The brief as plain data: sections, citations, sources, key points, warnings, method note.

Nothing here renders or computes anything: ``briefgen.brief.assemble`` builds a :class:`Brief`
from topic selections, ``briefgen.outputs`` turns it into Markdown, PDF and JSON. Citations are
numbered in reading order (key points first, then the sections), so the numbers in brief.md,
brief.pdf and brief.json agree — GitHub also numbers footnotes that way.
"""

from __future__ import annotations

from dataclasses import dataclass


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
