"""Render a set of formats of one brief, in memory (nothing is written here).

:func:`render_guarded` is what the render process runs (templates and stylesheets are the
user's: briefgen.build runs it under time and memory limits); it leaves the PDF's layout to
the caller, which runs it in a process that imported WeasyPrint ahead of time.
:func:`render_outputs` does everything in this process (the library and tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from briefgen.brief.model import Brief
from briefgen.outputs import OUTPUTS, file_hashes
from briefgen.outputs.base import FILES_KEY, LaidOutOutput, RenderContext, records_files


def render_outputs(
    brief: Brief, formats: Sequence[str], template_dirs: Sequence[Path]
) -> dict[str, bytes]:
    """Render every requested format in this process; return format → bytes.

    An output that records the others' sha256 (brief.json) renders after them.
    """
    context = RenderContext(tuple(template_dirs))
    rendered: dict[str, bytes] = {}
    for name in sorted(formats, key=lambda n: records_files(OUTPUTS.get(n))):
        if records_files(OUTPUTS.get(name)):
            context.results[FILES_KEY] = file_hashes(rendered)
        rendered[name] = OUTPUTS.get(name).render(brief, context)
    return {name: rendered[name] for name in formats}


def render_guarded(
    brief: Brief, formats: Sequence[str], template_dirs: Sequence[Path]
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Render ``formats`` (in the render process); a laid-out format is only prepared.

    Returns (format → bytes, format → what its ``finish`` lays out).
    """
    context = RenderContext(tuple(template_dirs))
    rendered: dict[str, bytes] = {}
    prepared: dict[str, Any] = {}
    for name in formats:
        output = OUTPUTS.get(name)
        if isinstance(output, LaidOutOutput):
            prepared[name] = output.prepare(brief, context)
        else:
            rendered[name] = output.render(brief, context)
    return rendered, prepared
