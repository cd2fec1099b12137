"""The one sentence splitter (briefgen.text) that passages, key points and excerpts share."""

from __future__ import annotations

import pytest

from briefgen.text import sentence_spans


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Talks between Korean and U.S. officials resumed on Monday in Seoul.",
        "The deal was signed on Jan. 12 in Tokyo by both ministers.",
        "He spoke at No. 10 Downing Street after the vote.",
        "Mr. Kim and Dr. Lee met Gen. Park in the capital.",
        "J. R. Smith of the U.N. said the talks would go on.",
    ],
)
def test_abbreviations_and_initials_do_not_end_a_sentence(text: str) -> None:
    assert sentences(text) == [text]


def test_real_sentence_ends_split() -> None:
    text = "Seoul said no. Pyongyang fired a missile! Was it a test? Officials “declined to comment.” Then they left."
    assert sentences(text) == [
        "Seoul said no.", "Pyongyang fired a missile!", "Was it a test?",
        "Officials “declined to comment.”", "Then they left.",
    ]
