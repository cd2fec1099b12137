"""The configuration schema: typed models with a docstring on every field.

``config.yaml`` holds the corpus location, index path, output folder, topics and briefs.
Loading, validation with ``file:line:col`` locations and ``briefgen schema`` live in
``briefgen.configload``; this module is only the schema.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StrictModel(BaseModel):
    """Base for config models: unknown keys are errors, values are not coerced loosely."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class CorpusSettings(StrictModel):
    path: str = "seeds"
    """Folder (or single .jsonl/.jsonl.gz file) holding the articles, relative to the project root."""

    metadata: str | None = "seeds/corpus.yaml"
    """YAML file with per-article metadata (title, outlet, author, date, url, kind), keyed by file name."""

    include: list[str] = Field(
        default_factory=lambda: ["*.txt", "*.md", "*.html", "*.htm", "*.jsonl", "*.jsonl.gz"]
    )
    """Glob patterns (matched against file names, searched recursively) of files to read."""

    max_file_mb: float = Field(default=50.0, gt=0)
    """Files larger than this many megabytes are skipped with a warning, before being read."""


class IndexSettings(StrictModel):
    path: str = ".briefgen/index.sqlite"
    """Where the SQLite FTS5 index lives, relative to the project root."""


class Topic(StrictModel):
    title: str
    """Section heading shown in the brief, e.g. "Security and defence"."""

    description: str = ""
    """One line shown under the section heading, saying what the topic covers."""

    terms: dict[str, float] = Field(default_factory=dict)
    """Words and phrases that make a passage relevant, each with a weight (1 = normal,
    higher = stronger evidence). A term with a space is matched as a phrase. A plain list
    of terms is also accepted (every weight 1)."""

    require: list[str] = Field(default_factory=list)
    """At least one of these terms or phrases must also appear in a passage."""

    exclude: list[str] = Field(default_factory=list)
    """A passage containing any of these terms or phrases is never selected."""

    min_score: float = Field(default=1.0, ge=0)
    """Passages scoring below this are left out, so an irrelevant corpus gives nothing."""

    max_passages: int = Field(default=6, gt=0)
    """At most this many passages in the topic's section."""

    max_per_source: int = Field(default=2, gt=0)
    """At most this many passages from any one article, to spread the section across sources."""

    date_from: dt.date | None = None
    """Only articles dated on or after this day (YYYY-MM-DD)."""

    date_to: dt.date | None = None
    """Only articles dated on or before this day (YYYY-MM-DD)."""

    within_days: int | None = Field(default=None, gt=0)
    """Only articles dated within this many days before the brief's as-of date."""


class Schedule(StrictModel):
    cron: str
    """Cron expression, five fields, e.g. "0 7 * * 1-5" for weekdays at 07:00."""

    timezone: str = "UTC"
    """IANA time zone the cron expression is read in, e.g. "Asia/Tokyo"."""

    lateness_hours: float = Field(default=12.0, gt=0)
    """A missed slot younger than this is caught up (once); older ones are recorded as missed."""

    max_retries: int = Field(default=3, ge=0)
    """How many times a failed slot is retried on later run-due calls."""


class BriefSpec(StrictModel):
    title: str
    """Title shown on the brief's first page and in the PDF metadata."""

    subtitle: str | None = None
    """Subtitle or audience line, e.g. "For the Japan desk"."""

    author: str | None = None
    """Author or organisation shown in the title block and PDF metadata."""

    topics: list[str]
    """Topic keys, in the order their sections appear."""

    formats: list[Literal["md", "pdf", "json"]] = Field(default_factory=lambda: ["md", "pdf", "json"])
    """Which files to write."""

    template_dir: str | None = None
    """Folder with brief.md.j2, brief.html.j2 and brief.css; default: the project's templates/."""

    paper: Literal["A4", "Letter"] = "A4"
    """Page size of the PDF."""

    output: str = "{brief}"
    """Output folder pattern under the output folder; {brief} and {date} (YYYY-MM-DD) are filled in."""

    key_points: int = Field(default=4, ge=0)
    """How many of the strongest passages across topics to list as key points."""

    within_days: int | None = Field(default=None, gt=0)
    """Only articles dated within this many days before the as-of date (applies to every topic)."""

    schedule: Schedule | None = None
    """When to build this brief unattended (briefgen run-due / briefgen schedule)."""

    keep: int | None = Field(default=None, gt=0)
    """Scheduled runs: keep only the newest N dated output folders."""


class OutputSettings(StrictModel):
    dir: str = "briefs"
    """Folder the briefs are written under, relative to the project root."""


class Config(StrictModel):
    corpus: CorpusSettings = Field(default_factory=CorpusSettings)
    """Where the articles are and how to read them."""

    index: IndexSettings = Field(default_factory=IndexSettings)
    """Where the search index lives."""

    output: OutputSettings = Field(default_factory=OutputSettings)
    """Where briefs are written."""

    topics: dict[str, Topic] = Field(default_factory=dict)
    """Topics defined inline, keyed by a short name used in briefs and on the command line."""

    topic_files: list[str] = Field(default_factory=lambda: ["topics/*.yaml"])
    """Glob patterns of extra topic files (one topic per file, keyed by file stem)."""

    briefs: dict[str, BriefSpec] = Field(default_factory=dict)
    """Briefs, keyed by name."""

    default_brief: str | None = None
    """The brief `briefgen build` makes with no argument; default: the first one."""


class LoadedConfig(BaseModel):
    """A validated config plus where it came from (not part of the YAML schema)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    config: Config
    path: Path  # the config.yaml file
    root: Path  # the project root: config.yaml's folder; relative paths resolve here
    topics: dict[str, Topic]  # inline topics + topic files + --topic-file, merged

    def resolve(self, relative: str) -> Path:
        """Return a config path resolved against the project root."""
        p = Path(relative)
        return p if p.is_absolute() else self.root / p
