"""Build a brief: the pipeline steps in order, outputs written atomically.

1. find the brief in the config;   2. select each topic's passages from the index (topics in
   parallel processes on a large index, ``select_parallel``);
3. assemble the Brief (plain data); 4. render every format in memory;
5. write the files (each atomically, only after every format rendered).

Rendering runs in separate processes under time and memory limits (``guard``): one for the
templates (brief.md, brief.json, the PDF's HTML), then one for the PDF layout. The render stack
(Jinja2, Markdown, WeasyPrint) is imported only there; a command can fork the PDF process first
with :func:`start_render_worker`, so that WeasyPrint's import overlaps steps 1–3.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen import __version__
from briefgen._fs import remove_stale_temps, write_files_atomic
from briefgen.brief.assemble import Brief, CorpusSummary, assemble_brief, read_previous
from briefgen.errors import ConfigError, CorpusError, RenderError
from briefgen.index.backends import open_store
from briefgen.outputs.guard import RenderWorker, render_deadline, run_limited, start_worker
from briefgen.outputs.pdf import PdfPage, import_weasyprint, layout_pdf
from briefgen.select.parallel import select_topics

if TYPE_CHECKING:
    from briefgen.config.schema import BriefSpec, LoadedConfig, Topic
    from briefgen.models import TopicSelection

FORMATS = ("md", "pdf", "json")
STALE_TEMP_S = 3600.0  # a temporary output file this old was left by a killed build


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote."""

    files: list[Path]
    brief: Brief


def parse_formats(value: str | None) -> list[str] | None:
    """Parse ``--format md,pdf`` (``None``: the brief's own formats)."""
    if value is None:
        return None
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ConfigError(
            f"--format: unknown format {', '.join(unknown) or repr(value)} (choose from md, pdf, json)"
        )
    return list(dict.fromkeys(formats))


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
    brief = assemble_brief(
        name, spec, cfg.topics, selections, corpus,
        date=day, as_of=as_of, generated_at=generated_at, version=__version__,
        previous=read_previous(previous),
    )
    wanted = formats or list(spec.formats)
    # A user's template or stylesheet can loop or eat memory: render under time/memory limits
    # (one time limit for both steps). The PDF layout runs in `renderer` if there is one.
    deadline = render_deadline()
    outputs, pdf_page = run_limited(
        functools.partial(render_text, brief, wanted, cfg.root, spec.template_dir),
        brief=name, deadline=deadline,
    )
    if pdf_page is not None:
        layout = functools.partial(layout_pdf, pdf_page)
        if renderer is not None:
            outputs["pdf"] = renderer.run_limited(layout, brief=name, deadline=deadline)
        else:
            outputs["pdf"] = run_limited(
                layout, brief=name, deadline=deadline, warm_up=import_weasyprint
            )
    target = out_dir or output_dir(cfg, name, spec, day)
    return BuildResult(write_outputs(name, target, outputs), brief)


def start_render_worker(formats: list[str] | None) -> RenderWorker:
    """Fork the PDF render process now: it imports WeasyPrint while this one selects passages.

    ``formats``: what will be rendered, if known (``None``: the brief's own, likely a PDF).
    Pass the result to :func:`build_brief` as ``renderer``, inside a ``with`` block.
    """
    if formats is not None and "pdf" not in formats:
        return RenderWorker()  # nothing to import ahead: the jobs fork when needed
    return start_worker(import_weasyprint)


def render_text(
    brief: Brief, formats: list[str], root: Path, template_dir: str | None
) -> tuple[dict[str, bytes], PdfPage | None]:
    """Render brief.md, brief.json and the PDF's HTML page (in a render process)."""
    from briefgen.outputs.render import find_template_dirs, render_text_outputs

    return render_text_outputs(brief, formats, find_template_dirs(root, template_dir))


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
    files = {folder / f"brief.{fmt}": outputs[fmt] for fmt in ("md", "pdf", "json") if fmt in outputs}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Temporary files a killed build left behind (hidden; a running build's are younger).
        remove_stale_temps(folder, [p.name for p in files], older_than_s=STALE_TEMP_S)
        write_files_atomic(files)
    except OSError as exc:
        raise RenderError(f"brief {name}: cannot write to {folder}: {exc.strerror or exc}") from exc
    return list(files)
