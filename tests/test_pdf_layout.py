"""The PDF's page layout, read back with pypdf: note numbers run upwards on every page, and no
page ends with a large blank unless a section ends there (quotes break across pages).

Two PDFs: the seeds brief, and a hand-built brief of 30 long quotes of random lengths.
"""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pytest
from briefdata import TEMPLATES, make_brief
from pdfpages import Line, blank_share, footnote_numbers, page_lines, starts_with_heading
from test_build import copy_project, indexed

from briefgen.build import build_brief
from briefgen.outputs.render import render_outputs

# Of the body area, below a page's last line, unless a section ends there. Before quotes could
# break across pages, the seeds brief's pages 2-4 ended 13-16 % blank; now at most ~8 %.
MAX_BLANK = 0.12


@pytest.fixture(scope="module")
def seeds_pdf(tmp_path_factory: pytest.TempPathFactory) -> pypdf.PdfReader:
    root = tmp_path_factory.mktemp("layout")
    cfg = indexed(copy_project(root / "project"))
    build_brief(cfg, formats=["pdf"], out_dir=root / "out", as_of=dt.date(2026, 3, 15))
    return pypdf.PdfReader(root / "out" / "brief.pdf")


@pytest.fixture(scope="module")
def long_pdf() -> pypdf.PdfReader:
    data = render_outputs(make_brief(hostile=True, long=True), ["pdf"], [TEMPLATES])["pdf"]
    return pypdf.PdfReader(io.BytesIO(data))


@pytest.fixture(params=["seeds_pdf", "long_pdf"])
def pdf(request: pytest.FixtureRequest) -> pypdf.PdfReader:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_note_numbers_run_upwards_on_every_page(pdf: pypdf.PdfReader) -> None:
    seen: list[int] = []
    for index, page in enumerate(pdf.pages, 1):
        numbers = footnote_numbers(page_lines(page))
        assert numbers == sorted(set(numbers)), (index, numbers)
        seen += numbers
    # Every note appears once, in order, across the whole document.
    assert seen == list(range(1, len(seen) + 1)) and len(seen) >= 15


def test_no_page_ends_half_empty_unless_a_section_ends_there(pdf: pypdf.PdfReader) -> None:
    pages = [page_lines(p) for p in pdf.pages]
    checked = 0
    for index, (page, lines) in enumerate(zip(pdf.pages, pages, strict=True)):
        if index + 1 == len(pages) or starts_with_heading(pages[index + 1]):
            continue  # the last page, or a section ends here
        checked += 1
        share = blank_share(page, lines)
        assert share <= MAX_BLANK, f"page {index + 1}: {share:.0%} blank"
    assert checked >= 2


def test_the_method_note_fits_in_half_a_page(seeds_pdf: pypdf.PdfReader) -> None:
    for page in seeds_pdf.pages:
        lines = page_lines(page)
        heads = {ln.text: ln.y for ln in lines if ln.size >= 13}
        if "Method" in heads:
            below = [y for t, y in heads.items() if y < heads["Method"]]
            end = max(below) if below else min(ln.y for ln in lines)
            assert heads["Method"] - end < float(page.mediabox.height) / 2
            return
    pytest.fail("no Method heading found")


def test_layout_checks_can_fail() -> None:
    class Page:
        mediabox = pypdf.generic.RectangleObject([0, 0, 595, 842])

    # One line high on the page, then the notes: mostly blank.
    lines = [Line(700.0, 10.0, "A lonely line"), Line(100.0, 7.5, "1."), Line(100.0, 7.5, "Note")]
    assert blank_share(Page(), lines) > MAX_BLANK  # type: ignore[arg-type]
    assert footnote_numbers([Line(100.0, 7.5, "8."), Line(90.0, 7.5, "2.")]) == [8, 2]
