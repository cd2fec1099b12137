"""passages: the one normalization, exact passage offsets, sentence splitting, sections."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from briefgen.corpus.files import make_document
from briefgen.corpus.passages import MAX_PASSAGE_CHARS
from briefgen.models import SourceMeta
from briefgen.text import normalize

# Pieces that stress offsets and normalization: line endings, invisible characters, combining
# marks NFC composes, singletons NFC replaces (Å sign, Ohm), emoji with joiners, bullets,
# headings, furniture the cleaner removes, and ordinary sentences.
_PIECES = [
    "\r\n",
    "\n",
    "\n\n",
    "\r",
    "\t",
    " ",
    "  ",
    "\u00a0",
    "\u2028",
    "\x85",
    "\x0b",
    "\x1c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u200e",
    "\u202e",
    "\u2066",
    "\x00",
    "\x07",
    "e\u0301",
    "\u0301",
    "a\u200d\u0308",
    "\u212b",
    "\u2126",
    "\u1100\u1161",
    "ﬁ",
    "😀",
    "👩\u200d💻",
    "• ",
    "· ",
    "- ",
    "* ",
    "# ",
    "## ",
    "---\n",
    "“",
    "”",
    "—",
    ".",
    "?",
    "Key Points",
    "Reader Comments\n",
    "Related Articles\n",
    "3 min read\n",
    "Photo: a ship. ",
    "- ANI\n",
    "date 2026-03-12 ",
    "TOKYO (Reuters) - ",
    "Tokyo, February 10\n",
    "The minister said the talks went well. ",
    "Prices rose 3.5 percent in March. ",
    "Trade Talks Resume\n",
]
_texts = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=6)), max_size=80).map(
    "".join
)


def _doc(text: str, fmt: str = "txt"):
    return make_document(
        doc_id="d", source_path="x.txt", text=text, sha256="0", meta=SourceMeta(), fmt=fmt
    )


def test_normalize_composes_removes_invisibles_and_collapses_whitespace() -> None:
    assert normalize("Cafe\u0301") == "Café"
    assert normalize("zero\u200bwidth\u200d joiner") == "zerowidth joiner"
    assert normalize("\u202eRTL\u202c and \u2066isolate\u2069") == "RTL and isolate"
    assert normalize("soft\u00adhyphen\ufeff") == "softhyphen"
    assert normalize("  one\r\n\ttwo \u00a0 three\n") == "one two three"
    assert normalize("bell\x07 nul\x00") == "bell nul"


def test_normalize_leaves_quotes_and_dashes_as_written() -> None:
    s = "“Quoted” — ‘single’ – \"straight\" 'x' ... …"
    assert normalize(s) == s


@given(st.text())
def test_normalize_is_idempotent(s: str) -> None:
    once = normalize(s)
    assert normalize(once) == once


@given(_texts)
def test_normalize_is_idempotent_on_tricky_text(s: str) -> None:
    once = normalize(s)
    assert normalize(once) == once


def _check_invariants(text: str, fmt: str) -> None:
    doc = _doc(text, fmt)
    previous_end = 0
    for number, p in enumerate(doc.passages, start=1):
        assert p.ordinal == number
        assert p.text == normalize(text[p.start : p.end])
        assert p.text, "a passage is never empty"
        assert previous_end <= p.start < p.end <= len(text)
        assert not text[p.start].isspace() and not text[p.end - 1].isspace(), "spans are tight"
        assert normalize(text[p.start]) and normalize(text[p.end - 1]), "no invisible ends"
        previous_end = p.end


@given(_texts)
def test_every_passage_is_exactly_its_source_span(text: str) -> None:
    _check_invariants(text, "txt")


@given(_texts)
def test_every_markdown_passage_is_exactly_its_source_span(text: str) -> None:
    _check_invariants(text, "md")


@given(st.text(min_size=1))
def test_every_passage_is_exactly_its_source_span_for_any_unicode(text: str) -> None:
    _check_invariants(text, "txt")


def test_long_paragraph_is_split_at_sentence_boundaries() -> None:
    sentences = [
        f"Sentence number {i} says the U.S. economy grew by {i}.5 percent in the year."
        for i in range(60)
    ]
    text = "Headline Without Stop\n" + " ".join(sentences) + "\n"
    doc = _doc(text)
    assert len(doc.passages) > 3
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in doc.passages)
    # Every piece is whole sentences: it ends at a full stop and starts a sentence.
    for p in doc.passages:
        assert p.text.startswith("Sentence number ") and p.text.endswith("in the year.")
    assert " ".join(p.text for p in doc.passages) == " ".join(sentences)
    assert "U.S." in doc.passages[0].text  # an abbreviation is not a sentence end


def test_headings_are_sections_not_passages_and_ordinals_count_passages() -> None:
    text = (
        "Main Headline Of The Story\n\nFirst paragraph of the story.\n\nThe Background\n\n"
        "Second paragraph, under a heading.\n\nThird paragraph continues.\n"
    )
    doc = _doc(text)
    assert [(p.ordinal, p.section, p.text) for p in doc.passages] == [
        (1, None, "First paragraph of the story."),
        (2, "The Background", "Second paragraph, under a heading."),
        (3, "The Background", "Third paragraph continues."),
    ]
    assert doc.source.meta.title == "Main Headline Of The Story"


def test_bullet_glyphs_stay_outside_the_span() -> None:
    text = "• The first point is a full sentence.\n  · The second point also is.\n- A third one, with a dash.\n* Fourth.\n"
    doc = _doc(text)
    assert [p.text for p in doc.passages] == [
        "The first point is a full sentence.",
        "The second point also is.",
        "A third one, with a dash.",
        "Fourth.",
    ]
    assert all(text[p.start] not in "•·-* " for p in doc.passages)


def test_crlf_and_invisible_characters_keep_offsets_exact() -> None:
    text = "\ufeffTitle Line\r\n\r\n\u200bThe first\u00a0para\u00adgraph.\u200e\r\nCafe\u0301 second one.\r\n"
    doc = _doc(text)
    assert [p.text for p in doc.passages] == ["The first paragraph.", "Café second one."]
    first = doc.passages[0]
    assert text[first.start : first.end] == "The first\u00a0para\u00adgraph."
