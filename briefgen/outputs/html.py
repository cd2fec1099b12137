"""brief.html: the HTML edition, one standalone file for a browser or a mail client.

brief.md converted for screens (notes at the end, linked both ways) and wrapped in
brief.standalone.html.j2, which carries its stylesheet inline: no script, no link to a
stylesheet, font or image, so the file reads the same offline, in a browser and as the body
of the email brief. The same text, citations and escaping as brief.md, since it is made
from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from briefgen.outputs.base import RenderContext
from briefgen.outputs.md import markdown_text

if TYPE_CHECKING:
    from briefgen.brief.model import Brief

TEMPLATE = "brief.standalone.html.j2"


class HtmlOutput:
    """brief.html."""

    name = "html"
    filename = "brief.html"
    summary = "standalone HTML for browsers and email"
    guarded = True

    def render(self, brief: Brief, context: RenderContext) -> bytes:
        """Return brief.html, UTF-8."""
        from markupsafe import Markup

        from briefgen.outputs.markup import markdown_to_html
        from briefgen.outputs.templates import render_template

        # Safe: escaping was done when brief.md was rendered.
        body = Markup(markdown_to_html(markdown_text(brief, context), layout="screen"))
        page = render_template(
            brief, context.template_dirs, TEMPLATE, escape="html", extra={"body": body}
        )
        return page.encode("utf-8")


OUTPUT = HtmlOutput()
