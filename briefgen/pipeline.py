"""The pipeline as users run it: refresh the index, then build (and what follows a build).

``briefgen build`` and the scheduler both go through here, so "index first, then build" is
written once. The stages themselves are in their subpackages; ``briefgen.build.build_brief``
reads as the build's steps in order. A build from the command line is then recorded in the
run history (``build_and_record``), with a pending delivery per channel when asked to deliver.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.config.usage import run_sections, unused_topics
from briefgen.index.update import BUILD_MAX_WARNINGS, update_index

if TYPE_CHECKING:
    from briefgen.build import BuildResult
    from briefgen.config.schema import LoadedConfig
    from briefgen.outputs.guard import RenderWorker

Warn = Callable[[str], None]
RefreshFunction = Callable[..., Any]


def refresh_index(
    cfg: LoadedConfig, *, warn: Warn, refresh: RefreshFunction | None = None
) -> None:
    """Bring the index up to date before a build, showing at most a few skip warnings."""
    (refresh or update_index)(cfg, progress=False, warn=warn, max_warnings=BUILD_MAX_WARNINGS)


def refresh_and_build(
    cfg: LoadedConfig,
    brief_name: str | None = None,
    *,
    warn: Warn,
    formats: list[str] | None = None,
    out_dir: Path | None = None,
    as_of: dt.date | None = None,
    since: dt.date | None = None,
    within_days: int | None = None,
    topics: list[str] | None = None,
    previous: Path | None = None,
    renderer: RenderWorker | None = None,
    now: dt.datetime | None = None,
    strict: bool = False,
) -> BuildResult:
    """Refresh the index, then build one brief and write its files.

    An empty corpus is a warning, or with ``strict`` an error (nothing written). The sections
    are ``topics`` (``--topics``) if given, else the brief's own followed by the
    ``--topic-file`` topics; a loaded topic that ends up in no brief is a warning. ``now``
    defaults to SOURCE_DATE_EPOCH when it is set (reproducible builds), else the current time.
    """
    from briefgen.build import build_brief, find_brief, parse_source_date_epoch

    name, spec = find_brief(cfg, brief_name)
    now = now or parse_source_date_epoch(os.environ)  # reproducible builds fix "Generated"
    sections = run_sections(cfg, spec, topics)
    for line in unused_topics(cfg, (name, sections)):
        warn(line)
    refresh_index(cfg, warn=warn)
    return build_brief(cfg, name, formats=formats, out_dir=out_dir, as_of=as_of, since=since,
                       within_days=within_days, topics=sections, previous=previous,
                       renderer=renderer, now=now, strict=strict, warn=warn)


def build_and_record(
    cfg: LoadedConfig,
    brief_name: str | None = None,
    *,
    warn: Warn,
    deliver: bool = False,
    formats: list[str] | None = None,
    **options: Any,
) -> tuple[BuildResult, int | None]:
    """Refresh, build, and record the build in the run history as a manual build.

    With ``deliver``, the brief's deliveries are recorded pending (the formats they send are
    built too); send them with ``briefgen.schedule.manual.send_run``. Returns the result and
    the run's id (None if the history could not record a build that delivers nothing).
    ``options`` are :func:`refresh_and_build`'s (out_dir, as_of, since, within_days, topics,
    previous, renderer, now, strict).
    """
    from briefgen.build import find_brief
    from briefgen.errors import ScheduleError
    from briefgen.schedule.deliveries import formats_to_build
    from briefgen.schedule.manual import record_build, require_channels

    name, spec = find_brief(cfg, brief_name)
    channels = require_channels(cfg, name, spec) if deliver else []
    if deliver:
        formats = formats_to_build(spec, formats or list(spec.formats))
    result = refresh_and_build(cfg, name, warn=warn, formats=formats, **options)
    try:
        return result, record_build(cfg, result.brief, result.files, channels=channels)
    except (ScheduleError, OSError) as exc:  # e.g. a read-only or broken state folder
        if deliver:
            raise ScheduleError(f"cannot record the build to deliver it: {exc}") from exc
        warn(f"the build is not in the run history: {exc}")
        return result, None
