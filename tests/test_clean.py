"""Cleaning rules on scenario files other than the seeds: the rules are general, not seed hacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefgen.corpus.clean import clean_text
from briefgen.corpus.files import make_document
from briefgen.models import Document, SourceMeta
from briefgen.text import normalize

DATA = Path(__file__).resolve().parent / "data"


def _doc(name: str) -> Document:
    text = (DATA / name).read_text(encoding="utf-8")
    return make_document(
        doc_id="x", source_path=name, text=text, sha256="0", meta=SourceMeta(), fmt="txt"
    )


def test_reader_comments_and_comment_form_are_dropped() -> None:
    doc = _doc("article_with_reader_comments.txt")
    assert [p.text for p in doc.passages] == [
        "Dock workers in Rotterdam voted on Monday to end a three-week strike that had stranded hundreds of containers.",
        "The union said the new contract raises wages by 6 percent over two years and limits automation at the terminals.",
    ]
    assert doc.source.meta.title == "Port Strike Ends After Three Weeks"


def test_badge_timestamp_caption_and_related_teasers_are_dropped() -> None:
    doc = _doc("article_with_related_teasers.txt")
    assert [p.text for p in doc.passages] == [
        "The central bank left its policy rate unchanged at 2.5 percent on Thursday, citing easing inflation.",
        "Governor Ana Lopes said the board would watch wage growth closely before any cut.",
    ]


def test_hard_wrapped_wire_copy_is_rejoined_and_dateline_and_credits_left_out() -> None:
    doc = _doc("wire_story_hard_wrapped.txt")
    assert [p.text for p in doc.passages] == [
        (
            "Japan's exports rose for a third straight month in March as shipments of cars and "
            "chips to Asia picked up, government data showed on Thursday."
        ),
        (
            "Exports climbed 7.3 percent from a year earlier, beating the median forecast of "
            "5.1 percent in a Reuters poll of economists, while imports fell 2.0 percent."
        ),
        "The trade surplus widened to 1.2 trillion yen, the largest in more than a year.",
    ]


def test_comments_heading_near_the_top_does_not_swallow_the_article() -> None:
    text = "Comments (12)\n" + "".join(f"Paragraph {i} of the story is here.\n" for i in range(6))
    result = clean_text(text, "txt")
    assert len(result.blocks) == 6


def test_a_real_sentence_that_starts_like_a_prompt_is_kept() -> None:
    text = "Share prices fell 4 percent in early trading after the announcement on Monday.\n"
    assert len(clean_text(text, "txt").blocks) == 1


def test_pull_quote_is_dropped_only_when_the_body_repeats_it() -> None:
    body = (
        'The minister said: "We will not raise taxes this year," adding that growth was strong.\n'
    )
    text = '"We will not raise taxes this year."\n' + body
    doc = make_document(
        doc_id="x", source_path="x", text=text, sha256="0", meta=SourceMeta(), fmt="txt"
    )
    assert [p.text for p in doc.passages] == [body.strip()]
    lone_quote = (
        '"Nobody expected the vote to be this close, least of all the party."\nOther news today.\n'
    )
    doc = make_document(
        doc_id="x", source_path="x", text=lone_quote, sha256="0", meta=SourceMeta(), fmt="txt"
    )
    assert doc.passages[0].text.startswith('"Nobody expected')


def test_ai_generated_notice_is_a_warning_not_a_passage() -> None:
    text = "The council met on Friday to approve the budget.\nThis article was AI-generated from agency reports.\n"
    doc = make_document(
        doc_id="x", source_path="x", text=text, sha256="0", meta=SourceMeta(), fmt="txt"
    )
    assert [p.text for p in doc.passages] == ["The council met on Friday to approve the budget."]
    assert doc.source.warnings == ("This article was AI-generated from agency reports.",)


def _block_texts(text: str) -> list[str]:
    return [normalize(text[b.start : b.end]) for b in clean_text(text, "txt").blocks]


_BEFORE = "The ferry service resumed on Monday after a two-week strike by crews.\n"
_AFTER = "Ticket prices will stay the same until the end of the year, the operator said.\n"


def test_a_caption_that_ends_with_its_photo_credit_is_dropped() -> None:
    for caption in [
        "Passengers board the first ferry at dawn. Mara Velden / Harbour Daily",
        "- Crews cheer as the strike ends. Lin Wei / For Harbour Daily",
        "Deckhands at work on Monday. A Wei / For Harbour Daily (Harbour Weekly 03/10/2017 page 7)",
        "The new ferry, built in 2016. Tomas J.B. Ardell / Getty Images",
        "Passengers queue at the pier. Provided to Harbour Daily",
        "The operator's chief executive at the pier. Photos provided to Harbour Daily",
        "Ministers meet at the port on Monday. Getty Images",
    ]:
        texts = _block_texts(_BEFORE + caption + "\n" + _AFTER)
        assert texts == [_BEFORE.strip(), _AFTER.strip()], caption


def test_prose_with_slashes_or_a_closing_agency_name_is_kept() -> None:
    for prose in [
        "The plan covers taxes and/or fees that apply to imported goods.",
        "The hotline is staffed 24/7 by volunteers trained by the city.",
        "Negotiators prepared for the U.S. / China talks that start next week.",
        "Prices swing widely when hit by heat/cold cycles, the study found.",
        "The cuts were demanded by an EU/IMF bailout agreed in 2012.",
        "He warmed up before each game by listening to AC/DC at full volume.",
        "Maybe he should take the stairs next time. H/T Jane Roe",
        "The deal closed on Friday, the two companies said in a statement. Reuters",
    ]:
        assert _block_texts(_BEFORE + prose + "\n" + _AFTER)[1] == prose, prose


def test_share_row_with_a_short_link_source_line_and_embedded_post_are_dropped() -> None:
    for furniture in [
        "Send Facebook Twitter Google+ Whatsapp Tumblr Permalink http://example.com/p/2Xy7",
        "Source: Harbour Daily and news agencies",
        "SOURCE: Port Authority data",
        "Crews celebrate at the pier tonight! #ferry pic.twitter.com/AbC123xyZ",
        "A photo posted by Mara Velden (@maravelden) on Feb 6, 2017 at 7:58am PST",
    ]:
        assert _block_texts(_BEFORE + furniture + "\n" + _AFTER) == [
            _BEFORE.strip(),
            _AFTER.strip(),
        ], furniture
    source_sentence = "Source: the operator said the ferries were full."
    assert source_sentence in _block_texts(_BEFORE + source_sentence + "\n" + _AFTER)


def test_wire_dateline_and_trailing_credits_stay_outside_the_paragraph() -> None:
    text = (
        "MOSCOW, March 17. /TASS/. The ministry said the ferry link would reopen in May.\n"
        "The first crossing is planned for May 2, she says. jroe@example.com "
        "(Harbour Weekly 03/10/2017 page 7)\n"
        "For details, write to tickets@example.com\n"
    )
    assert _block_texts(text) == [
        "The ministry said the ferry link would reopen in May.",
        "The first crossing is planned for May 2, she says.",
        "For details, write to tickets@example.com",
    ]


def test_a_wire_credit_after_the_last_sentence_stays_outside_the_paragraph() -> None:
    text = (
        "The lender said profit rose 5 percent in the quarter, helped by trading income.\n\n"
        "Shares fell 3 percent in Frankfurt. ($1 = 0.7654 euros) "
        "(Reporting by Jane Roe in London; Additional reporting by Sam Poe; Editing by Bob Day)\n\n"
        "They gained 6.2 percent in 2006, lagging the index. .SPX (Additional reporting by "
        "Mark Day in New York)\n\n"
        "The report was compiled by the ministry and edited by its staff (reviewed by hand).\n"
    )
    blocks = clean_text(text, "txt").blocks
    assert [normalize(text[b.start : b.end]) for b in blocks] == [
        "The lender said profit rose 5 percent in the quarter, helped by trading income.",
        "Shares fell 3 percent in Frankfurt. ($1 = 0.7654 euros)",
        "They gained 6.2 percent in 2006, lagging the index. .SPX",
        "The report was compiled by the ministry and edited by its staff (reviewed by hand).",
    ]
    assert [b.kind for b in blocks] == ["paragraph"] * 4  # shortened, not taken for headings


@pytest.mark.parametrize("dateline", ["TOKYO, Feb 10 (AP) — ", "Tokyo, February 10 (ANI): ",
                                      "Paris, March 3 - ", "SEOUL, Sept. 4 (Yonhap) -- "])
def test_a_dateline_with_a_month_stays_outside_the_paragraph(dateline: str) -> None:
    # The month names were once matched case-sensitively in lower case: "Feb" never matched.
    sentence = "The minister said the talks would resume next week, according to officials."
    assert _block_texts(_BEFORE + "\n" + dateline + sentence + "\n") == [_BEFORE.strip(), sentence]


def test_an_inline_teaser_never_reaches_a_paragraph() -> None:
    text = (
        _BEFORE + "\n"
        "The ministry declined to comment on the bill. READ MORE: Harbour law 'violates the "
        "rules' The minister is more sympathetic to the plan than his predecessor was. "
        "He met the mayor in February. Related: Ferry strike ends after two weeks The mayor "
        "welcomed the news.\n"
        "Prices rose by 2 percent: more than forecast. The council said: Watch the budget.\n"
    )
    assert _block_texts(text) == [
        _BEFORE.strip(),
        "The ministry declined to comment on the bill.",
        # the sentence the teaser is glued to goes with it: where its headline ends is unknown
        "He met the mayor in February.",
        "Prices rose by 2 percent: more than forecast. The council said: Watch the budget.",
    ]


def test_a_share_prompt_glued_after_the_last_sentence_is_left_out() -> None:
    text = _BEFORE + "\nThe article was updated with a comment from the mayor.- Share this slide: Learn more\n"
    assert _block_texts(text) == [_BEFORE.strip(), "The article was updated with a comment from the mayor."]
