"""Split cleaned article text into paragraph-level passages with exact source offsets.

Every passage ``p`` of a document with decoded source text ``raw`` satisfies
``p.text == briefgen.text.normalize(raw[p.start:p.end])``, so a quote can always be found again
in its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from briefgen.models import Passage
from briefgen.text import normalizer_for, sentence_ends, tighten

#: Paragraphs longer than this (in source characters) are split at sentence boundaries.
MAX_PASSAGE_CHARS = 1200


def split_long(
    text: str, start: int, end: int, max_chars: int = MAX_PASSAGE_CHARS
) -> list[tuple[int, int]]:
    """Split a tight span longer than ``max_chars`` into roughly equal runs of whole sentences."""
    length = end - start
    if length <= max_chars:
        return [(start, end)]
    pieces = -(-length // max_chars)
    target = length / pieces
    cuts = sentence_ends(text, start, end)
    if not cuts:
        # One enormous "sentence": fall back to whitespace so no passage is unbounded.
        cuts = [m.start() for m in re.finditer(r"\s+", text[start:end])]
        cuts = [start + c for c in cuts]
    spans: list[tuple[int, int]] = []
    chunk_start = start
    for cut in cuts:
        if cut - chunk_start >= target and end - cut > max_chars * 0.2:
            spans.append((chunk_start, cut))
            chunk_start = cut
    spans.append((chunk_start, end))
    out = []
    for s, e in spans:
        s, e = tighten(text, s, e)
        if s < e:
            out.append((s, e))
    return out


@dataclass(frozen=True, slots=True)
class Block:
    """A cleaned piece of the source text: a paragraph or a heading, as a span of it."""

    start: int
    end: int
    kind: str  # "paragraph" or "heading"


def build_passages(
    doc_id: str, text: str, blocks: Iterable[Block], max_chars: int = MAX_PASSAGE_CHARS
) -> tuple[Passage, ...]:
    """Turn cleaned blocks into numbered passages; headings become the ``section`` context."""
    norm = normalizer_for(text)
    passages: list[Passage] = []
    section: str | None = None
    for block in blocks:
        start, end = tighten(text, block.start, block.end)
        if start >= end:
            continue
        if block.kind == "heading":
            section = norm(text[start:end]) or section
            continue
        for s, e in split_long(text, start, end, max_chars):
            quote = norm(text[s:e])
            if quote:
                passages.append(
                    Passage(
                        doc_id=doc_id,
                        ordinal=len(passages) + 1,
                        start=s,
                        end=e,
                        text=quote,
                        section=section,
                    )
                )
    return tuple(passages)
