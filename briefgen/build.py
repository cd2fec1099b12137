"""Build a brief: the pipeline steps in order, outputs written atomically.

1. find the brief in the config;   2. select each topic's passages from the index (topics in
   parallel processes on a large index, ``select.parallel``);
3. assemble the Brief (plain data); 4. render every format in memory (``outputs``);
5. write the files (each atomically, only after every format rendered).

Formats that run a user's templates render in a separate process under time and memory
limits (``_proc``): one for the templates (brief.md, brief.html, the PDF's print page), then
one for the PDF layout. The render stack (Jinja2, Markdown, WeasyPrint) is imported only
there; a command can fork the layout process first with :func:`start_render_worker`, so that
WeasyPrint's import overlaps steps 1–3.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen import __version__
from briefgen._fs import is_inside, remove_stale_temps, write_files_atomic
from briefgen.brief.assemble import assemble_brief, whole_corpus
from briefgen.brief.model import Brief, CorpusSummary, Window
from briefgen.brief.record import read_previous_brief
from briefgen.errors import ConfigError, CorpusError, RenderError
from briefgen.index.backends import open_store
from briefgen.outputs import OUTPUTS, file_hashes
from briefgen.outputs.base import FILES_KEY, LaidOutOutput, RenderContext, records_files
from briefgen.outputs.guard import RenderWorker, render_deadline, run_limited, start_worker
from briefgen.select.parallel import select_topics
from briefgen.select.selection import find_topic, windowed

if TYPE_CHECKING:
    from briefgen.config.schema import BriefSpec, LoadedConfig, Topic
    from briefgen.models import TopicSelection

STALE_TEMP_S = 3600.0  # a temporary output file this old was left by a killed build


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote."""

    files: list[Path]
    brief: Brief


def parse_formats(value: str | None) -> list[str] | None:
    """Parse ``--format md,pdf`` (``None``: the brief's own formats)."""
    return OUTPUTS.parse(value)


def parse_date(option: str, value: str | None) -> dt.date | None:
    """Parse a date option (``--as-of``, ``--since``) given as YYYY-MM-DD."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{option}: expected a date as YYYY-MM-DD, got {value!r}") from None


def parse_as_of(value: str | None) -> dt.date | None:
    """Parse ``--as-of YYYY-MM-DD``."""
    return parse_date("--as-of", value)


def parse_topics(value: str | None) -> list[str] | None:
    """Parse ``--topics a,b,c`` (``None``: the brief's own)."""
    if value is None:
        return None
    topics = list(dict.fromkeys(t.strip() for t in value.split(",") if t.strip()))
    if not topics:
        raise ConfigError(f"--topics: expected topic keys separated by commas, got {value!r}")
    return topics


def parse_source_date_epoch(env: Mapping[str, str]) -> dt.datetime | None:
    """Return the build time SOURCE_DATE_EPOCH fixes (reproducible builds), if it is set."""
    value = env.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(
            f"SOURCE_DATE_EPOCH: expected seconds since 1970-01-01, got {value!r}"
        ) from None


def build_brief(
    cfg: LoadedConfig,
    brief_name: str | None = None,
    *,
    formats: list[str] | None = None,
    out_dir: Path | None = None,
    as_of: dt.date | None = None,
    since: dt.date | None = None,
    within_days: int | None = None,
    topics: Sequence[str] | None = None,
    previous: Path | None = None,
    renderer: RenderWorker | None = None,
    now: dt.datetime | None = None,
    strict: bool = False,
    warn: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build one brief (default: the config's default brief) and write its files.

    ``as_of``: the corpus as it stood that day (sources dated later are left out, undated ones
    kept); ``since`` / ``within_days`` narrow every topic's window for this run; ``topics``:
    the sections for this run (default: the brief's own); ``now``: when it is built (default:
    the current time; "Generated" in the method note). ``renderer``: a render process started
    earlier with :func:`start_render_worker` (default: fork one when the brief is ready). On an
    empty corpus the brief has no quotes: ``warn`` is told so, or, if ``strict``,
    ``CorpusError`` is raised and nothing is written.
    """
    name, spec = find_brief(cfg, brief_name)
    day = as_of or dt.date.today()
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    generated_at = moment.isoformat().replace("+00:00", "Z")
    window = RunWindow(as_of=as_of, since=since,
                       within_days=_narrowest(within_days, spec.within_days), day=day)
    chosen = {key: window.apply(find_topic(cfg, key)) for key in topics or spec.topics}
    selections, corpus, brief_window = select_sections(cfg, chosen, window)
    if corpus.source_count == 0:
        message = empty_corpus_message(cfg)
        if strict:
            raise CorpusError(f"{message}; nothing written")
        if warn is not None:
            warn(f'{message}; the brief says "No relevant reporting" in every section')
    passages_before, date_before = read_previous_brief(previous)
    brief = assemble_brief(
        name, spec, chosen, selections, corpus,
        date=day, as_of=as_of, generated_at=generated_at, version=__version__,
        previous=passages_before, previous_date=date_before, window=brief_window,
    )
    wanted = formats or list(spec.formats)
    outputs = render(brief, wanted, cfg.root, spec.template_dir, renderer)
    target = out_dir or output_dir(cfg, name, spec, day)
    return BuildResult(write_outputs(name, target, outputs), brief)


def _narrowest(*days: int | None) -> int | None:
    """Return the smallest of the given day counts (None if none is given)."""
    given = [d for d in days if d is not None]
    return min(given) if given else None


@dataclass(frozen=True)
class RunWindow:
    """The dates a build draws on: --as-of, --since, --within-days (with the brief's own)."""

    as_of: dt.date | None
    since: dt.date | None
    within_days: int | None
    day: dt.date  # the brief's date: --as-of, else today

    def apply(self, topic: Topic) -> Topic:
        """Return the topic with this run's window applied (the narrower wins)."""
        return windowed(topic, since=self.since, within_days=self.within_days)

    @property
    def start(self) -> dt.date | None:
        """Return the first day inside the window (None: open)."""
        recent = self.day - dt.timedelta(days=self.within_days) if self.within_days else None
        if recent is None or self.since is None:
            return recent or self.since
        return max(recent, self.since)

    @property
    def end(self) -> dt.date | None:
        """Return the last day inside the window (None: open)."""
        return self.as_of or (self.day if self.within_days else None)


def render(
    brief: Brief,
    formats: list[str],
    root: Path,
    template_dir: str | None,
    renderer: RenderWorker | None = None,
) -> dict[str, bytes]:
    """Render ``formats``: the ones that run a user's templates in a limited process.

    A user's template or stylesheet can loop or eat memory: those formats render under time
    and memory limits (one time limit for all steps). A laid-out format (the PDF) is prepared
    there and laid out in ``renderer`` if there is one, else in a fresh limited process.
    """
    guarded = [f for f in formats if OUTPUTS.get(f).guarded]
    deadline = render_deadline()
    rendered: dict[str, bytes] = {}
    if guarded:
        rendered, prepared = run_limited(
            functools.partial(render_text, brief, guarded, root, template_dir),
            brief=brief.name, deadline=deadline,
        )
        for fmt, page in prepared.items():
            output = OUTPUTS.get(fmt)
            assert isinstance(output, LaidOutOutput)
            if renderer is not None:
                rendered[fmt] = renderer.run_limited(
                    functools.partial(output.finish, page), brief=brief.name, deadline=deadline
                )
                renderer = None  # it runs one job; another laid-out format gets a fresh process
            else:
                rendered[fmt] = run_limited(
                    functools.partial(output.finish, page),
                    brief=brief.name, deadline=deadline, warm_up=output.warm_up,
                )
    unguarded = [f for f in formats if f not in guarded]
    if unguarded:
        context = RenderContext(())
        # Last, the record of the others (brief.json holds their sha256).
        for f in sorted(unguarded, key=lambda f: records_files(OUTPUTS.get(f))):
            if records_files(OUTPUTS.get(f)):
                context.results[FILES_KEY] = file_hashes(rendered)
            rendered[f] = OUTPUTS.get(f).render(brief, context)
    return {f: rendered[f] for f in formats}


def start_render_worker(formats: list[str] | None) -> RenderWorker:
    """Fork the PDF render process now: it imports WeasyPrint while this one selects passages.

    ``formats``: what will be rendered, if known (``None``: the brief's own, likely a PDF).
    Pass the result to :func:`build_brief` as ``renderer``, inside a ``with`` block.
    """
    laid_out = OUTPUTS.layout_outputs(formats if formats is not None else ["pdf"])
    if not laid_out:
        return RenderWorker()  # nothing to import ahead: the jobs fork when needed
    output = OUTPUTS.get(laid_out[0])
    assert isinstance(output, LaidOutOutput)
    return start_worker(output.warm_up)


def render_text(
    brief: Brief, formats: list[str], root: Path, template_dir: str | None
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Render the formats that use templates; prepare the laid-out ones (in a render process)."""
    from briefgen.outputs.render import render_guarded
    from briefgen.outputs.templates import find_template_dirs

    return render_guarded(brief, formats, find_template_dirs(root, template_dir))


def find_brief(cfg: LoadedConfig, brief_name: str | None) -> tuple[str, BriefSpec]:
    """Return the named brief, or the default one."""
    briefs = cfg.config.briefs
    if not briefs:
        raise ConfigError(f"{cfg.path}: briefs: no brief is defined")
    name = brief_name or cfg.config.default_brief or next(iter(briefs))
    if name not in briefs:
        close = difflib.get_close_matches(name, list(briefs), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ConfigError(
            f"{cfg.path}: no brief named {name!r}{hint}; known briefs: "
            f"{', '.join(sorted(briefs))}; `briefgen briefs` describes them"
        )
    spec = briefs[name]
    missing = [key for key in spec.topics if key not in cfg.topics]
    if missing:
        raise ConfigError(f"{cfg.path}: briefs.{name}.topics: unknown topic {', '.join(missing)}")
    return name, spec


def select_sections(
    cfg: LoadedConfig, topics: dict[str, Topic], window: RunWindow
) -> tuple[list[TopicSelection], CorpusSummary, Window]:
    """Select every topic's passages (in parallel where it pays) and describe the corpus."""
    selections = select_topics(cfg, list(topics.items()), as_of=window.as_of)
    with open_store(cfg) as index:
        # Stored by the indexer: not every source loaded, not 100,000 rows hashed per build.
        sources, dated, date_from, date_to = index.date_summary()
        corpus = CorpusSummary(
            source_count=sources,
            dated_count=dated,
            date_from=date_from,
            date_to=date_to,
            snapshot_hash=index.snapshot_hash(),
        )
        start, end = window.start, window.end
        if start is None and end is None:
            return selections, corpus, whole_corpus(corpus)
        later = index.count_dated((end + dt.timedelta(days=1)).isoformat(), None) if end else 0
        inside = index.count_dated(start.isoformat() if start else None,
                                   end.isoformat() if end else None)
    return selections, corpus, Window(
        date_from=start.isoformat() if start else None,
        date_to=end.isoformat() if end else None,
        as_of=window.as_of.isoformat() if window.as_of else None,
        dated_inside=inside,
        undated=sources - dated,
        undated_kept=start is None,
        dated_later=later,
    )


def empty_corpus_message(cfg: LoadedConfig) -> str:
    """Say that the corpus has no articles, and why, as far as the files tell."""
    from briefgen.corpus.files import corpus_files

    settings = cfg.config.corpus
    try:
        files = corpus_files(cfg)
    except CorpusError as exc:
        return f"the corpus has 0 articles: {exc}"
    where = settings.path.rstrip("/") + ("/" if cfg.resolve(settings.path).is_dir() else "")
    if files:
        why = f"the {len(files)} file(s) in {where} gave no article (`briefgen index` says why)"
    else:
        why = f"{where} has no file matching corpus.include ({', '.join(settings.include)})"
    return f"the corpus has 0 articles: {why}"


def output_dir(cfg: LoadedConfig, name: str, spec: BriefSpec, day: dt.date) -> Path:
    """Return ``<output.dir>/<brief.output pattern>`` with {brief} and {date} filled in.

    The folder is checked after filling in and resolving (symlinks, ``..``) to lie inside the
    output folder: a brief never writes anywhere else.
    """
    try:
        folder = spec.output.format(brief=name, date=day.isoformat())
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"{cfg.path}: briefs.{name}.output: bad pattern {spec.output!r} "
            f"(only {{brief}} and {{date}} are filled in): {exc}"
        ) from None
    root = cfg.resolve(cfg.config.output.dir)
    target = root / folder
    if not is_inside(target, root):
        raise ConfigError(
            f"{cfg.path}: briefs.{name}.output: {spec.output!r} names {target}, which is "
            f"outside the output folder {root}; use a folder inside it, e.g. \"{{brief}}\""
        )
    return target


def write_outputs(name: str, folder: Path, outputs: dict[str, bytes]) -> list[Path]:
    """Write the rendered files atomically, as a set: existing files are replaced whole or not at all."""
    files = {folder / OUTPUTS.get(f).filename: outputs[f] for f in OUTPUTS.names() if f in outputs}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Temporary files a killed build left behind (hidden; a running build's are younger).
        remove_stale_temps(folder, [p.name for p in files], older_than_s=STALE_TEMP_S)
        write_files_atomic(files)
    except OSError as exc:
        raise RenderError(f"brief {name}: cannot write to {folder}: {exc.strerror or exc}") from exc
    return list(files)
