"""Find the article in scraped text: drop page furniture, keep paragraphs and headings as spans.

Cleaning never edits the text. It decides which spans of the decoded source text are article
paragraphs and which are headings; everything else (comment sections, share and sign-in
prompts, "Related" teaser lists, photo captions and credits, read-time badges, datelines,
agency credits, pull-quotes) is simply left out. Provenance notices ("This content is
AI-generated…", "Originally published in Japanese") are left out too but reported as warnings.

The rules are general patterns for scraped news pages, not fixes for particular files.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from briefgen.passages import Block, collapse_whitespace, is_plain, normalize, tighten

_I = re.IGNORECASE
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)

# --- blocks that end the article: everything after them is comments or teasers -----------
_COMMENTS_HEADING = re.compile(
    r"(?:\d+\s+)?(?:readers?'?s?'?\s+|user\s+)?comments?(?:\s*\(\d+\))?:?"
    r"|(?:leave|add|post|write|submit)\s+(?:a|your)\s+(?:comment|reply|response)"
    r"|join\s+the\s+(?:conversation|discussion)|comments\s+are\s+closed"
    r"|(?:show|view|load|see)\s+(?:all\s+)?comments",
    _I,
)
_RELATED_HEADING = re.compile(
    r"related(?:\s+(?:articles?|stories|content|coverage|news|posts|links|reading|topics))?:?"
    r"|(?:read|see)\s+(?:more|also)(?:\s+(?:on|about)\s+this(?:\s+(?:story|topic))?)?:?"
    r"|more\s+(?:stories|articles|news|on\s+this(?:\s+(?:story|topic))?|from\s+\S.{0,40})"
    r"|you\s+(?:may|might)\s+(?:also\s+)?(?:like|enjoy|be\s+interested\s+in)"
    r"|recommended(?:\s+(?:for\s+you|stories|articles|reading))?|further\s+reading"
    r"|most\s+(?:read|popular|viewed|shared)|trending(?:\s+(?:now|stories))?"
    r"|editor'?s'?\s+picks|also\s+read|don'?t\s+miss|top\s+stories",
    _I,
)
# A tail heading near the top of a page (e.g. "12 comments" under the byline) must not
# swallow the article: it only ends the article once this share of the text has passed.
_TAIL_MIN_POSITION = 1 / 3

# --- single blocks that are page furniture -------------------------------------------------
_PROMPT = re.compile(
    r"share(?:\s+(?:this|the))?(?:\s+(?:article|story|post|page))?(?:\s+(?:on|via)\s+\w+)?\s*[:!]?"
    r"|share\s+(?:your|their)\s+(?:thoughts|views|opinions?|comments?)\b.*"
    r"|(?:sign|log)\s*(?:in|up|on)\b.*|subscribe\b.*|(?:get|receive)\s+our\s+\w+\s+newsletter.*"
    r"|newsletter|(?:follow|like)\s+us\b.*|(?:click|tap)\s+here\b.*"
    r"|advertisement|sponsored(?:\s+content)?|scroll\s+to\s+continue.*|skip\s+(?:advertisement|ad)"
    r"|continue\s+reading.*|read\s+(?:the\s+)?(?:full|more|next)\b.*|(?:load|show|view)\s+(?:more|all)\b.*"
    r"|thoughts\??|feedback|minimum\s+\d+\s+characters.*|\d+\s*/\s*\d+"
    r"|your\s+email\s+address\s+will\s+not\s+be\s+published.*|required\s+fields\s+are\s+marked.*"
    r"|(?:post|submit)\s+(?:a\s+)?comment|cancel\s+reply|notify\s+me\s+of\b.*"
    r"|save\s+my\s+name,?\s+email.*|all\s+rights\s+reserved.*|(?:copyright|©)\s.*"
    r"|(?:related|read\s+more|also\s+read|see\s+also|read\s+also|watch)\s*[:|]\s*\S.*",
    _I,
)
_PROMPT_MAX_WORDS = 15
_SHARE_BUTTONS = frozenset(
    [
        "share",
        "print",
        "email",
        "e-mail",
        "mail",
        "facebook",
        "twitter",
        "x",
        "linkedin",
        "whatsapp",
        "reddit",
        "telegram",
        "pinterest",
        "copy",
        "link",
        "url",
        "tweet",
        "messenger",
        "flipboard",
        "bluesky",
        "threads",
        "save",
        "comment",
        "comments",
    ]
)
_BADGE = re.compile(
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)[\s-]*(?:min|mins|minutes?)(?:\s+read(?:ing)?)?"
    r"|reading\s+time:?\s.*|(?:updated|published|posted|last\s+updated)(?:\s+on)?:?\s.{0,40}\d.{0,20}",
    _I,
)
_BADGE_MAX_WORDS = 8
# Captions and credits: a photo label, a copyright sign, or "Name / Agency" credit.
_CAPTION = re.compile(
    r"\b(?:banner|file|top|main|header|cover|lead)?\s*(?:photo|image|picture|illustration|graphic)s?"
    r"\s*(?::|\bby\b|\bcredit\b|\bcourtesy\b)"
    r"|©|\(c\)\s*\d{4}|\bphoto\s+credit\b"
    r"|\bby\s+[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}\s*/\s*\w"
    r"|\b(?:reuters|ap|afp|epa|getty\s+images|shutterstock(?:\.com)?|alamy|kyodo|jiji|xinhua|yonhap)"
    r"\s*/\s*[A-Z\w]"
    r"|/\s*(?:getty\s+images|shutterstock(?:\.com)?|alamy|istock(?:photo)?|ap\s+photo|afp|epa|reuters)\b",
    _I,
)
_CAPTION_MAX_WORDS = 80
# Every _CAPTION match holds one of these (in ASCII text, lower-cased): the regex runs only then.
_CAPTION_TRIGGERS = ("/", "photo", "image", "picture", "illustration", "graphic", "(c)")
_CREDIT = re.compile(
    r"[-–—]\s*[A-Z][A-Za-z&.]{1,11}|\((?:AP|AFP|ANI|PTI|IANS|Reuters|Xinhua|Kyodo|Yonhap|Bloomberg)\)"
    r"|\(?(?:(?:additional\s+)?reporting|writing|editing|compiled|edited)\s+by\b.*",
    _I,
)
_CREDIT_MAX_WORDS = 40
_DATELINE = re.compile(
    rf"(?:[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){{0,3}}(?:,\s*[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){{0,2}})?,?\s+)?"
    rf"{_MONTH}\.?\s+\d{{1,2}}(?:,?\s+\d{{4}})?"
    rf"|(?:date:?\s+)?\d{{4}}-\d{{2}}-\d{{2}}(?:[T ][\d:]+)?",
    _I,
)
_PROVENANCE = re.compile(
    r"\b(?:this|the)\s+(?:content|article|story|summary|text|post|report|page)\s+(?:is|was|has\s+been)"
    r"\s+(?:\w+\s+)?(?:ai|machine|automatically)[\s-]generated\b"
    r"|\b(?:generated|written|produced|created)\s+(?:\w+\s+){0,2}(?:by|with|using)\s+"
    r"(?:an?\s+)?(?:ai|artificial\s+intelligence|language\s+model|chatgpt)\b"
    r"|\boriginally\s+published\s+in\s+[A-Z][a-z]+\b|\btranslated\s+from\s+(?:the\s+)?[A-Z][a-z]+\b",
    _I,
)
_PROVENANCE_MAX_WORDS = 100
_PROVENANCE_TRIGGERS = ("generated", "written", "produced", "created", "originally", "translated")

# --- prefixes that stay outside a paragraph's span ----------------------------------------
_LEADING_PREFIX = re.compile(
    r"date:?\s+\d{4}-\d{2}-\d{2}(?:[T ][\d:]+)?\s+"  # a scraped "date 2026-03-12" field
    # a wire dateline: "SAN FRANCISCO/NEW YORK  (Reuters) - ", "TOKYO, Feb 10 (AP) — "
    r"|[A-Z][A-Z.'’-]+(?:[\s/][A-Z][A-Z.'’-]+)*(?:,\s*[A-Z][A-Za-z.]+(?:\s+[A-Z][A-Za-z.]+)*)?"
    rf"(?:,?\s+{_MONTH}\.?\s+\d{{1,2}})?\s*\([A-Za-z][\w .&-]{{1,30}}\)\s*[-–—:]{{1,2}}\s+"
    # "Tokyo, February 10 (ANI): "
    rf"|[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*,\s+{_MONTH}\.?\s+\d{{1,2}}(?:,\s+\d{{4}})?\s*(?:\([A-Z]+\))?\s*[-–—:]\s+",
)

_FRONT_MATTER = re.compile(r"\ufeff?---[ \t]*\r?\n(?:.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_NEWLINE = re.compile(r"\r\n|\r|\n")
_BULLET_GLYPHS = "•·‣▪◦●-*–"
_BULLET = re.compile(r"[•·‣▪◦●\-*–]\s+")
_TOKEN = re.compile(r"[\w-]+")
_WORD = re.compile(r"\w+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
_MD_HEADING = re.compile(r"#{1,6}\s+")
_TERMINAL = tuple(".!:;,…\"”’'")
_QUOTES = "\"“”‘’'«»"
_PULL_QUOTE_ATTRIBUTION = re.compile(r"\s+[-–—]\s*[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4}\W*$")
_HEADING_MAX_WORDS = 20
_HEADING_MAX_CHARS = 160


@dataclass(slots=True)
class _Line:
    start: int  # content span: indentation, bullet glyph and trailing blanks excluded
    end: int
    indent: int
    bullet: bool
    md_heading: bool
    text: str  # normalize()d content


@dataclass
class CleanResult:
    """What cleaning found: article blocks, provenance warnings and an inferred title."""

    blocks: list[Block] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    title: str | None = None


def front_matter_end(text: str) -> int:
    """Return the offset just after a leading ``---`` YAML front matter block (0 if none)."""
    m = _FRONT_MATTER.match(text)
    return m.end() if m else 0


def _split_lines(
    text: str, offset: int, markdown: bool, norm: Callable[[str], str]
) -> list[_Line | None]:
    """Split into content lines (``None`` for a blank line) with tight spans.

    ``norm`` is normalize(), or collapse_whitespace() if the text is plain.
    """
    if norm is collapse_whitespace and "\r" not in text:
        return _split_plain_lines(text, offset, markdown)
    lines: list[_Line | None] = []
    line_start = offset
    for newline in itertools.chain(_NEWLINE.finditer(text, offset), [None]):
        line_end = newline.start() if newline else len(text)
        start, end = tighten(text, line_start, line_end)
        if start >= end:
            lines.append(None)
        else:
            lines.append(_content_line(text, start, end, start - line_start, markdown, norm))
        if newline:
            line_start = newline.end()
    return lines


def _split_plain_lines(text: str, offset: int, markdown: bool) -> list[_Line | None]:
    """Split like :func:`_split_lines`, faster, text that is plain and has only ``\\n`` newlines.

    Plain text (``passages.is_plain``) has no invisible characters: a tight span is then
    the line stripped of whitespace, and normalizing it only collapses whitespace.
    """
    lines: list[_Line | None] = []
    line_start = offset
    for line in text[offset:].split("\n"):
        content = line.lstrip()
        if content:
            start = line_start + len(line) - len(content)
            content = content.rstrip()
            end = start + len(content)
            if markdown or content[0] in _BULLET_GLYPHS:
                lines.append(
                    _content_line(
                        text, start, end, start - line_start, markdown, collapse_whitespace
                    )
                )
            else:
                lines.append(
                    _Line(start, end, start - line_start, False, False, " ".join(content.split()))
                )
        else:
            lines.append(None)
        line_start += len(line) + 1
    return lines


def _content_line(
    text: str, start: int, end: int, indent: int, markdown: bool, norm: Callable[[str], str]
) -> _Line | None:
    """Describe one non-blank line: bullet glyph or Markdown hashes are left outside its span."""
    bullet = md_heading = False
    b = _BULLET.match(text, start, end) if text[start] in _BULLET_GLYPHS else None
    if b:
        bullet = True
        start, end = tighten(text, b.end(), end)
    elif markdown and (h := _MD_HEADING.match(text, start, end)):
        md_heading = True
        start, end = tighten(text, h.end(), end)
        while end > start and text[end - 1] == "#":  # closing hashes: "## Title ##"
            end -= 1
        start, end = tighten(text, start, end)
    if start < end:
        return _Line(start, end, indent, bullet, md_heading, norm(text[start:end]))
    return None


def _is_hard_wrapped(lines: list[_Line | None]) -> bool:
    """Tell whether paragraphs are wrapped over several short lines (wire copy, e-mail).

    The sign is line breaks in mid-sentence: a line without closing punctuation followed,
    in the same paragraph, by a line that starts with a lower-case letter.
    """
    content = [ln for ln in lines if ln is not None]
    if len(content) < 2 or sorted(len(ln.text) for ln in content)[len(content) // 2] > 100:
        return False  # one paragraph per line: scraped web text
    pairs = mid_sentence = 0
    for first, second in itertools.pairwise(lines):
        if first is None or second is None or second.bullet:
            continue
        pairs += 1
        if not first.text.endswith(_TERMINAL + ("?",)) and second.text[0].islower():
            mid_sentence += 1
    return pairs > 0 and mid_sentence >= pairs * 0.3


def _group(lines: list[_Line | None]) -> list[list[_Line]]:
    """Group lines into blocks: one line each, or blank-separated paragraphs if hard-wrapped."""
    if not _is_hard_wrapped(lines):
        return [[ln] for ln in lines if ln is not None]
    groups: list[list[_Line]] = []
    current: list[_Line] = []
    for ln in lines:
        if ln is None:
            if current:
                groups.append(current)
            current = []
            continue
        starts_block = ln.bullet or ln.md_heading or current and current[-1].md_heading
        if current and (starts_block or ln.indent > current[-1].indent + 1):
            groups.append(current)
            current = []
        current.append(ln)
    if current:
        groups.append(current)
    return groups


def _words(s: str) -> int:
    return len(s.split())


def _normalized_words(s: str) -> int:
    """Count the words of a normalize()d string: its single spaces tell them."""
    return s.count(" ") + 1 if s else 0


def _may_mention(lower: str | None, triggers: tuple[str, ...]) -> bool:
    """Tell whether a block (lower-cased if ASCII, else ``None``) may hold one of ``triggers``.

    re.IGNORECASE also folds a few non-ASCII letters (ı, ſ, K) into ASCII ones, so only
    ASCII text can be ruled out this way.
    """
    return lower is None or any(t in lower for t in triggers)


def _lower_if_ascii(text: str) -> str | None:
    return text.lower() if text.isascii() else None


def _is_heading(text: str, md_heading: bool, words: int) -> bool:
    """Tell whether a normalize()d block of ``words`` words is a heading."""
    if md_heading:
        return True
    if (
        words > _HEADING_MAX_WORDS
        or len(text) > _HEADING_MAX_CHARS
        or not any(c.isalpha() for c in text)
    ):
        return False
    if text.endswith("?"):
        return words <= 5  # "Who Thinks What?" is a heading; a rhetorical question is not
    return not text.endswith(_TERMINAL)


def _is_furniture(text: str, words: int, lower: str | None) -> bool:
    """Tell whether a normalize()d block is a prompt, button row, badge, caption, credit, dateline.

    ``words`` is its word count and ``lower`` its lower-cased text if ASCII (else ``None``):
    computed once per block, they let the cheap tests run before the costly patterns.
    """
    if words <= _PROMPT_MAX_WORDS and _PROMPT.fullmatch(text):
        return True
    if words <= 12:
        tokens = _TOKEN.findall(text.lower())
        if tokens and all(t in _SHARE_BUTTONS for t in tokens):
            return True
    if words <= _BADGE_MAX_WORDS and _BADGE.fullmatch(text):
        return True
    if (
        words <= _CAPTION_MAX_WORDS
        and _may_mention(lower, _CAPTION_TRIGGERS)
        and _CAPTION.search(text)
    ):
        return True
    if words <= _CREDIT_MAX_WORDS and _CREDIT.fullmatch(text):
        return True
    if words <= 10 and _DATELINE.fullmatch(text):
        return True
    half = len(text) // 2  # an image's alt text and caption scraped as one doubled line
    if (
        len(text) >= 20
        and len(text) % 2 == 1
        and text[half] == " "
        and text[:half] == text[half + 1 :]
    ):
        return True
    return not any(c.isalnum() for c in text) or len(text) <= 2


def _provenance_notice(text: str) -> str | None:
    """Return the provenance notice a block states (without caption parts), if any."""
    if _words(text) > _PROVENANCE_MAX_WORDS or not _PROVENANCE.search(text):
        return None
    inner = text[1:-1] if text.startswith("(") and text.endswith(")") else text
    sentences = _SENTENCE_BREAK.split(inner)
    kept = [s for s in sentences if not _CAPTION.search(s)]
    return " ".join(kept) if kept else None


def _quote_key(s: str) -> str:
    return " ".join(_WORD.findall(s.casefold()))


def _pull_quote_core(text: str) -> str | None:
    """Return the quoted words if a block is a stand-alone quotation (a pull-quote candidate)."""
    if len(text) < 2 or text[0] not in _QUOTES:
        return None
    body = text.rstrip(".")
    attributed = _PULL_QUOTE_ATTRIBUTION.search(body.strip(_QUOTES))
    if body[-1] not in _QUOTES and not attributed:
        return None
    core = body.strip(_QUOTES)
    if attributed:
        core = _PULL_QUOTE_ATTRIBUTION.sub("", core).strip(_QUOTES)
    return core if _words(core) >= 4 else None


def clean_text(text: str, fmt: str) -> CleanResult:
    """Find the article's paragraphs and headings in decoded text of format ``fmt``."""
    result = CleanResult()
    norm_of = collapse_whitespace if is_plain(text) else normalize
    offset = front_matter_end(text) if fmt == "md" else 0
    groups = _group(_split_lines(text, offset, markdown=fmt == "md", norm=norm_of))
    candidates: list[tuple[Block, str]] = []  # block and its normalized text
    for group in groups:
        start, end = group[0].start, group[-1].end
        norm = group[0].text if len(group) == 1 else norm_of(text[start:end])
        words = _normalized_words(norm)
        if (
            len(group) == 1
            and words <= 8
            and (_COMMENTS_HEADING.fullmatch(norm) or _RELATED_HEADING.fullmatch(norm))
        ):
            if start - offset >= (len(text) - offset) * _TAIL_MIN_POSITION:
                break  # the rest of the page is comments or teasers
            continue
        lower = _lower_if_ascii(norm)
        if (
            words <= _PROVENANCE_MAX_WORDS
            and _may_mention(lower, _PROVENANCE_TRIGGERS)
            and _PROVENANCE.search(norm)
        ):
            notice = _provenance_notice(norm)
            if notice and notice not in result.warnings:
                result.warnings.append(notice)
            continue
        if _is_furniture(norm, words, lower):
            continue
        if _is_heading(norm, group[0].md_heading, words):
            candidates.append((Block(start, end, "heading"), norm))
            continue
        prefix = _LEADING_PREFIX.match(text, start, end)
        if prefix:
            start, end = tighten(text, prefix.end(), end)
            norm = norm_of(text[start:end])
            if not norm or _is_furniture(norm, _normalized_words(norm), _lower_if_ascii(norm)):
                continue
        candidates.append((Block(start, end, "paragraph"), norm))

    paragraph_keys: list[str] | None = None  # made only if some paragraph looks like a quote
    for i, (block, norm) in enumerate(candidates):
        if block.kind == "paragraph":
            core = _pull_quote_core(norm)
            if core is not None:
                if paragraph_keys is None:
                    paragraph_keys = [_quote_key(n) for b, n in candidates if b.kind == "paragraph"]
                key = _quote_key(core)
                if sum(
                    key in other for other in paragraph_keys
                ) > 1 or _PULL_QUOTE_ATTRIBUTION.search(norm.strip(_QUOTES + ".")):
                    continue  # a pull-quote repeats the body (or is a quote card with a name)
        if i == 0 and block.kind == "heading":
            result.title = norm  # the page's headline, not a section of it
            continue
        result.blocks.append(block)
    return result
