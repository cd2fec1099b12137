"""brief.json: the audit record (``briefgen.brief.record``) that `briefgen verify` re-checks.

It records the sha256 of the other files of the build, so it is rendered after them
(``records_files``; their hashes come in ``context.results[FILES_KEY]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from briefgen.outputs.base import FILES_KEY, RenderContext

if TYPE_CHECKING:
    from briefgen.brief.model import Brief


class JsonOutput:
    """brief.json: no template, so it needs no render process."""

    name = "json"
    filename = "brief.json"
    summary = "audit record for `briefgen verify`"
    guarded = False
    records_files = True

    def render(self, brief: Brief, context: RenderContext) -> bytes:
        """Return the record: stable key order, UTF-8, a final newline, its own hash last."""
        from briefgen.brief.record import record_text

        return record_text(brief, context.results.get(FILES_KEY, {})).encode("utf-8")


OUTPUT = JsonOutput()
