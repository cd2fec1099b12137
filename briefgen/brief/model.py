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
    """One numbered note: a quoted passage and where it comes from.

    Every place that quotes a passage has its own note, so note numbers run in reading order
    on every page; a passage cited again gets a short note pointing to its first one (``see``).
    """

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
    label: str  # the attribution line: who, when, and the kind of source if not news
    kind_label: str | None  # "Analysis", "Opinion", "AI-generated summary"…; None for news
    note: str  # Author, “Title,” Outlet, date, ¶ n. (or the short form with "see note N")
    see: int | None  # the passage's first note, when this one cites it again
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

    topic: str  # the topic's key
    topic_title: str
    excerpt: str  # verbatim from the cited passage, "…" exactly where it starts or stops inside it
    citation: int
    start: int  # where the excerpt (without "…") starts and ends in the cited passage's text
    end: int
    label: str  # the attribution (as under a quote)
    kind_label: str | None  # set when the passage is not news reporting
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
    kind: str | None  # as recorded (corpus.yaml, the article, the page)
    sha256: str
    warnings: tuple[str, ...]
    label: str  # as a reader names it: outlet, author, short title or a description
    description: str  # what is known of it, for a source without outlet, author and title
    kind_label: str | None  # what a reader is told when it is not news reporting
    cited_in: tuple[int, ...]  # note numbers that quote or mention it


@dataclass(frozen=True, slots=True)
class CorpusSummary:
    """What the corpus covers, for the title block and the method note."""

    source_count: int
    dated_count: int  # how many sources state a date (the range covers only those)
    date_from: str | None
    date_to: str | None
    snapshot_hash: str


@dataclass(frozen=True, slots=True)
class Window:
    """The dates a brief draws on, and how many of the corpus's sources fall inside."""

    date_from: str | None  # inclusive; None: no lower bound
    date_to: str | None  # inclusive; None: no upper bound
    as_of: str | None  # --as-of: the corpus as it stood that day (sources dated later left out)
    dated_inside: int  # sources dated inside [date_from, date_to]
    undated: int  # sources without a date
    undated_kept: bool  # undated sources can be quoted (no start date: nothing to place them in)
    dated_later: int  # sources dated after date_to, left out

    @property
    def bounded(self) -> bool:
        """Tell whether the brief has a window at all (else it draws on the whole corpus)."""
        return self.date_from is not None or self.date_to is not None


@dataclass(frozen=True, slots=True)
class Concentration:
    """A source that supplies a third or more of a brief's quotes (its notes, key points included)."""

    label: str
    quotes: int
    total: int


@dataclass(frozen=True, slots=True)
class TopicNote:
    """How one topic selected its passages, for the method note's appendix."""

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
    generated_at: str  # when it was built (UTC), whatever --as-of says
    version: str
    corpus: CorpusSummary
    window: Window
    latest_reporting: str | None  # the newest cited source's date, when older than the limit
    key_points: tuple[KeyPoint, ...]
    sections: tuple[Section, ...]
    citations: tuple[Citation, ...]  # by number, 1..n
    sources: tuple[SourceEntry, ...]  # in the order of their first note
    concentration: tuple[Concentration, ...]
    topic_notes: tuple[TopicNote, ...]
    new_since_previous: tuple[int, ...] | None  # first notes of new passages; None: no previous run
    previous_date: str | None = None  # the date of the brief compared with, if known

    @property
    def keywords(self) -> list[str]:
        """Return the section titles (the PDF's keywords)."""
        return [s.title for s in self.sections]

    @property
    def warnings(self) -> list[tuple[SourceEntry, str]]:
        """Return every (source, warning) pair carried from the cited sources."""
        return [(s, w) for s in self.sources for w in s.warnings]

    @property
    def quote_count(self) -> int:
        """Return how many distinct passages the sections quote."""
        return len({(q.citation.doc_id, q.citation.ordinal) for s in self.sections for q in s.quotes})
