"""Find the article in scraped text: drop page furniture, keep paragraphs and headings as spans.

Cleaning never edits the text. It decides which spans of the decoded source text are article
paragraphs and which are headings; everything else (comment sections, share and sign-in
prompts, share-button rows, "Related" teaser lists, photo captions and credits — "Photo: …",
"By Name / Agency", a caption ending in "Name / Outlet" or "Provided to Outlet" —, read-time
badges, bylines, datelines, agency and source credits, print-edition references, embedded
social-media posts, pull-quotes, and inline teasers such as "… READ MORE: <headline> …" with the
sentence they are glued to) is simply left out. A dateline stays outside the start of a
paragraph's span (``briefgen.corpus.bylines``: bylines and datelines also give metadata), a
reporter's e-mail and a print-edition reference outside its end. Provenance notices ("This
content is AI-generated…", "Originally published in Japanese") are left out but reported as
warnings.

The rules work line by line (``briefgen.corpus.textlines``: lines, hard-wrapped paragraphs, and
flattened one-line exports split at their runs of spaces), so captions, credits and share
rows glued between a flattened text's paragraphs are found as in any other text.

The rules are general patterns for scraped news pages, not fixes for particular files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from briefgen.corpus.bylines import (
    LEADING_PREFIX,
    MONTH,
    OPENING_DATELINE,
    OPENING_PARAGRAPHS,
    byline_author,
    dateline_facts,
)
from briefgen.corpus.passages import Block
from briefgen.corpus.textlines import TERMINAL, front_matter_end, group_lines, split_lines
from briefgen.text import collapse_whitespace, is_plain, normalize, sentence_ends, tighten

_I = re.IGNORECASE

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
    ("share", "print", "email", "e-mail", "mail", "sms", "send", "copy", "link", "url", "permalink")
    + ("save", "pocket", "comment", "comments", "tweet", "messenger", "threads", "bluesky")
    + ("facebook", "twitter", "x", "linkedin", "whatsapp", "reddit", "telegram", "pinterest")
    + ("flipboard", "google", "tumblr", "digg", "stumbleupon", "stumble", "newsvine", "vk")
    + ("weibo", "wechat")
)
_SHARE_ROW_MAX_WORDS = 20
_URL = re.compile(r"(?:https?://|www\.)\S+", _I)  # a share row may end with the page's short link
# An embedded social-media post: it ends with the post's link, or is a "photo posted by" line.
_EMBEDDED_POST = re.compile(
    r"(?:\bpic\.twitter\.com/\w+|\bhttps?://t\.co/\w+)\W*\Z"
    r"|\b(?:photo|video|post)\s+(?:posted|shared)\s+by\s.{1,60}\(@\w+\)",
    _I,
)
_EMBEDDED_POST_MAX_WORDS = 60  # a post has at most 280 characters
_EMBEDDED_POST_TRIGGERS = ("twitter.com/", "t.co/", "(@")
_BADGE = re.compile(
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)[\s-]*(?:min|mins|minutes?)(?:\s+read(?:ing)?)?"
    r"|reading\s+time:?\s.*|(?:updated|published|posted|last\s+updated)(?:\s+on)?:?\s.{0,40}\d.{0,20}",
    _I,
)
_BADGE_MAX_WORDS = 8
# Captions and credits: a photo label, a copyright sign, a "Name / Agency" credit, or a caption
# that ends with its credit ("… at the port on Monday. Lin Wei / For Harbour Daily").
_NAME_WORD = r"(?-i:[A-Z][\w'’.-]*)"  # a capitalized word, even under re.IGNORECASE
# A word of a person's name: "Lin", "O'Neil", "J.B.", "A Wei" (but not the "H" of "H/T").
_PERSON_WORD = r"(?-i:[A-Z](?:[a-z'’][\w'’-]*|\.(?:[A-Z]\.)*|(?=\s)))"
# Agencies that sign only photos: a news agency's name ending a paragraph ("… Reuters") signs text.
_PHOTO_AGENCY = r"(?:getty\s+images|shutterstock(?:\.com)?|alamy|istock(?:photo)?|ap\s+photo)"
# A print-edition reference: "(Harbour Daily Weekly 01/20/2017 page 9)".
_PRINT_REFERENCE = r"\(\s*[^()]{1,80}\bpage\s*\d+\s*\)"
# A credit starts the block or a new sentence of it, and ends it: after it may come only a
# print-edition reference or a stray dash.
_CREDIT_START = r"(?:^|(?<=[.!?]\s)|(?<=[.!?][\"”’)]\s))"
_CREDIT_END = rf"\.?(?:\s*{_PRINT_REFERENCE})?(?:\s*[-–—])?\Z"
_CAPTION = re.compile(
    r"\b(?:banner|file|top|main|header|cover|lead)?\s*(?:photo|image|picture|illustration|graphic)s?"
    r"\s*(?::|\bby\b|\bcredit\b|\bcourtesy\b)"
    r"|©|\(c\)\s*\d{4}|\bphoto\s+credit\b"
    r"|\bby\s+(?-i:[A-Z])[\w.'’-]+(?:\s+(?-i:[A-Z])[\w.'’-]+){0,3}\s*/\s*\w"
    r"|\b(?:reuters|ap|afp|epa|getty\s+images|shutterstock(?:\.com)?|alamy|kyodo|jiji|xinhua|yonhap)"
    r"\s*/\s*[A-Z\w]"
    r"|/\s*(?:getty\s+images|shutterstock(?:\.com)?|alamy|istock(?:photo)?|ap\s+photo|afp|epa|reuters)\b"
    # "Lin Wei / Xinhua", "Mara Velden / For Harbour Daily" ending a caption
    rf"|{_CREDIT_START}{_PERSON_WORD}(?:\s+{_PERSON_WORD}){{0,3}}\s*/\s*(?:(?-i:For)\s+)?"
    rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}}{_CREDIT_END}"
    # "Provided to Harbour Daily", "Photos courtesy of the family" ending a caption
    rf"|{_CREDIT_START}(?:photos?\s+)?(?:(?:provided|supplied)\s+(?:to|by)|courtesy(?:\s+of)?)\s+"
    rf"(?:the\s+)?{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}}{_CREDIT_END}"
    # "… leaders meet at the summit on Monday. Getty Images"
    rf"|(?<=[.!?]\s){_PHOTO_AGENCY}{_CREDIT_END}",
    _I,
)
_CAPTION_MAX_WORDS = 80
# Every _CAPTION match holds one of these (in ASCII text, lower-cased): the regex runs only then.
_CAPTION_TRIGGERS = (
    "/", "photo", "image", "picture", "illustration", "graphic", "(c)",
    "provided", "supplied", "courtesy", "shutterstock", "alamy", "istock",
)
_CREDIT = re.compile(
    r"[-–—]\s*[A-Z][A-Za-z&.]{1,11}|\((?:AP|AFP|ANI|PTI|IANS|Reuters|Xinhua|Kyodo|Yonhap|Bloomberg)\)"
    r"|\(?(?:(?:additional\s+)?reporting|writing|editing|compiled|edited)\s+by\b.*"
    # "Source: Al Jazeera and news agencies" (no full stop: a sentence is not a credit line)
    r"|sources?\s*:\s*[-–—]?\s*[\w&,'’/ .-]{0,59}\w"
    rf"|{_PRINT_REFERENCE}",
    _I,
)
_CREDIT_MAX_WORDS = 40
_DATELINE = re.compile(
    rf"(?:[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){{0,3}}(?:,\s*[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){{0,2}})?,?\s+)?"
    rf"{MONTH}\.?\s+\d{{1,2}}(?:,?\s+\d{{4}})?"
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

# A link to another story inside a paragraph, after a sentence: "… on it. READ MORE: <headline>".
_INLINE_TEASER = re.compile(
    r"(?<=[.!?\"”’)]\s)(?:(?:READ\s+MORE|ALSO\s+READ|SEE\s+ALSO|RELATED|OPINION|WATCH|MORE)"
    r"|(?:Read\s+more|Also\s+read|See\s+also|Related|Opinion|Watch))\s*:\s+(?=\S)"
)

# A wire story's credit line: "(Reporting by Jane Roe in London; Editing by Bob Day)".
_WIRE_CREDIT = (
    r"\((?:additional\s+)?(?:reporting|writing|editing|compiled|edited|produced|graphics)"
    r"\s+by\b[^()]{1,300}\)"
)
# What stays outside the end of a paragraph's span, after its last sentence: a reporter's
# e-mail address, a print-edition reference, "… she says. jane@example.com (Daily 01/20 page 9)",
# and a wire credit, "… on Monday. (Reporting by Jane Roe; Editing by Bob Day)" (also after
# a ticker or a link text: "… index. .SPX (Additional reporting by …)").
_TRAILING_CREDIT = re.compile(
    rf"(?:(?<=[.!?\"”’)])\s+(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?:\s*{_PRINT_REFERENCE})?"
    rf"|{_PRINT_REFERENCE})"
    rf"|\s+(?:{_WIRE_CREDIT}\s*)+)\Z",  # a wire credit is unmistakable after anything
    re.IGNORECASE,
)
_TRAILING_CREDIT_REACH = 400  # characters from a paragraph's end where the credit may start
# A share prompt glued after the last sentence: "… comment from Lute.- Share this slide: Learn more".
_TRAILING_PROMPT = re.compile(
    r"(?<=[.!?\"”’)])\s*[-–—]?\s*share\s+this\s+(?:slide|article|story|post|page|video|photo)\b"
    r"[^.!?]{0,60}\Z",
    re.IGNORECASE,
)

_TOKEN = re.compile(r"[\w-]+")
_WORD = re.compile(r"\w+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
_QUOTES = "\"“”‘’'«»"
_PULL_QUOTE_ATTRIBUTION = re.compile(r"\s+[-–—]\s*[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4}\W*$")
_HEADING_MAX_WORDS = 20
_HEADING_MAX_CHARS = 160


@dataclass
class CleanResult:
    """What cleaning found: article blocks, provenance warnings, and what the text says of itself.

    ``title`` is the page's first line when it is a headline; ``author`` comes from a byline,
    ``outlet`` and ``date`` from a dateline (see ``briefgen.corpus.bylines``).
    """

    blocks: list[Block] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    title: str | None = None
    author: str | None = None
    outlet: str | None = None
    date: str | None = None


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
    return not text.rstrip("-–— ").endswith(TERMINAL)  # "…the sea.-": a stray dash ends a sentence


def _is_furniture(text: str, words: int, lower: str | None) -> bool:
    """Tell whether a normalize()d block is a prompt, button row, badge, caption, credit, dateline.

    ``words`` is its word count and ``lower`` its lower-cased text if ASCII (else ``None``):
    computed once per block, they let the cheap tests run before the costly patterns.
    """
    if words <= _PROMPT_MAX_WORDS and _PROMPT.fullmatch(text):
        return True
    if words <= _SHARE_ROW_MAX_WORDS:
        row = _URL.sub(" ", text) if "://" in text or "www." in text else text
        tokens = _TOKEN.findall(row.lower())
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
    if (
        words <= _EMBEDDED_POST_MAX_WORDS
        and _may_mention(lower, _EMBEDDED_POST_TRIGGERS)
        and _EMBEDDED_POST.search(text)
    ):
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


def _trailing_credit(text: str, start: int, end: int) -> int | None:
    """Return where a credit after the last sentence of ``text[start:end]`` begins, if any."""
    tail = max(start, end - _TRAILING_CREDIT_REACH)
    if text.find("hare this", tail, end) >= 0 and (
        prompt := _TRAILING_PROMPT.search(text, tail, end)
    ):
        return _trailing_credit(text, start, prompt.start()) or prompt.start()
    # Cheap tests first: a credit holds an e-mail address, or ends with "page N)" or "by …)".
    if text.find("@", tail, end) < 0 and (
        text[end - 1] != ")"
        or (text.find("page", tail, end) < 0 and text.find(" by ", tail, end) < 0)
    ):
        return None
    credit = _TRAILING_CREDIT.search(text, tail, end)
    return credit.start() if credit else None


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


def _without_inline_teasers(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Return the spans of a paragraph that are reporting, inline teasers left out.

    In flattened text a link to another story sits between two sentences: "… on it. READ MORE:
    Israeli settlement law 'violates rights' Trump is more sympathetic …". Where the teaser's
    headline ends cannot be told, so the paragraph ends before the marker and resumes after the
    next sentence end: the teaser never reaches a quote, at the cost of the sentence it is
    glued to.
    """
    if text.find(":", start, end) < 0:
        return [(start, end)]
    spans: list[tuple[int, int]] = []
    while (teaser := _INLINE_TEASER.search(text, start, end)) is not None:
        before = tighten(text, start, teaser.start())
        if before[0] < before[1]:
            spans.append(before)
        resume = next(iter(sentence_ends(text, teaser.end(), end)), end)
        start = tighten(text, resume, end)[0]
    if start < end:
        spans.append((start, end))
    return spans


def clean_text(text: str, fmt: str) -> CleanResult:
    """Find the article's paragraphs and headings in decoded text of format ``fmt``."""
    result = CleanResult()
    norm_of = collapse_whitespace if is_plain(text) else normalize
    offset = front_matter_end(text) if fmt == "md" else 0
    groups = group_lines(split_lines(text, offset, markdown=fmt == "md", norm=norm_of))
    candidates: list[tuple[Block, str]] = []  # block and its normalized text
    paragraphs = 0  # paragraphs seen so far (an opening dateline is looked for in the first)
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
        if (author := byline_author(norm, words)) is not None:
            result.author = result.author or author
            continue
        credit = _trailing_credit(text, start, end)
        if credit is not None:
            # The credit follows whitespace, so its normalized text ends ``norm``: cut it off
            # rather than normalize the whole paragraph again.
            norm = norm[: len(norm) - len(norm_of(text[credit:end]))].rstrip()
            end = tighten(text, start, credit)[1]
            words = _normalized_words(norm)
        # A block that carried a credit after its last sentence is a paragraph, however short.
        if credit is None and _is_heading(norm, group[0].md_heading, words):
            candidates.append((Block(start, end, "heading"), norm))
            continue
        prefix = LEADING_PREFIX.match(text, start, end)
        if prefix is None and paragraphs < OPENING_PARAGRAPHS:
            prefix = OPENING_DATELINE.match(text, start, end)
        paragraphs += 1
        if prefix:
            agency, date = dateline_facts(prefix.group(0))
            result.outlet, result.date = result.outlet or agency, result.date or date
            start, end = tighten(text, prefix.end(), end)
            norm = norm_of(text[start:end])
            if not norm or _is_furniture(norm, _normalized_words(norm), _lower_if_ascii(norm)):
                continue
        for part_start, part_end in _without_inline_teasers(text, start, end):
            part = norm if (part_start, part_end) == (start, end) else norm_of(text[part_start:part_end])
            candidates.append((Block(part_start, part_end, "paragraph"), part))

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
