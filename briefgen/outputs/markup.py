"""Markdown for briefs: escaping corpus text, and brief.md → HTML for print or for screens.

The HTML step uses Python-Markdown with the footnotes extension and one treeprocessor of ours.
For print (brief.pdf) it moves each footnote to its call (for CSS ``float: footnote``); for
screens (brief.html, the email body) the notes stay at the end, under a "Notes" heading, linked
both ways. Either way sections are wrapped in ``<section>``, headings get GitHub-style ids (so
the Contents links of brief.md work), "New" badges and attribution lines get classes.
"""

from __future__ import annotations

import copy
import html
import re
import unicodedata
import xml.etree.ElementTree as etree
from typing import Literal

import markdown
from markdown.extensions import Extension, footnotes
from markdown.extensions.toc import render_inner_html, strip_tags
from markdown.treeprocessors import Treeprocessor

Layout = Literal["print", "screen"]
_BLOCKS = {"p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt"}


def new_markdown(layout: Layout = "print") -> markdown.Markdown:
    """Return the one Markdown configuration used for briefs (escaping depends on it).

    Both layouts read Markdown alike (the same extensions, so the same escapable characters);
    they differ only in the shape of the HTML tree.
    """
    footnotes_config: dict[str, object] = {"UNIQUE_IDS": False}
    if layout == "screen":
        # U+FE0E asks for the arrow as text: some phones draw a bare ↩ as a coloured emoji.
        footnotes_config["BACKLINK_TEXT"] = "&#8617;&#65038;"
    return markdown.Markdown(
        extensions=["footnotes", LayoutExtension(layout)],
        extension_configs={"footnotes": footnotes_config},
        output_format="html",
    )


# Characters that can open inline markup anywhere in a line (code, emphasis, links, images,
# footnote calls, attribute lists, table cells). Everything else in ``md.ESCAPED_CHARS``
# (``. - + # ( ) !``) is markup only at the start of a line or right after one of these, so
# escaping it everywhere would only litter the Markdown a person reads with backslashes.
_INLINE_MARKUP = frozenset("\\`*_[]{}|")
# A line that starts with one of these can turn into a heading, list, quote or rule. A
# number is a list marker only when a space or the end of the line follows ("1. ", not "0.1").
_LINE_START = re.compile(r"^(?:[#>+=-]|\d+[.)](?=\s|$))")
# "_" between two letters or digits can neither open nor close emphasis (Python-Markdown's
# smart emphasis; CommonMark's flanking rules), so "file_name" needs no backslash.
_INNER_UNDERSCORE = re.compile(r"(?<=[^\W_])\\_(?=[^\W_])")
# "&copy;" or "&#169;" would be decoded by the browser; a bare "&" is escaped by Markdown.
_ENTITY = re.compile(r"&(?=#|\w+;)")


def escape_markdown(text: str, md: markdown.Markdown) -> str:
    """Make text inert in Markdown: it renders as itself, never as markup.

    Newlines are collapsed (no block structure can start), ``< >`` and entity-like ``&``
    become HTML entities (no raw HTML), then the characters that open inline markup are
    backslash-escaped, plus a block marker at the very start. Only characters in
    ``md.ESCAPED_CHARS`` are ever backslash-escaped: a backslash before any other character
    would stay visible and break verbatim quotes.
    """
    text = " ".join(text.split())
    text = _ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    escapable = set(md.ESCAPED_CHARS)
    inline = _INLINE_MARKUP & escapable
    out = "".join("\\" + ch if ch in inline else ch for ch in text)
    out = _INNER_UNDERSCORE.sub("_", out)
    start = _LINE_START.match(out)
    if start:
        marker = start.end() - 1  # the "#", "-", or the "." / ")" after a number
        if out[marker] in escapable:
            out = out[:marker] + "\\" + out[marker:]
    return out


def github_slug(text: str) -> str:
    """Return the anchor GitHub gives a heading: lowercase, punctuation dropped, spaces → -."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LNM")
    return text.replace(" ", "-")


def markdown_to_html(source: str, layout: Layout = "print") -> str:
    """Convert a brief's Markdown to the HTML body a page template wraps."""
    return str(new_markdown(layout).convert(source))


class LayoutExtension(Extension):  # type: ignore[misc]
    """Register :class:`BriefLayout` after inline processing and footnote handling."""

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        self.layout = layout

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After "inline" (20) and "footnote-duplicate" (15), before "prettify" (10).
        md.treeprocessors.register(BriefLayout(md, self.layout), "brief-layout", 12)


class BriefLayout(Treeprocessor):  # type: ignore[misc]
    """Reshape the HTML tree for paged media (print) or for a browser or mail client (screen)."""

    def __init__(self, md: markdown.Markdown, layout: Layout) -> None:
        super().__init__(md)
        self.layout = layout

    def run(self, root: etree.Element) -> None:
        """Place the footnotes, mark quotes, wrap sections."""
        notes = None
        if self.layout == "print":
            self._inline_footnotes(root)
        else:
            notes = self._take_notes(root)
        self._mark_paragraphs(root)
        if self.layout == "print":
            self._wrap_quote_lines(root)
        self._wrap_sections(root)
        if notes is not None:
            root.append(notes)

    def _take_notes(self, root: etree.Element) -> etree.Element | None:
        """Take the footnotes' list out of the tree, as a "Notes" section to put at the end."""
        for div in root.findall("div"):
            if div.get("class") != "footnote":
                continue
            root.remove(div)
            section = etree.Element("section", {"class": "section-notes"})
            heading = etree.SubElement(section, "h2", {"id": "notes"})
            heading.text = "Notes"
            section.extend(child for child in div if child.tag != "hr")
            return section
        return None

    def _text(self, el: etree.Element) -> str:
        """Return an element's text as a reader sees it (stashed entities resolved)."""
        return html.unescape(strip_tags(render_inner_html(el, self.md)))

    def _inline_footnotes(self, root: etree.Element) -> None:
        """Replace each footnote call with the note itself, as a span CSS floats to the page foot."""
        notes: dict[str, etree.Element] = {}
        for div in root.findall("div"):
            if div.get("class") == "footnote":
                for li in div.iter("li"):
                    notes[li.get("id", "")] = li
                root.remove(div)
        parents = {child: parent for parent in root.iter() for child in parent}
        for sup in list(root.iter("sup")):
            link = sup.find("a")
            if link is None or link.get("class") != "footnote-ref":
                continue
            label = link.get("href", "").removeprefix("#fn:")
            note = notes.get(f"fn:{label}")
            parent = parents[sup]
            span = etree.Element("span", {"class": "footnote", "data-n": label})
            if note is not None:
                body = note.find("p")
                body = copy.deepcopy(body if body is not None else note)
                for back in body.findall("a"):
                    if back.get("class") == "footnote-backref":
                        body.remove(back)
                span.text = body.text
                span.extend(list(body))
                _strip_backlink_spacing(span)
            span.tail = sup.tail
            parent[list(parent).index(sup)] = span
            block = parent
            while block.tag not in _BLOCKS and block in parents:
                block = parents[block]
            _add_class(block, "cites")

    def _mark_paragraphs(self, root: etree.Element) -> None:
        """Tag "New" badges and attribution lines so the stylesheet can address them."""
        for p in [*root.iter("p"), *root.iter("li")]:
            first = p[0] if len(p) else None
            starts_with_strong = first is not None and first.tag == "strong" and not (p.text or "").strip()
            if starts_with_strong and self._text(first).strip() == "New":  # type: ignore[arg-type]
                _add_class(first, "new")  # type: ignore[arg-type]
            if self._text(p).startswith("— "):
                _add_class(p, "attribution")

    def _wrap_quote_lines(self, root: etree.Element) -> None:
        """Wrap each quote paragraph's content in ``<span class="quote-text">``.

        The stylesheet draws a quote's rule on that span, line by line: a paragraph box cut
        by a page break stretches to the foot of the page, and a rule drawn on it would run
        down the blank below the quote's last line there.
        """
        for quote in root.iter("blockquote"):
            for p in quote.findall("p"):
                span = etree.Element("span", {"class": "quote-text"})
                span.text, p.text = p.text, None
                for child in list(p):
                    p.remove(child)
                    span.append(child)
                p.append(span)

    def _wrap_sections(self, root: etree.Element) -> None:
        """Put the title block in <header> and each h2 with what follows in a <section>."""
        children = list(root)
        for child in children:
            root.remove(child)
        container = etree.SubElement(root, "header", {"class": "title-block"})
        for child in children:
            if child.tag == "h2":
                slug = github_slug(self._text(child))
                child.set("id", slug)
                container = etree.SubElement(root, "section", {"class": f"section-{slug}"})
            container.append(child)


def _add_class(el: etree.Element, name: str) -> None:
    """Add a class to an element, keeping any it has."""
    classes = (el.get("class") or "").split()
    if name not in classes:
        el.set("class", " ".join([*classes, name]))


def _strip_backlink_spacing(span: etree.Element) -> None:
    """Drop the no-break space the footnotes extension puts before its back-links."""
    placeholder = footnotes.NBSP_PLACEHOLDER
    last = span[-1] if len(span) else None
    if last is not None and last.tail:
        last.tail = last.tail.replace(placeholder, "").rstrip()
    elif span.text:
        span.text = span.text.replace(placeholder, "").rstrip()

