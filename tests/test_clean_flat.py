"""Cleaning flattened text: an article exported as one line, paragraph breaks left as spaces."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from briefgen.corpus.clean import clean_text
from briefgen.corpus.files import make_document
from briefgen.models import SourceMeta
from briefgen.text import normalize

# A made-up article the way CSV exports and some scrapers flatten it: no line break at all,
# the former breaks left as runs of two or more spaces (or a tab).
_LEAD = (
    "Harbour officials in Lindmoor said on Tuesday that the new container terminal will open "
    "in June. The opening comes two months ahead of the schedule set in 2021."
)
_CAPTION = (
    "- Cranes stand idle at the Lindmoor terminal before its opening on Monday. "
    "Mara Velden / For Harbour Daily"
)
_SUBHEAD = "Faster berths, longer hours"
_BODY = (
    "The terminal can handle 1.2 million containers a year, the port authority said. "
    "It will employ about 900 people once it runs at full capacity."
)
_SHARE_BAR = "Send Facebook Twitter Google+ Whatsapp Tumblr Permalink http://example.com/p/2Xy7"
_PROMPT = "Sign up for our morning newsletter"
_LAST = (
    "Shipping lines have already booked most slots for the first quarter. "
    "The operator expects the first ship on June 3."
)
_SOURCE = "Source: Harbour Daily and news agencies"
_FLAT = (
    f"{_LEAD}   {_CAPTION}  {_SUBHEAD}  {_BODY}\t{_SHARE_BAR}  {_PROMPT}    {_LAST}  {_SOURCE}  "
)


def _blocks(text: str) -> list[tuple[str, str]]:
    return [(b.kind, normalize(text[b.start : b.end])) for b in clean_text(text, "txt").blocks]


def test_flattened_article_drops_caption_share_bar_prompt_and_source_line() -> None:
    assert "\n" not in _FLAT
    assert _blocks(_FLAT) == [
        ("paragraph", _LEAD),
        ("heading", _SUBHEAD),
        ("paragraph", _BODY),
        ("paragraph", _LAST),
    ]


def test_flattened_article_passages_are_tight_exact_spans() -> None:
    doc = make_document(
        doc_id="x", source_path="x.jsonl", text=_FLAT, sha256="0", meta=SourceMeta(), fmt="txt"
    )
    assert [p.text for p in doc.passages] == [_LEAD, _BODY, _LAST]
    for p in doc.passages:
        assert _FLAT[p.start : p.end] == p.text  # plain text, single spaces: the span itself
    assert doc.passages[1].section == _SUBHEAD


def test_double_spaces_inside_paragraphs_of_line_broken_text_do_not_split_them() -> None:
    text = (
        "Harbour officials said on Tuesday that the terminal will open in June.  It will "
        "employ 900 people.\n\nShipping lines  have booked most slots for the first quarter.\n"
    )
    assert [kind for kind, _ in _blocks(text)] == ["paragraph", "paragraph"]


def test_a_typists_two_spaces_after_every_sentence_are_not_paragraph_breaks() -> None:
    sentences = [
        "The council met on Friday to approve the budget.",
        "Members argued for three hours about the harbour fees.",
        "The mayor said the vote was the closest in a decade.",
        "A final reading is planned for next month.",
        "Residents may comment until then.",
    ]
    text = "  ".join(sentences)
    assert len(text) >= 200
    assert _blocks(text) == [("paragraph", " ".join(sentences))]


def test_spaces_in_mid_sentence_are_not_paragraph_breaks() -> None:
    text = (
        "WASHINGTON  (Reuters) - The lender will finance the deal with 4.5 billion euros  "
        "($5.2 billion) in loans, it said on Monday. The rest comes from a share sale,  "
        "bonds and cash on hand.  Analysts valued the group at 9 billion euros (about  "
        "$9.6 billion at current rates) after the deal.  Shares rose 2 percent in early trading."
    )
    assert _blocks(text) == [
        (
            "paragraph",
            (
                "The lender will finance the deal with 4.5 billion euros ($5.2 billion) in loans, "
                "it said on Monday. The rest comes from a share sale, bonds and cash on hand."
            ),
        ),
        (
            "paragraph",
            (
                "Analysts valued the group at 9 billion euros (about $9.6 billion at current rates) "
                "after the deal."
            ),
        ),
        ("paragraph", "Shares rose 2 percent in early trading."),
    ]


def test_a_short_one_line_text_is_not_split() -> None:
    text = "Port reopens  after strike ends"
    assert _blocks(text) == [] and clean_text(text, "txt").title == "Port reopens after strike ends"


def test_embedded_post_and_print_edition_reference_segments_are_dropped() -> None:
    post = "Queues at the gate since dawn. #portday pic.twitter.com/AbC123xyZ"
    print_reference = "(Harbour Daily Weekly 03/10/2017 page 7)"
    text = f"{_LEAD}  {post}  {_BODY}  {print_reference}"
    assert _blocks(text) == [("paragraph", _LEAD), ("paragraph", _BODY)]


# Pieces of flattened text: sentences, furniture, runs of spaces and tabs, and characters that
# test offsets (invisible, combining, non-breaking space) — never a line break.
_FLAT_PIECES = [
    " ",
    "  ",
    "   ",
    "\t",
    "\u00a0 ",
    "\u200b",
    "e\u0301",
    "(",
    ")",
    "- ",
    "The minister said the talks went well. ",
    "prices rose in March ",
    _CAPTION,
    _SHARE_BAR,
    _SOURCE,
    "WASHINGTON  (Reuters) - ",
    "MOSCOW, March 17. /TASS/. ",
    "jane@example.com ",
]


@given(st.lists(st.sampled_from(_FLAT_PIECES), min_size=10, max_size=60).map("".join))
def test_every_block_of_flattened_text_is_a_tight_span(text: str) -> None:
    doc = make_document(
        doc_id="x", source_path="x.jsonl", text=text, sha256="0", meta=SourceMeta(), fmt="txt"
    )
    previous_end = 0
    for p in doc.passages:
        assert p.text == normalize(text[p.start : p.end]) and p.text
        assert previous_end <= p.start < p.end <= len(text)
        assert not text[p.start].isspace() and not text[p.end - 1].isspace()
        previous_end = p.end
