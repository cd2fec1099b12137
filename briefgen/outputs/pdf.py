"""brief.pdf: brief.md → the print page (brief.html.j2 + brief.css) → WeasyPrint → PDF.

WeasyPrint fetches only from the template folders and ``data:`` URLs; brief.pdf is a tagged
PDF (see :data:`PDF_OPTIONS`). WeasyPrint is imported inside :func:`html_to_pdf` only (or ahead
of time, in the layout process, by :func:`import_weasyprint`): it costs ~0.5 s to import and
most commands never need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.errors import RenderError
from briefgen.outputs.base import RenderContext
from briefgen.outputs.guard import stage
from briefgen.outputs.md import markdown_text

if TYPE_CHECKING:
    from briefgen.brief.model import Brief

PAGE_TEMPLATE = "brief.html.j2"  # the page WeasyPrint prints
CSS_FILE = "brief.css"

# Policy readers need accessible PDFs (screen readers, reflow; Section 508, EN 301 549).
# WeasyPrint's tagging adds the structure tree (H1/H2, P, L/LI, BlockQuote, Link), /MarkInfo,
# /Lang from <html lang>, the title as window title and a structure tab order. Layout and
# extracted text are unchanged; it costs ~0.03 s and ~25% more bytes. The file does not claim
# PDF/UA-1 (``pdf_variant="pdf/ua-1"`` would write that claim with the same tags): WeasyPrint
# 70 does not mark running headers and page numbers as artifacts, which PDF/UA-1 requires.
# What it leaves untagged is listed in docs/ARCHITECTURE.md (render_pdf.py).
PDF_OPTIONS: dict[str, Any] = {"pdf_tags": True}


@dataclass(frozen=True)
class PdfPage:
    """What brief.pdf is laid out from: the HTML page, its stylesheet, where it may fetch from."""

    html: str
    css: Path
    template_dirs: list[Path]
    brief: str  # the brief's name, for error messages


class PdfOutput:
    """brief.pdf: prepared with the templates, laid out where WeasyPrint was imported ahead."""

    name = "pdf"
    filename = "brief.pdf"
    summary = "print layout, tagged PDF"
    guarded = True

    def render(self, brief: Brief, context: RenderContext) -> bytes:
        """Return the PDF's bytes."""
        return self.finish(self.prepare(brief, context))

    def prepare(self, brief: Brief, context: RenderContext) -> PdfPage:
        """Return the print page and where its stylesheet and files are."""
        from briefgen.outputs.templates import find_file

        page = print_page(brief, markdown_text(brief, context), context)
        css = find_file(context.template_dirs, CSS_FILE)
        return PdfPage(page, css, list(context.template_dirs), brief.name)

    def finish(self, prepared: PdfPage) -> bytes:
        """Lay out the page: the PDF's bytes."""
        return layout_pdf(prepared)

    def warm_up(self) -> None:
        """Import WeasyPrint."""
        import_weasyprint()


def print_page(brief: Brief, md_text: str, context: RenderContext) -> str:
    """Convert brief.md to print HTML and wrap it in the page template (brief.html.j2)."""
    from markupsafe import Markup

    from briefgen.outputs.markup import markdown_to_html
    from briefgen.outputs.templates import render_template

    body = Markup(markdown_to_html(md_text))  # escaping was done when brief.md was rendered
    return render_template(
        brief, context.template_dirs, PAGE_TEMPLATE, escape="html", extra={"body": body}
    )


def layout_pdf(page: PdfPage) -> bytes:
    """Lay out a brief's HTML page and return the PDF bytes."""
    stage(f"PDF layout with {page.css}")
    return html_to_pdf(page.html, css=page.css, allowed_dirs=page.template_dirs, brief=page.brief)


def html_to_pdf(page: str, *, css: Path, allowed_dirs: list[Path], brief: str) -> bytes:
    """Render an HTML page and its stylesheet to PDF bytes."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    fetcher = restricted_fetcher(allowed_dirs)
    fonts = FontConfiguration()
    # Relative URLs in the page (images, fonts) resolve against the first template folder.
    base_url = allowed_dirs[0].resolve().as_uri() + "/"
    try:
        stylesheet = weasyprint.CSS(filename=str(css), url_fetcher=fetcher, font_config=fonts)
        document = weasyprint.HTML(string=page, base_url=base_url, url_fetcher=fetcher)
        pdf: bytes | None = document.write_pdf(
            stylesheets=[stylesheet], font_config=fonts, **PDF_OPTIONS
        )
    except Exception as exc:  # WeasyPrint raises many types; the user needs the brief and cause
        raise RenderError(f"brief {brief}: PDF rendering failed: {type(exc).__name__}: {exc}") from exc
    if pdf is None:
        raise RenderError(f"brief {brief}: PDF rendering produced nothing")
    return pdf


def import_weasyprint() -> None:
    """Import the parts of WeasyPrint :func:`html_to_pdf` uses (ahead of time, to overlap other work)."""
    import weasyprint
    import weasyprint.text.fonts
    import weasyprint.urls  # noqa: F401


def restricted_fetcher(allowed_dirs: list[Path]) -> Any:
    """Return a URLFetcher that serves ``data:`` URLs and files inside ``allowed_dirs`` only."""
    import urllib.parse
    import urllib.request

    from weasyprint.urls import URLFetcher

    roots = [d.resolve() for d in allowed_dirs]

    class TemplateFolderFetcher(URLFetcher):  # type: ignore[misc]
        """Refuse the network and any file outside the template folders."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=1)

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "file":
                path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path)).resolve()
                if not any(path == root or root in path.parents for root in roots):
                    raise ValueError(f"refused to fetch {url}: outside the template folder")
            elif scheme != "data":
                raise ValueError(f"refused to fetch {url}: only template files and data: URLs")
            return super().fetch(url, headers)

    return TemplateFolderFetcher()


OUTPUT = PdfOutput()
