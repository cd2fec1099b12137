"""Cleaning rules on scenario files other than the seeds: the rules are general, not seed hacks."""

from __future__ import annotations

from pathlib import Path

from briefgen.clean import clean_text
from briefgen.corpus import make_document
from briefgen.models import Document, SourceMeta

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
