"""The pipeline as users run it: refresh the index, then build (and what follows a build).

``briefgen build`` and the scheduler both go through here, so "index first, then build" is
written once. The stages themselves are in their subpackages; ``briefgen.build.build_brief``
reads as the build's steps in order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    renderer: RenderWorker | None = None,
    strict: bool = False,
) -> BuildResult:
    """Refresh the index, then build one brief and write its files.

    An empty corpus is a warning, or with ``strict`` an error (nothing written)."""
    from briefgen.build import build_brief  # WeasyPrint's side of the build: imported on use

    refresh_index(cfg, warn=warn)
    return build_brief(cfg, brief_name, formats=formats, out_dir=out_dir, as_of=as_of,
                       renderer=renderer, strict=strict, warn=warn)
