"""brief.md: the Markdown brief, from the template brief.md.j2 (GitHub-style footnotes).

Its text is also where brief.html and brief.pdf start from (converted by Python-Markdown), so
the three say the same thing with the same citations; it is rendered once per build.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from briefgen.outputs.base import RenderContext

if TYPE_CHECKING:
    from briefgen.brief.model import Brief

TEMPLATE = "brief.md.j2"


def markdown_text(brief: Brief, context: RenderContext) -> str:
    """Return brief.md's text (rendered once per build, shared with the outputs made from it)."""

    def render() -> str:
        from briefgen.outputs.templates import render_template

        return render_template(brief, context.template_dirs, TEMPLATE, escape="markdown")

    return context.once("md", render)


class MarkdownOutput:
    """brief.md."""

    name = "md"
    filename = "brief.md"
    summary = "Markdown"
    guarded = True

    def render(self, brief: Brief, context: RenderContext) -> bytes:
        """Return brief.md, UTF-8."""
        return markdown_text(brief, context).encode("utf-8")


OUTPUT = MarkdownOutput()
