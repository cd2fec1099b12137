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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen import __version__
from briefgen._fs import remove_stale_temps, write_files_atomic
from briefgen.brief.assemble import assemble_brief
from briefgen.brief.model import Brief, CorpusSummary
from briefgen.brief.record import read_previous_brief
from briefgen.errors import ConfigError, CorpusError, RenderError
from briefgen.index.backends import open_store
from briefgen.outputs import OUTPUTS
from briefgen.outputs.base import LaidOutOutput, RenderContext
from briefgen.outputs.guard import RenderWorker, render_deadline, run_limited, start_worker
from briefgen.select.parallel import select_topics

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


def parse_as_of(value: str | None) -> dt.date | None:
    """Parse ``--as-of YYYY-MM-DD``."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"--as-of: expected a date as YYYY-MM-DD, got {value!r}") from None


def build_brief(
    cfg: LoadedConfig,
    brief_name: str | None = None,
    *,
    formats: list[str] | None = None,
    out_dir: Path | None = None,
    as_of: dt.date | None = None,
    previous: Path | None = None,
    renderer: RenderWorker | None = None,
    strict: bool = False,
    warn: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build one brief (default: the config's default brief) and write its files.

    ``renderer``: a render process started earlier with :func:`start_render_worker`
    (default: fork one when the brief is ready). On an empty corpus the brief has no quotes:
    ``warn`` is told so, or, if ``strict``, ``CorpusError`` is raised and nothing is written.
    """
    name, spec = find_brief(cfg, brief_name)
    day = as_of or dt.date.today()
    # With --as-of the timestamp is derived from it, so identical inputs give identical files.
    generated_at = (
        f"{as_of.isoformat()}T00:00:00Z"
        if as_of
        else dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )
    selections, corpus = select_sections(cfg, spec, day)
    if corpus.source_count == 0:
        message = empty_corpus_message(cfg)
        if strict:
            raise CorpusError(f"{message}; nothing written")
        if warn is not None:
            warn(f'{message}; the brief says "No relevant reporting" in every section')
    passages_before, date_before = read_previous_brief(previous)
    brief = assemble_brief(
        name, spec, cfg.topics, selections, corpus,
        date=day, as_of=as_of, generated_at=generated_at, version=__version__,
        previous=passages_before, previous_date=date_before,
    )
    wanted = formats or list(spec.formats)
    outputs = render(brief, wanted, cfg.root, spec.template_dir, renderer)
    target = out_dir or output_dir(cfg, name, spec, day)
    return BuildResult(write_outputs(name, target, outputs), brief)


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
        rendered.update({f: OUTPUTS.get(f).render(brief, context) for f in unguarded})
    return rendered


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
    cfg: LoadedConfig, spec: BriefSpec, day: dt.date
) -> tuple[list[TopicSelection], CorpusSummary]:
    """Select every topic's passages (in parallel where it pays) and describe the corpus."""
    selections = select_topics(
        cfg, [(key, topic_for_brief(cfg.topics[key], spec)) for key in spec.topics], as_of=day
    )
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
    return selections, corpus


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


def topic_for_brief(topic: Topic, spec: BriefSpec) -> Topic:
    """Apply the brief's date window to a topic (the narrower window wins)."""
    if spec.within_days is None:
        return topic
    days = min(spec.within_days, topic.within_days or spec.within_days)
    return topic.model_copy(update={"within_days": days})


def output_dir(cfg: LoadedConfig, name: str, spec: BriefSpec, day: dt.date) -> Path:
    """Return ``<output.dir>/<brief.output pattern>`` with {brief} and {date} filled in."""
    try:
        folder = spec.output.format(brief=name, date=day.isoformat())
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"{cfg.path}: briefs.{name}.output: bad pattern {spec.output!r} "
            f"(only {{brief}} and {{date}} are filled in): {exc}"
        ) from None
    return cfg.resolve(cfg.config.output.dir) / folder


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
