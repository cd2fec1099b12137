"""Decode article bytes: strict UTF-8 (BOM accepted), UTF-16, then charset detection; reject binary.

Also the HTML main-text and page-metadata extraction (trafilatura, htmldate for dates),
imported only when an HTML page is read.
"""

from __future__ import annotations

import re
import unicodedata

from briefgen.corpus.metadata import meta_from_fields
from briefgen.errors import CorpusError
from briefgen.models import SourceMeta

_BINARY_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"%PDF", "a PDF file"),
    (b"\x1f\x8b", "gzip data"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an MS Office file"),
    (b"\x7fELF", "an executable"),
)


class SkippedInput(CorpusError):
    """An article that cannot be read; the message is the reason, shown after its file name."""



def decode_bytes(data: bytes) -> str:
    """Decode article bytes: strict UTF-8 (BOM accepted), else a detected charset, else skip.

    Raises :class:`SkippedInput` for binary data, undecodable bytes and empty input.
    """
    if not data.strip():
        raise SkippedInput("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SkippedInput(
                f"undecodable UTF-16 text ({exc.reason} at byte {exc.start})"
            ) from None
    utf16 = None if _binary_magic(data) else _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    reject_binary(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A download cut off mid-character: the text is UTF-8, only its last character is
        # incomplete. Guessing another charset would turn the file's other accents to mojibake.
        if exc.end == len(data) and exc.reason == "unexpected end of data":
            try:
                return data[: exc.start].decode("utf-8-sig")
            except UnicodeDecodeError:
                pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise SkippedInput("undecodable bytes: not UTF-8 and no character set detected")
    text, encoding = str(best), best.encoding
    # Short Western texts fit several code pages equally well; cp1252 (a superset of Latin-1
    # in practice) is by far the most common one for English news, so it wins a tie.
    if any(
        m.chaos <= best.chaos and "cp1252" in (m.encoding, *m.could_be_from_charset)
        for m in matches
    ):
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    if not _looks_like_text(text):
        raise SkippedInput(f"undecodable bytes: not UTF-8, and as {encoding} it is not text")
    return text


def _looks_like_text(text: str) -> bool:
    """Tell prose from binary decoded by luck: few control characters, mostly letters."""
    visible = [c for c in text if not c.isspace()]
    controls = sum(1 for c in visible if unicodedata.category(c) in ("Cc", "Co", "Cn"))
    letters = sum(1 for c in visible if c.isalpha())
    return controls <= len(visible) / 200 and letters >= len(visible) / 2


def _utf16_without_bom(data: bytes) -> str | None:
    """Decode UTF-16 text saved without a byte order mark, or return None if it is not that.

    Latin-script UTF-16 has a NUL in every other byte, on one side only; binary files have
    NULs on both sides. Without this such files were skipped as binary.
    """
    sample = data[:65536]
    if len(data) % 2 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if min(even, odd) or max(even, odd) < len(sample) // 8:
        return None
    try:
        text = data.decode("utf-16-le" if odd else "utf-16-be")
    except UnicodeDecodeError:
        return None
    return text if _looks_like_text(text) else None


def reject_binary(data: bytes) -> None:
    """Raise SkippedInput if ``data`` is an image, archive, PDF or other binary file."""
    what = _binary_magic(data)
    if what:
        raise SkippedInput(f"binary file ({what}), not an article")
    if b"\x00" in data[:65536]:
        raise SkippedInput("binary file (contains NUL bytes), not an article")


def _binary_magic(data: bytes) -> str | None:
    """Return what kind of binary file ``data`` starts like, if any."""
    return next((what for magic, what in _BINARY_MAGIC if data.startswith(magic)), None)


def extract_html_text(html: bytes | str) -> str:
    """Return the main text of an HTML page, paragraphs separated by blank lines ('' if none).

    Deterministic: fixed trafilatura settings, no network, no time limit. If the extractor or
    a part of it is not installed, raises SkippedInput: those pages are skipped, the rest read.
    """
    try:
        return _extract_html_text(html)
    except ImportError as exc:  # e.g. lxml without its html_clean part, behind trafilatura
        missing = f" ({exc.name})" if exc.name else ""
        raise SkippedInput(
            f"HTML pages cannot be read here: a package the extractor needs is missing{missing}: "
            f"{exc}; install it (see the error) and index again"
        ) from None


def _extract_html_text(html: bytes | str) -> str:
    import trafilatura
    from trafilatura.settings import use_config

    config = use_config()
    # The default time limit uses signals: not allowed in worker threads, and not deterministic.
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    text = trafilatura.extract(
        html,
        config=config,
        output_format="txt",
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        with_metadata=False,
    )
    if not text:
        return ""
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


# htmldate checks a found date against a latest plausible day. Its default is today, which
# would make the same page read differently from one day to the next; a fixed bound does not.
_LATEST_PAGE_DATE = "2099-12-31"
# A page's URL or title that says it is an opinion piece.
_OPINION_URL = re.compile(r"/(?:opinions?|commentisfree|op-?eds?|columns?)/", re.IGNORECASE)
_OPINION_TITLE = re.compile(r"^\s*(?:opinion|op-?ed|commentary)\s*[|:]", re.IGNORECASE)


def page_metadata(html: bytes | str) -> SourceMeta:
    """Return what an HTML page says about itself: title, site name, author, date, URL, kind.

    From trafilatura's metadata extraction (``<meta>`` tags, Open Graph, JSON-LD, bylines) and
    htmldate for the publication date (reliable markup only, no guessing from the text).
    ``kind`` is "opinion" when the page's URL or title says so, else unknown.
    Deterministic: no network, no dependence on today's date.
    """
    from trafilatura.metadata import extract_metadata

    try:
        found = extract_metadata(
            html if isinstance(html, str) else html.decode("utf-8", "replace"),
            date_config={
                "original_date": True,
                "extensive_search": False,
                "max_date": _LATEST_PAGE_DATE,
            },
        )
    except Exception:  # noqa: BLE001 - a page's metadata is optional; its text is what counts
        return SourceMeta()
    url, title = found.url, found.title
    opinion = bool(url and _OPINION_URL.search(url)) or bool(title and _OPINION_TITLE.match(title))
    if title and opinion:
        title = _OPINION_TITLE.sub("", title).strip() or title
    return meta_from_fields({
        "title": title,
        "outlet": found.sitename,
        "author": found.author.replace("; ", ", ") if found.author else None,
        "date": found.date,
        "url": url if url and url.startswith(("http://", "https://")) else None,
        "kind": "opinion" if opinion else None,
    })
