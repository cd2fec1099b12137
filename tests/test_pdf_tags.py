"""brief.pdf is a tagged PDF: structure tree, language, reading order (checked with pypdf).

The seeds brief is built once for the module. Texts are read the way a screen reader reads a
tagged PDF: by walking /StructTreeRoot and joining the marked content each element points to.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdf
import pytest
from briefdata import ROOT
from click.testing import CliRunner
from pypdf.generic import DictionaryObject, IndirectObject

from briefgen.build import build_brief
from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.index.update import update_index

AS_OF = dt.date(2026, 3, 15)


def squash(text: str) -> str:
    """Collapse whitespace runs (line breaks in the PDF become spaces)."""
    return " ".join(text.split())


def compact(text: str) -> str:
    """Drop all whitespace: each line is its own element, and a line that ends in a hyphen
    ("nuclear-" / "sharing") must not gain a space when lines are joined."""
    return "".join(text.split())


@dataclass
class Node:
    """One structure element: its tag (``H1``, ``BlockQuote``…), its own text and its children."""

    tag: str
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        """Yield this element and every element under it, in reading order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def full_text(self) -> str:
        """Return the text of this element and everything under it, in reading order."""
        return squash(" ".join(n.text for n in self.walk()))


def marked_content_text(reader: pypdf.PdfReader) -> dict[tuple[int, int], str]:
    """Return the text of each marked-content sequence, keyed by (page index, MCID)."""
    texts: dict[tuple[int, int], str] = {}
    for index, page in enumerate(reader.pages):
        for mcid, chunk in _page_marked_text(page):
            texts[index, mcid] = texts.get((index, mcid), "") + chunk
    return texts


def _page_marked_text(page: pypdf.PageObject) -> list[tuple[int, str]]:
    """Return (MCID, text) for each piece of text drawn inside a marked-content sequence."""
    open_mcids: list[int | None] = []  # BDC … EMC sequences open at this point of the stream
    found: list[tuple[int, str]] = []

    def operator(op: bytes, args: list[Any], _cm: Any, _tm: Any) -> None:
        if op == b"BDC":
            props = args[1]
            open_mcids.append(props.get("/MCID") if isinstance(props, DictionaryObject) else None)
        elif op == b"BMC":
            open_mcids.append(None)
        elif op == b"EMC" and open_mcids:
            open_mcids.pop()

    def text(chunk: str, _cm: Any, _tm: Any, _font: Any, _size: Any) -> None:
        mcids = [m for m in open_mcids if m is not None]
        if mcids:
            found.append((int(mcids[-1]), chunk))

    page.extract_text(visitor_operand_before=operator, visitor_text=text)
    return found


def structure_tree(reader: pypdf.PdfReader) -> Node:
    """Return the document's structure tree, with each element's marked-content text."""
    texts = marked_content_text(reader)
    page_of = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages) if p.indirect_reference}

    def build(ref: IndirectObject) -> Node:
        elem = ref.get_object()
        page = elem.get("/Pg")
        index = page_of.get(page.idnum) if page is not None else None
        kids = elem.get("/K")
        node = Node(str(elem.get("/S", "")).lstrip("/"))
        for kid in kids if isinstance(kids, list) else [kids]:
            if isinstance(kid, IndirectObject):
                if kid.get_object().get("/Type") != "/OBJR":  # OBJR: a link annotation
                    node.children.append(build(kid))
            elif kid is not None and index is not None:
                node.text += texts.get((index, int(kid)), "")
        return node

    root = reader.trailer["/Root"].get("/StructTreeRoot")
    if root is None:
        return Node("StructTreeRoot")  # an untagged PDF
    kids = root.get_object()["/K"]
    return Node("StructTreeRoot", children=[build(k) for k in (kids if isinstance(kids, list) else [kids])])


@dataclass(frozen=True)
class Built:
    """The seeds brief built once: its files, the parsed PDF and its structure tree."""

    config: Path
    md: Path
    pdf: Path
    json: Path
    reader: pypdf.PdfReader
    tree: Node


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("tags") / "project"
    root.mkdir()
    shutil.copy2(ROOT / "config.yaml", root / "config.yaml")
    for name in ("seeds", "topics", "templates"):
        shutil.copytree(ROOT / name, root / name)
    cfg = load_config(root / "config.yaml")
    update_index(cfg, progress=False, warn=lambda _m: None)
    files = {p.suffix: p for p in build_brief(cfg, formats=["md", "pdf", "json"], as_of=AS_OF).files}
    reader = pypdf.PdfReader(files[".pdf"])
    return Built(root / "config.yaml", files[".md"], files[".pdf"], files[".json"], reader,
                 structure_tree(reader))


def title(built: Built) -> str:
    """Return the brief's title (the first line of brief.md)."""
    return built.md.read_text(encoding="utf-8").splitlines()[0].removeprefix("# ")


def full_quotes(built: Built) -> list[tuple[int, str]]:
    """Return (note, quote) for each passage, where it is first quoted in full (in a section)."""
    record = json.loads(built.json.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    for section in record["sections"]:
        for p in section["passages"]:
            seen.setdefault(p["text"], p["citation"])
    return [(citation, text) for text, citation in seen.items()]


def test_pdf_is_tagged_with_a_language_and_makes_no_pdf_ua_claim(built: Built) -> None:
    catalog = built.reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en"  # from <html lang="en"> in brief.html.j2
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    # Running headers and page numbers are not artifacts in WeasyPrint 70, so the file must
    # not claim PDF/UA-1 conformance (pdfuaid in the XMP metadata).
    metadata = catalog.get("/Metadata")
    assert metadata is None or b"pdfuaid" not in metadata.get_object().get_data()
    assert all(page.get("/Tabs") == "/S" for page in built.reader.pages)  # tab order = structure


def test_headings_are_h1_then_h2_in_reading_order(built: Built) -> None:
    md = built.md.read_text(encoding="utf-8").splitlines()
    expected = [("H1" if line.startswith("# ") else "H2", line.split(" ", 1)[1].replace("\\", ""))
                for line in md if line.startswith(("# ", "## "))]
    headings = [(n.tag, n.full_text()) for n in built.tree.walk() if n.tag in ("H1", "H2", "H3")]
    assert headings == expected
    assert [tag for tag, _ in headings].count("H1") == 1


def test_lists_are_tagged_as_lists(built: Built) -> None:
    tags = [n.tag for n in built.tree.walk()]
    assert {"L", "LI", "Lbl", "LBody", "P", "Sect", "Link"} <= set(tags)


def test_each_quote_is_whole_in_a_block_quote_in_reading_order(built: Built) -> None:
    # A quote must read as one run of text: no footnote, header or page number in between.
    quoted = compact("".join(n.full_text() for n in built.tree.walk() if n.tag == "BlockQuote"))
    positions = []
    for citation, text in full_quotes(built):
        at = quoted.find(compact(text))
        assert at >= 0, citation
        positions.append(at)
    assert positions == sorted(positions)
    assert len(positions) >= 10


def test_footnotes_follow_their_calls_and_page_furniture_is_left_out(built: Built) -> None:
    text = compact(built.tree.full_text())
    notes = dict(line[2:].replace("\\", "").split("]: ", 1)
                 for line in built.md.read_text(encoding="utf-8").splitlines() if line.startswith("[^"))
    for citation, quote in full_quotes(built):
        call = text.find(compact(quote)[-40:] + "”" + str(citation))
        assert call >= 0, citation
        # The note, with its marker, is read after the paragraph that calls it (at the page end).
        assert text.find(compact(f"{citation}. {notes[str(citation)]}"), call) > call, citation
    # Running headers and "Page X of Y" are drawn but kept out of the structure tree.
    pages = [squash(p.extract_text()) for p in built.reader.pages]
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert "Page1of" not in text


def test_tagging_keeps_bookmarks_metadata_and_verbatim_quotes(built: Built) -> None:
    outline = [item.title for item in built.reader.outline if not isinstance(item, list)]
    assert outline[0] == title(built)
    meta = built.reader.metadata
    assert meta is not None and meta.title == title(built) and meta.author
    assert meta["/Keywords"]
    pages = " ".join(squash(p.extract_text()) for p in built.reader.pages)
    for citation, quote in full_quotes(built):
        assert squash(quote)[:60] in pages and squash(quote)[-60:] in pages, citation
    result = CliRunner().invoke(cli, ["verify", "-c", str(built.config), str(built.json)])
    assert result.exit_code == 0 and ": ok — " in result.output, result.output
