"""Rendering: Markdown escaping, the template sandbox, HTML safety, and the PDF (via pypdf)."""

from __future__ import annotations

import dataclasses
import html
import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pypdf
import pytest
from briefdata import HOSTILE, NAMES, TEMPLATES, make_brief
from hypothesis import given
from hypothesis import strategies as st

from briefgen.brief.model import Brief
from briefgen.errors import RenderError
from briefgen.outputs.base import RenderContext
from briefgen.outputs.markup import escape_markdown, new_markdown
from briefgen.outputs.md import markdown_text
from briefgen.outputs.pdf import print_page, restricted_fetcher
from briefgen.outputs.render import render_outputs


def render_markdown(brief: Brief, template_dirs: list[Path]) -> str:
    """Return brief.md's text."""
    return markdown_text(brief, RenderContext(tuple(template_dirs)))


def render_html(brief: Brief, md_text: str, template_dirs: list[Path]) -> str:
    """Return the page brief.pdf is laid out from."""
    return print_page(brief, md_text, RenderContext(tuple(template_dirs)))


def squash(text: str) -> str:
    """Collapse whitespace runs, as quotes are compared in extracted PDF text."""
    return " ".join(text.split())


class Tags(HTMLParser):
    """Collect every start tag with its attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


# --- Markdown escaping ---------------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Co")), max_size=200)
# Arbitrary text rarely spells Markdown; this alphabet mostly does.
MARKUP_HEAVY = st.text(alphabet=st.sampled_from(list("#*_[]()<>!&`{}|:;.-+=~^\\/\"' \n\taZ19")), max_size=80)


@given(st.one_of(ANY_TEXT, MARKUP_HEAVY))
def test_escaped_text_renders_as_itself(text: str) -> None:
    md = new_markdown()
    collapsed = squash(text)
    out = md.convert(escape_markdown(text, md))
    inner = re.sub(r'^<header class="title-block">\n?|\n?</header>$', "", out)
    assert inner == (f"<p>{html.escape(collapsed, quote=False)}</p>" if collapsed else "")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("briefgen 0.1.0", "briefgen 0.1.0"),  # "0." is a list marker only before a space
        ("0.1.0", "0.1.0"),
        ("1. First", "1\\. First"),
        ("2026) Budget", "2026\\) Budget"),
        ("seeds/001_692c.txt", "seeds/001_692c.txt"),  # "_" inside a word is inert
        ("snake_case_name", "snake_case_name"),
        ("_lead and trail_", "\\_lead and trail\\_"),
        ("a _b_ c", "a \\_b\\_ c"),
        ("x__y", "x\\_\\_y"),
        ("2*3*4", "2\\*3\\*4"),  # "*" emphasises inside words
    ],
)
def test_escaping_leaves_inert_characters_readable(text: str, escaped: str) -> None:
    md = new_markdown()
    assert escape_markdown(text, md) == escaped
    inner = re.sub(r'^<header class="title-block">\n?|\n?</header>$', "", md.convert(escaped))
    assert inner == f"<p>{html.escape(text, quote=False)}</p>"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_passage_is_one_plain_paragraph(hostile: str) -> None:
    md = new_markdown()
    out = md.convert(escape_markdown(hostile, md))
    tags = parse(out)
    assert [t for t, _ in tags.tags] == ["header", "p"]
    assert "".join(tags.text).strip() == hostile


# --- Templates: sandbox and error reporting -------------------------------------------------

def template_copy(tmp_path: Path, md_template: str | None = None, html_template: str | None = None) -> Path:
    folder = tmp_path / "tpl"
    shutil.copytree(TEMPLATES, folder)
    if md_template is not None:
        (folder / "brief.md.j2").write_text(md_template, encoding="utf-8")
    if html_template is not None:
        (folder / "brief.html.j2").write_text(html_template, encoding="utf-8")
    return folder


def test_large_counts_have_thousands_separators() -> None:
    brief = make_brief()
    big = dataclasses.replace(brief, corpus=dataclasses.replace(
        brief.corpus, source_count=105359, dated_count=104198))
    assert "Window: the whole corpus, 105,359 sources (104,198 dated, " in render_markdown(big, [TEMPLATES])


def test_undefined_variable_names_template_file_and_line(tmp_path: Path) -> None:
    folder = template_copy(tmp_path, md_template="# {{ brief.title }}\n\n{{ brief.nonexistent }}\n")
    with pytest.raises(RenderError) as err:
        render_markdown(make_brief(), [folder])
    assert re.search(r"brief test-brief: .*brief\.md\.j2:3: .*nonexistent", str(err.value))


def test_syntax_error_names_template_file_and_line(tmp_path: Path) -> None:
    folder = template_copy(tmp_path, html_template="<html>\n<body>\n{% if %}\n</body>")
    with pytest.raises(RenderError) as err:
        render_html(make_brief(), "# x\n", [folder])
    assert re.search(r"brief\.html\.j2:3: ", str(err.value))


def test_sandbox_blocks_python_internals(tmp_path: Path) -> None:
    folder = template_copy(tmp_path, md_template="{{ brief.__class__.__init__.__globals__ }}\n")
    with pytest.raises(RenderError, match="brief.md.j2:1"):
        render_markdown(make_brief(), [folder])


def test_brief_template_folder_wins_over_the_project_one(tmp_path: Path) -> None:
    folder = template_copy(tmp_path, md_template="Own template for {{ brief.title }}.\n")
    assert render_markdown(make_brief(), [folder, TEMPLATES]) == "Own template for Test Brief.\n"


# --- Markdown and HTML ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_md() -> str:
    return render_markdown(make_brief(hostile=True), [TEMPLATES])


def test_markdown_has_github_footnotes_and_the_empty_topic_line(hostile_md: str) -> None:
    brief = make_brief(hostile=True)
    for c in brief.citations:
        assert f"[^{c.number}]" in hostile_md
        assert hostile_md.count(f"\n[^{c.number}]: ") == 1
    assert "## Korea\n\n*The Korean peninsula.*\n\nNo relevant reporting in this corpus." in hostile_md
    assert "also reported by “Tariff Talk,” March 11, 2026" in hostile_md


def test_html_of_hostile_brief_has_no_injected_markup(hostile_md: str) -> None:
    page = render_html(make_brief(hostile=True), hostile_md, [TEMPLATES])
    tags = parse(page)
    names = {t for t, _ in tags.tags}
    assert not names & {"img", "script", "iframe", "object", "embed", "table", "link", "h1"} - {"h1"}
    assert sum(1 for t, _ in tags.tags if t == "h1") == 1  # only the brief's title
    for tag, attrs in tags.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        if tag == "a":
            href = attrs.get("href") or ""
            assert href.startswith("#") or href == "https://asia.nikkei.com/a", href
            assert attrs.get("rel") is None
    text = squash("".join(tags.text))
    for hostile in HOSTILE:
        assert f"{hostile} end." in text


def test_footnotes_sit_at_their_calls_in_html(hostile_md: str) -> None:
    page = render_html(make_brief(hostile=True), hostile_md, [TEMPLATES])
    assert 'class="footnote"' not in page.replace('<span class="footnote"', "")
    assert "footnote-backref" not in page and "fnref" not in page
    assert ('<span class="footnote" data-n="1">Ann Writer, “Alliance Deepens,” Nikkei Asia, '
            "March 10, 2026, ¶ 2.</span>") in page


# --- URL fetching -------------------------------------------------------------------------------

def test_fetcher_serves_template_files_and_data_only(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "logo.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    fetch = restricted_fetcher([tmp_path / "tpl"]).fetch
    assert fetch((tmp_path / "tpl" / "logo.svg").as_uri()) is not None
    assert fetch("data:text/plain,hello") is not None
    for url in [(tmp_path / "secret.txt").as_uri(), (tmp_path / "tpl" / ".." / "secret.txt").as_uri(),
                "file:///etc/passwd", "http://127.0.0.1:9/x.css", "https://example.com/x.png",
                "ftp://example.com/x"]:
        with pytest.raises(ValueError):
            fetch(url)


# --- The PDF: one render shared by the tests below ----------------------------------------------

@pytest.fixture(scope="module")
def pdf() -> pypdf.PdfReader:
    brief = make_brief(hostile=True, long=True)
    data = render_outputs(brief, ["pdf"], [TEMPLATES])["pdf"]
    return pypdf.PdfReader(io.BytesIO(data))


@pytest.fixture(scope="module")
def pages(pdf: pypdf.PdfReader) -> list[str]:
    return [squash(p.extract_text()) for p in pdf.pages]


def test_pdf_text_has_every_quote_unhyphenated(pages: list[str]) -> None:
    text = " ".join(pages)
    brief = make_brief(hostile=True, long=True)
    for c in brief.citations:
        # Quotes may break across pages (headers and footnotes in between): check both ends.
        assert squash(c.text)[:60] in text and squash(c.text)[-60:] in text, c.number
    assert NAMES in text


def test_each_footnote_is_on_the_page_of_its_call(pages: list[str]) -> None:
    brief = make_brief(hostile=True, long=True)
    calls = 0
    for c in brief.citations:
        end = squash(c.text)[-40:] + "”" + str(c.number)  # the quote's end, then its call
        call_pages = [i for i, t in enumerate(pages) if end in t]
        assert call_pages, c.number
        for i in call_pages:  # a passage cited in key points and a section has a note on each page
            assert f"{c.number}. {squash(c.note)}" in pages[i], (c.number, i)
            calls += 1
    assert calls >= 40
    assert len(pages) >= 8  # enough pages for breaks to matter


def test_no_attribution_line_starts_a_page_apart_from_its_quote(pdf: pypdf.PdfReader) -> None:
    running = {"Test Brief", "Security and defence", "Trade", "Korea", "Warnings", "Sources",
               "Method", "Key points", "Contents"}
    attributions = 0
    for number, page in enumerate(pdf.pages, 1):
        lines = [ln.strip() for ln in page.extract_text().splitlines() if ln.strip()]
        body = [ln for ln in lines if ln not in running and not ln.startswith("Page ")]
        attributions += sum(ln.startswith("— ") for ln in body)
        assert body and not body[0].startswith("— "), (number, body[:2])
    assert attributions >= 20  # the brief has enough quotes for page breaks to fall near them


def test_pdf_has_bookmarks_for_sections(pdf: pypdf.PdfReader) -> None:
    def titles(outline: list[Any]) -> list[str]:
        out: list[str] = []
        for item in outline:
            out += titles(item) if isinstance(item, list) else [item.title]
        return out

    names = titles(pdf.outline)
    for title in ["Test Brief", "Key points", "Security and defence", "Trade", "Korea", "Warnings",
                  "Sources", "Method"]:
        assert title in names


def test_pdf_metadata(pdf: pypdf.PdfReader) -> None:
    meta = pdf.metadata
    assert meta is not None
    assert meta.title == "Test Brief"
    assert meta.author == "Policy Unit"
    assert meta["/Keywords"] == "Security and defence, Trade, Korea"
    assert meta["/CreationDate"].startswith("D:20260315000000")


def test_pdf_running_header_and_page_numbers(pages: list[str]) -> None:
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert "Test Brief" in pages[1] and f"Page 2 of {len(pages)}" in pages[1]


def test_pdf_fonts_are_embedded(pdf: pypdf.PdfReader) -> None:
    seen = 0
    for page in pdf.pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            seen += 1
    assert seen


def test_pdf_has_no_attachments_or_external_links(pdf: pypdf.PdfReader) -> None:
    root = pdf.trailer["/Root"].get_object()
    assert "/EmbeddedFiles" not in root.get("/Names", {})
    uris = []
    for page in pdf.pages:
        for ref in page.get("/Annots", []) or []:
            annot = ref.get_object()
            assert annot["/Subtype"] == "/Link"
            action = annot.get("/A", {})
            assert action.get("/S") in (None, "/URI", "/GoTo")
            if "/URI" in action:
                uris.append(action["/URI"])
    assert set(uris) <= {"https://asia.nikkei.com/a"}
