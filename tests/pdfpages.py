"""Read a brief's PDF pages as positioned lines (pypdf), for layout tests: notes, page fill."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pypdf

MM = 72 / 25.4
# The page margins of templates/brief.css (@page): running header above, page number below.
TOP_MARGIN, BOTTOM_MARGIN = 22 * MM, 20 * MM
FOOTNOTE_SIZE = 7.5  # span.footnote font-size
HEADING_SIZE = 13.0  # h2
_MARKER = re.compile(r"^(\d+)\. ?$")


@dataclass(frozen=True)
class Line:
    """A piece of text drawn on a page: baseline height from the bottom, font size, text."""

    y: float
    size: float
    text: str


def page_lines(page: pypdf.PageObject) -> list[Line]:
    """Return the text pieces of a page inside its margins (no running header, no page number)."""
    height = float(page.mediabox.height)
    found: list[Line] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: object, size: float) -> None:
        if not text.strip():
            return
        matrix = pypdf.mult(tm, cm)
        y, scale = matrix[5], abs(matrix[3]) or 1.0
        if BOTTOM_MARGIN < y < height - TOP_MARGIN:
            found.append(Line(round(y, 2), round(size * scale, 2), text.strip()))

    page.extract_text(visitor_text=visit)
    return found


def footnote_numbers(lines: list[Line]) -> list[int]:
    """Return the note markers at the foot of a page ("7. …"), top to bottom."""
    markers = [ln for ln in lines if ln.size == FOOTNOTE_SIZE and _MARKER.match(ln.text)]
    return [int(_MARKER.match(ln.text).group(1)) for ln in sorted(markers, key=lambda ln: -ln.y)]  # type: ignore[union-attr]


def blank_share(page: pypdf.PageObject, lines: list[Line]) -> float:
    """Return the share of a page's body area left blank below its last line of text.

    The body area is the text area above the footnotes (their rule and margin take ~30 pt
    above the first note's baseline); the blank runs from the body's last baseline down to it.
    """
    top = float(page.mediabox.height) - TOP_MARGIN
    markers = [ln.y for ln in lines if ln.size == FOOTNOTE_SIZE and _MARKER.match(ln.text)]
    notes_top = max(markers) + 30 if markers else BOTTOM_MARGIN
    body = [ln.y for ln in lines if ln.y > notes_top]
    if not body:
        return 1.0
    return max(0.0, min(body) - notes_top) / (top - notes_top)


def starts_with_heading(lines: list[Line]) -> bool:
    """Tell whether a page's first line of text is a section heading (h2)."""
    return bool(lines) and max(lines, key=lambda ln: ln.y).size >= HEADING_SIZE
