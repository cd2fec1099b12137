"""The configuration schema: typed models with a docstring on every field.

``config.yaml`` holds the corpus location, index path, output folder, topics and briefs.
Loading, validation with ``file:line:col`` locations and ``briefgen schema`` live in
``briefgen.config.load``; this module is only the schema.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from briefgen.config import checks, dburl, folders
from briefgen.deliver import DeliverSettings
from briefgen.outputs import DEFAULT_FORMATS, FormatName

# Topic and brief names appear on the command line and in output folder names, so they
# are plain words: no slashes, no leading dot (which also rules out "..").
Name = Annotated[str, StringConstraints(pattern=r"^\w[\w.-]*$")]


# A term's weight: a real number above zero. Strict, so that YAML's `yes` or a quoted
# "2" is reported instead of being read as 1.0 or 2.0.
Weight = Annotated[float, Field(strict=True, gt=0)]


class StrictModel(BaseModel):
    """Base for config models: unknown keys are errors, values are not coerced loosely."""

    model_config = ConfigDict(
        extra="forbid", use_attribute_docstrings=True, frozen=True, allow_inf_nan=False
    )


class CorpusFields(StrictModel):
    id: str = Field(default="id", min_length=1)
    """Field of a JSONL record holding the article's unique id; a record without one is
    numbered by its file and line."""

    title: str = Field(default="title", min_length=1)
    """Field of a JSONL record holding the headline."""

    text: str = Field(default="text", min_length=1)
    """Field of a JSONL record holding the article's text; a record without it is skipped."""

    date: str = Field(default="date", min_length=1)
    """Field of a JSONL record holding the publication date (also read: `published`)."""

    outlet: str = Field(default="outlet", min_length=1)
    """Field of a JSONL record holding the outlet (also read: `source`, `publisher`, `site`)."""

    url: str = Field(default="url", min_length=1)
    """Field of a JSONL record holding the article's address (also read: `link`)."""

    author: str = Field(default="author", min_length=1)
    """Field of a JSONL record holding the author (also read: `byline`, `authors`)."""


class CorpusSettings(StrictModel):
    path: str = "seeds"
    """Folder (or single .jsonl/.jsonl.gz file) holding the articles, relative to the project root."""

    metadata: str | None = "seeds/corpus.yaml"
    """YAML file with per-article metadata (title, outlet, author, date, url, kind), keyed by file name."""

    include: list[str] = Field(
        default_factory=lambda: ["*.txt", "*.md", "*.html", "*.htm", "*.jsonl", "*.jsonl.gz"]
    )
    """Glob patterns (matched against file names, searched recursively) of files to read."""

    max_file_mb: float = Field(default=50.0, gt=0, strict=True)
    """Files larger than this many megabytes are skipped with a warning, before being read."""

    fields: CorpusFields = Field(default_factory=CorpusFields)
    """Which field of a JSONL record holds what, for records with other names, e.g.
    `{id: story_id, title: headline, text: body, date: published}`; each key is optional."""
    max_records: int = Field(default=1_000_000, gt=0, strict=True)
    """A JSONL file is read up to this many lines (records, blank lines included); the rest of
    a longer one is skipped with a warning. Stops a small .jsonl.gz that unpacks to millions."""

    max_decompressed_mb: float = Field(default=4096.0, gt=0, strict=True)
    """A compressed (.jsonl.gz) file is read until it has unpacked to this many megabytes; the
    rest is skipped with a warning. Stops a gzip bomb (a few MB that unpack to many GB)."""


class IndexSettings(StrictModel):
    backend: Literal["sqlite", "postgresql"] = "sqlite"
    """The index engine: `sqlite` (embedded, nothing to start) or `postgresql` (one database
    shared by several hosts: index, run history and locks; see docs/scaling.md)."""

    path: str = ".briefgen/index.sqlite"
    """Where the SQLite FTS5 index lives, relative to the project root (sqlite backend)."""

    lock_wait_seconds: float = Field(default=60.0, ge=0, strict=True)
    """How long a build or `briefgen index` waits for another process's index update to
    finish before giving up (0: do not wait). A scheduled run that gives up keeps its slot
    for the next run without spending an attempt."""

    url: str | None = None
    """The PostgreSQL connection URL without a password, e.g.
    `postgresql://briefgen@db.example.org:5432/briefgen`; default: BRIEFGEN_DATABASE_URL. The
    password comes from PGPASSWORD or ~/.pgpass, never from this file."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        problem = None if value is None else dburl.database_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class Topic(StrictModel):
    title: str = Field(min_length=1)
    """Section heading shown in the brief, e.g. "Security and defence"."""

    description: str = ""
    """One line shown under the section heading, saying what the topic covers."""

    terms: dict[str, Weight] = Field(default_factory=dict)
    """Words and phrases that make a passage relevant, each with a weight (1 = normal,
    higher = stronger evidence). A term with a space is matched as a phrase. A plain list
    of terms is also accepted (every weight 1)."""

    require: list[str] = Field(default_factory=list)
    """At least one of these terms or phrases must also appear in a passage."""

    exclude: list[str] = Field(default_factory=list)
    """A passage containing any of these terms or phrases is never selected."""

    min_score: float = Field(default=1.0, ge=0, strict=True)
    """Passages scoring below this are left out, so an irrelevant corpus gives nothing."""

    context_weight: float = Field(default=0.0, ge=0, strict=True)
    """How much the passage's article adds to its score: this times the article's evidence
    (its headline, its lead and its whole text, each scored like a passage, added up). A
    passage in an article about the topic is found with few topic terms; a term used in
    another sense (a football team's "defence") is not enough when its article is about
    something else. 0: a passage stands alone."""

    about: str = ""
    """The topic in plain sentences, for semantic scoring: a passage's similarity to it
    (with an embedding model that ships inside the `wordllama` wheel and runs offline)
    adds `semantic_weight` times the similarity to the score."""

    examples: list[str] = Field(default_factory=list)
    """Example passages that are squarely on the topic, for semantic scoring (with `about`)."""

    semantic: bool = True
    """Use semantic scoring when `about` or `examples` is given; false turns it off."""

    semantic_weight: float = Field(default=0.0, ge=0, strict=True)
    """How much semantic similarity (cosine, about -1 to 1) adds to a passage's score."""

    max_passages: int = Field(default=6, gt=0, strict=True)
    """At most this many passages in the topic's section."""

    max_per_source: int = Field(default=2, gt=0, strict=True)
    """At most this many passages from any one article, to spread the section across sources."""

    date_from: dt.date | None = None
    """Only articles dated on or after this day (YYYY-MM-DD)."""

    date_to: dt.date | None = None
    """Only articles dated on or before this day (YYYY-MM-DD)."""

    within_days: int | None = Field(default=None, gt=0, strict=True)
    """Only articles dated within this many days before the brief's as-of date."""

    @field_validator("terms", mode="before")
    @classmethod
    def _terms_from_list(cls, value: Any) -> Any:
        # A plain list is the easy way to write terms: every weight 1. A list item may
        # also be a one-entry mapping `- tariff: 3`, as people write it by analogy.
        if not isinstance(value, list):
            return value
        terms: dict[Any, Any] = {}
        for item in value:
            if isinstance(item, dict) and len(item) == 1:
                terms.update(item)
            elif isinstance(item, str):
                terms[item] = 1.0
            else:
                raise ValueError("each term in a list must be text (a word or phrase)")
        return terms


class Schedule(StrictModel):
    cron: str
    """Cron expression, five fields, e.g. "0 7 * * 1-5" for weekdays at 07:00."""

    timezone: str = "UTC"
    """IANA time zone the cron expression is read in, e.g. "Asia/Tokyo"."""

    lateness_hours: float = Field(default=12.0, gt=0, strict=True)
    """A missed slot younger than this is caught up (once); older ones are recorded as missed."""

    max_retries: int = Field(default=3, ge=0, strict=True)
    """How many times a failed slot is retried on later run-due calls."""

    output: str = "{brief}/{date}"
    """Dated output folder pattern under the output folder; {brief}, {date} (YYYY-MM-DD) and
    {time} (HHMM), in the brief's time zone, are filled in. {date} must be in the last folder;
    a `latest` link beside the dated folders points to the newest one."""

    @field_validator("cron", "timezone", "output")
    @classmethod
    def _check_schedule_field(cls, value: str, info: ValidationInfo) -> str:
        # Checked here so that every loader reports it at the key's file:line:col.
        check = {
            "cron": checks.cron_problem,
            "timezone": checks.timezone_problem,
            "output": checks.output_pattern_problem,
        }[info.field_name or ""]
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value


class BriefSpec(StrictModel):
    title: str = Field(min_length=1)
    """Title shown on the brief's first page and in the PDF metadata."""

    subtitle: str | None = None
    """Subtitle or audience line, e.g. "For the Japan desk"."""

    author: str | None = None
    """Author or organisation shown in the title block and PDF metadata."""

    topics: list[str] = Field(min_length=1)
    """Topic keys, in the order their sections appear."""

    formats: list[FormatName] = Field(default_factory=lambda: list(DEFAULT_FORMATS), min_length=1)
    """Which files to write: md (brief.md), html (brief.html, a standalone page for browsers
    and email), pdf (brief.pdf) and json (brief.json, the audit record)."""

    template_dir: str | None = None
    """Folder with brief.md.j2, brief.standalone.html.j2 (brief.html), brief.html.j2 and
    brief.css (brief.pdf); default: the project's templates/."""

    paper: Literal["A4", "Letter"] = "A4"
    """Page size of the PDF."""

    output: str = "{brief}"
    """Output folder pattern under the output folder; {brief} and {date} (YYYY-MM-DD) are filled in."""

    key_points: int = Field(default=4, ge=0, strict=True)
    """How many of the strongest passages across topics to list as key points."""

    within_days: int | None = Field(default=None, gt=0, strict=True)
    """Only articles dated within this many days before the as-of date (applies to every topic)."""

    stale_after_days: int | None = Field(default=None, ge=0, strict=True)
    """Staleness limit: when the newest source the brief cites is older than this many days
    on the brief's date, the title block says "Latest reporting: <date>". Default: 7 for a
    brief with a schedule, no limit for others."""

    schedule: Schedule | None = None
    """When to build this brief unattended (briefgen run-due / briefgen schedule)."""

    keep: int | None = Field(default=None, gt=0, strict=True)
    """Scheduled runs: keep only the newest N dated output folders (never the one `latest`
    points to); default: keep all."""

    deliver: DeliverSettings | None = None
    """Where each scheduled build is sent once it is published (and a build with
    `briefgen build --deliver`): `email:` and/or `webhook:`, see below."""

    @field_validator("output")
    @classmethod
    def _check_output(cls, value: str) -> str:
        # The pattern names a folder under the output folder: it must not climb out of it.
        problem = folders.brief_output_problem(value)
        if problem:
            raise ValueError(problem)
        return value


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

    state_dir: str = ".briefgen"
    """Where briefgen keeps its own state (run history, locks, caches), relative to the project
    root. With the postgresql backend the run history and locks live in the database instead."""

    topics: dict[Name, Topic] = Field(default_factory=dict)
    """Topics defined inline, keyed by a short name used in briefs and on the command line."""

    topic_files: list[str] = Field(default_factory=lambda: ["topics/*.yaml"])
    """Glob patterns of extra topic files (one topic per file, keyed by file stem)."""

    briefs: dict[Name, BriefSpec] = Field(default_factory=dict)
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
    topic_sources: dict[str, Path] = {}  # topic key -> the file that defines it
    cli_topics: tuple[str, ...] = ()  # keys of the topics loaded from --topic-file, in order

    @property
    def state_dir(self) -> Path:
        """Return the folder of briefgen's own state (run history, locks, caches)."""
        return self.resolve(self.config.state_dir)

    def relative(self, path: Path) -> str:
        """Return ``path`` relative to the project root (POSIX), or as is if outside it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def resolve(self, relative: str) -> Path:
        """Return a config path resolved against the project root."""
        p = Path(relative)
        return p if p.is_absolute() else self.root / p
