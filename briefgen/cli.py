"""The command line: each command parses options, loads config and calls one library function.

Library errors (``BriefgenError``) become one-line messages and exit codes here and only here.
Heavy modules (WeasyPrint, trafilatura) are imported inside the commands that need them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from briefgen import __version__
from briefgen.cli_options import (
    FormatOption,
    NamesChoices,
    config_options,
    load,
    warn,
    window_options,
)
from briefgen.errors import BriefgenError, ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Turn library errors into a message on stderr and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            sys.exit(exc.exit_code)
        except BriefgenError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def pipeline_hooks() -> dict[str, Any]:
    """Return the build/refresh functions injected through ``cli.main(obj=...)`` (tests), if any."""
    obj = click.get_current_context().find_root().obj
    return {k: v for k, v in (obj or {}).items() if k in ("build", "refresh_index")}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="briefgen")
def cli() -> None:
    """Turn a corpus of news articles into cited policy briefs (Markdown, HTML, PDF, JSON)."""


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite starter files that already exist.")
@handle_errors
def init(directory: Path | None, force: bool) -> None:
    """Write a working starter project (config.yaml, topics, templates) into DIRECTORY."""
    from briefgen.starter import init_project, next_steps

    target = directory or Path(".")
    for path in init_project(target, force=force):
        click.echo(f"wrote {path}")
    click.echo(next_steps(target))


@cli.command()
@config_options
@click.option("--strict", is_flag=True, help="Exit non-zero if any file was skipped.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, no summary.")
@click.option("--verbose", "-v", is_flag=True,
              help="Print every skipped input, not only the first 10.")
@click.option("--backend", type=click.Choice(["sqlite", "postgresql"]),
              help="Index into this backend instead of index.backend.")
@handle_errors
def index(
    config_path: Path | None,
    topic_files: tuple[Path, ...],
    strict: bool,
    quiet: bool,
    verbose: bool,
    backend: str | None,
) -> None:
    """Read the corpus and update the search index incrementally."""
    from briefgen.index.backends import with_backend
    from briefgen.index.summary import SUMMARY_MAX_SKIPPED
    from briefgen.index.update import update_index

    cfg = load(config_path, topic_files)
    cfg = with_backend(cfg, backend) if backend else cfg
    shown = None if verbose else SUMMARY_MAX_SKIPPED  # as many as the summary lists
    summary = update_index(cfg, progress=not quiet, warn=warn, max_warnings=shown)
    if not quiet:
        click.echo(summary.format())
    if strict and summary.skipped:
        click.echo(f"error: {summary.skipped_count} input(s) skipped (--strict)", err=True)
        sys.exit(1)


@cli.command()
@config_options
@click.option("--to", type=click.Choice(["postgresql", "sqlite"]), required=True,
              help="The backend to move to.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@handle_errors
def migrate(config_path: Path | None, topic_files: tuple[Path, ...], to: str, quiet: bool) -> None:
    """Index the corpus into another backend and copy the run history there."""
    from briefgen.migrate import migrate as migrate_project

    cfg = load(config_path, topic_files)
    click.echo(migrate_project(cfg, to, progress=not quiet, warn=warn).format())


@cli.command(cls=NamesChoices, choices="topics")
@config_options
@click.argument("topic")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Up to N passages above the threshold, without the brief's per-source cap "
                   "(default: exactly what the brief's section shows).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--explain", is_flag=True, help="Show the matched terms, weights and score.")
@window_options
@handle_errors
def select(
    config_path: Path | None,
    topic_files: tuple[Path, ...],
    topic: str,
    limit: int | None,
    as_json: bool,
    explain: bool,
    as_of: dt.datetime | None,
    since: dt.datetime | None,
    within_days: int | None,
) -> None:
    """Print the passages selected for TOPIC (a topic's key), best first."""
    from briefgen.select.report import format_selection, selection_to_json
    from briefgen.select.selection import select_topic

    cfg = load(config_path, topic_files)
    selection = select_topic(cfg, topic, limit=limit, as_of=as_of and as_of.date(),
                             since=since and since.date(), within_days=within_days)
    if as_json:
        click.echo(json.dumps(selection_to_json(selection, cfg), ensure_ascii=False, indent=2))
    else:
        click.echo(format_selection(selection, cfg, explain=explain))


@cli.group()
def topic() -> None:
    """Improve a topic from evidence: fit it to labelled articles, or suggest terms."""


@topic.command("fit")
@config_options
@click.argument("topic_key", metavar="TOPIC")
@click.option("--labels", "labels_path", required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSV of doc_id,label (1/0), or doc_id,start,end,label for passages.")
@click.option("--keep-weights", is_flag=True, help="Fit context, semantic and min_score only.")
@handle_errors
def topic_fit(config_path: Path | None, topic_files: tuple[Path, ...], topic_key: str,
              labels_path: Path, keep_weights: bool) -> None:
    """Fit TOPIC's weights and min_score to labelled articles; write a proposed topic file."""
    from briefgen.select.tune import fit_topic, format_fit

    cfg = load(config_path, topic_files)
    click.echo(format_fit(fit_topic(cfg, topic_key, labels_path, fit_weights=not keep_weights)))


@topic.command("suggest")
@config_options
@click.argument("topic_key", metavar="TOPIC")
@click.option("--count", type=click.IntRange(min=1), default=25, help="At most N terms.")
@handle_errors
def topic_suggest(config_path: Path | None, topic_files: tuple[Path, ...], topic_key: str,
                  count: int) -> None:
    """List terms over-represented in TOPIC's selected passages, for you to accept or not."""
    from briefgen.select.tune import format_suggestions, suggest_terms

    cfg = load(config_path, topic_files)
    click.echo(format_suggestions(topic_key, suggest_terms(cfg, topic_key, count=count)))


@cli.command(cls=NamesChoices, choices="briefs")
@config_options
@click.argument("brief", required=False)
@click.option("--format", "formats", cls=FormatOption, default=None, metavar="LIST")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write the files into this folder.")
@click.option("--topics", help="Comma-separated topic keys: this build's sections (default: "
              "the brief's own, then those of any --topic-file).")
@window_options
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="An earlier brief.json: mark what is new since it.")
@click.option("--deliver", "send", is_flag=True,
              help="Then deliver the brief as its deliver: section says (email, webhook).")
@click.option("--strict", is_flag=True,
              help="Fail, writing nothing, if the corpus has no articles.")
@handle_errors
def build(
    config_path: Path | None,
    topic_files: tuple[Path, ...],
    brief: str | None,
    formats: str | None,
    out_dir: Path | None,
    topics: str | None,
    as_of: dt.datetime | None,
    since: dt.datetime | None,
    within_days: int | None,
    previous: Path | None,
    send: bool,
    strict: bool,
) -> None:
    """Build BRIEF (a brief's name; default: the default brief) from the corpus.

    --topic-file adds its topics to the brief's sections (unless --topics is given).
    SOURCE_DATE_EPOCH, if set, fixes the "Generated" time (reproducible builds).
    """
    from briefgen.build import parse_formats, parse_topics, start_render_worker

    wanted, sections = parse_formats(formats), parse_topics(topics)
    # The render process starts first and imports WeasyPrint on the other core meanwhile.
    with start_render_worker(wanted) as renderer:
        from briefgen.pipeline import build_and_record

        cfg = load(config_path, topic_files)
        result, run_id = build_and_record(
            cfg, brief, warn=warn, deliver=send, formats=wanted, out_dir=out_dir,
            as_of=as_of and as_of.date(), since=since and since.date(), within_days=within_days,
            topics=sections, previous=previous, renderer=renderer, strict=strict,
        )
    for path in result.files:
        click.echo(f"wrote {path}")
    if send and run_id is not None:
        from briefgen.schedule.manual import send_run

        if send_run(cfg, run_id, click.echo).failed:
            sys.exit(1)


@cli.command()
@config_options
@click.argument("brief")
@click.option("--run", "run_id", type=click.IntRange(min=1), default=None,
              help="The run to send (an id from `briefgen history`; default: the latest build).")
@click.option("--to", "to", multiple=True, metavar="ADDRESS",
              help="Email only this address instead of the configured ones (may be repeated).")
@handle_errors
def deliver(
    config_path: Path | None,
    topic_files: tuple[Path, ...],
    brief: str,
    run_id: int | None,
    to: tuple[str, ...],
) -> None:
    """Send a built BRIEF again, by its deliver: channels (email, webhook)."""
    from briefgen.schedule.manual import resend

    cfg = load(config_path, topic_files)
    if resend(cfg, brief, run_id=run_id, to=list(to), echo=click.echo).failed:
        sys.exit(1)


@cli.command()
@config_options
@click.argument("brief_json", type=click.Path(dir_okay=False, path_type=Path))
@handle_errors
def verify(config_path: Path | None, topic_files: tuple[Path, ...], brief_json: Path) -> None:
    """Re-check every quote in BRIEF_JSON against the corpus as it is now."""
    from briefgen.verify import verify_brief

    cfg = load(config_path, topic_files)
    report = verify_brief(brief_json, cfg)
    click.echo(report.format())
    if not report.ok:
        sys.exit(1)


@cli.command()
@config_options
@handle_errors
def validate(config_path: Path | None, topic_files: tuple[Path, ...]) -> None:
    """Check config.yaml, topic files and the corpus metadata file; report every problem."""
    from briefgen.config.load import validate_project
    from briefgen.config.summary import format_summary
    from briefgen.config.usage import unused_topics

    cfg, warnings = validate_project(config_path, topic_files=list(topic_files))
    for message in [*unused_topics(cfg), *warnings]:
        warn(message)
    click.echo(format_summary(cfg, str(config_path or "config.yaml")))


@cli.command("topics")
@config_options
@handle_errors
def topics_command(config_path: Path | None, topic_files: tuple[Path, ...]) -> None:
    """List every topic: its key, title, where it is defined and which briefs use it."""
    from briefgen.listing import format_topics

    click.echo(format_topics(load(config_path, topic_files)))


@cli.command("briefs")
@config_options
@click.option("--now", default=None, help="Pretend the time is this ISO-8601 instant (for tests).")
@handle_errors
def briefs_command(
    config_path: Path | None, topic_files: tuple[Path, ...], now: str | None
) -> None:
    """List every brief: its topics, formats, output folder, schedule and next run."""
    from briefgen.listing import format_briefs
    from briefgen.schedule.run_due import parse_now

    click.echo(format_briefs(load(config_path, topic_files), parse_now(now)))


@cli.command()
@click.option("--topic", "topic_file", is_flag=True, help="The schema of one topic file instead.")
@handle_errors
def schema(topic_file: bool) -> None:
    """Print the config.yaml schema as JSON Schema (for editor autocompletion)."""
    from briefgen.config.jsonschema import config_json_schema, topic_json_schema

    document = topic_json_schema() if topic_file else config_json_schema()
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@cli.command("run-due")
@config_options
@click.option("--now", default=None, help="Pretend the time is this ISO-8601 instant (for tests).")
@handle_errors
def run_due_command(config_path: Path | None, topic_files: tuple[Path, ...], now: str | None) -> None:
    """Build every scheduled brief whose latest slot has not been built yet, then exit."""
    from briefgen.schedule.run_due import parse_now, run_due

    cfg = load(config_path, topic_files)
    result = run_due(cfg, now=parse_now(now), echo=click.echo, **pipeline_hooks())
    sys.exit(result.exit_code)


@cli.command("schedule")
@config_options
@click.option("--list", "list_only", is_flag=True, help="Show each brief's next run times and exit.")
@handle_errors
def schedule_command(
    config_path: Path | None, topic_files: tuple[Path, ...], list_only: bool
) -> None:
    """Run in the foreground: sleep until the next slot, build, repeat."""
    from briefgen.listing import format_schedule_list
    from briefgen.schedule.foreground import run_forever

    cfg = load(config_path, topic_files)
    if list_only:
        click.echo(format_schedule_list(cfg))
        return
    sys.exit(run_forever(cfg.path, topic_files=list(topic_files), echo=click.echo, **pipeline_hooks()))


@cli.command()
@config_options
@click.argument("brief", required=False)
@click.option("--limit", type=click.IntRange(min=1), default=50, help="At most N runs.")
@handle_errors
def history(
    config_path: Path | None, topic_files: tuple[Path, ...], brief: str | None, limit: int
) -> None:
    """Print the run history: scheduled runs, manual builds and their deliveries."""
    from briefgen.schedule.report import format_history

    cfg = load(config_path, topic_files)
    click.echo(format_history(cfg, brief, limit=limit))


def main() -> None:
    """Entry point of the ``briefgen`` console script."""
    cli(prog_name="briefgen")
