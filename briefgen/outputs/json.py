"""brief.json: the audit record (``brief_record``) that `briefgen verify` re-checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from briefgen.outputs.base import RenderContext

if TYPE_CHECKING:
    from briefgen.brief.model import Brief


class JsonOutput:
    """brief.json: no template, so it needs no render process."""

    name = "json"
    filename = "brief.json"
    summary = "audit record for `briefgen verify`"
    guarded = False

    def render(self, brief: Brief, context: RenderContext) -> bytes:
        """Return the record: stable key order, UTF-8, a final newline."""
        import json

        from briefgen.brief.record import brief_record

        text = json.dumps(brief_record(brief), ensure_ascii=False, indent=2) + "\n"
        return text.encode("utf-8")


OUTPUT = JsonOutput()
