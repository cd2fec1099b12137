"""The brief as data: citation numbering, notes, sources, key points, the brief.json record."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from briefdata import CORPUS, SPEC, SRC_A, SRC_B, SRC_C, TOPICS, make_brief, scored
from hypothesis import given
from hypothesis import strategies as st

from briefgen.brief.assemble import assemble_brief
from briefgen.brief.cite import SENTENCE_MAX_CHARS, citation_note, excerpt
from briefgen.brief.record import brief_record, passage_key, read_previous
from briefgen.errors import RenderError
from briefgen.models import TopicSelection


def test_note_has_outlet_title_date_and_paragraph() -> None:
    assert citation_note(SRC_A, 3) == "Nikkei Asia, “Alliance Deepens,” March 10, 2026, ¶ 3."


def test_note_without_metadata_names_the_file() -> None:
    assert citation_note(SRC_B, 1) == "b.txt, ¶ 1."
    assert citation_note(SRC_C, 4) == "“Tariff Talk,” March 11, 2026, ¶ 4."


def test_citations_are_numbered_in_reading_order() -> None:
    brief = make_brief()
    assert [c.number for c in brief.citations] == list(range(1, len(brief.citations) + 1))
    reading = [k.citation for k in brief.key_points]
    reading += [q.citation.number for s in brief.sections for q in s.quotes]
    first_seen = list(dict.fromkeys(reading))
    assert first_seen == [c.number for c in brief.citations]


def test_every_citation_resolves_and_every_source_is_cited() -> None:
    brief = make_brief(hostile=True)
    listed = {s.doc_id for s in brief.sources}
    cited = set()
    for c in brief.citations:
        assert c.doc_id in listed
        assert set(c.also_reported_by) <= listed
        cited |= {c.doc_id, *c.also_reported_by}
    assert cited == listed
    for s in brief.sources:
        assert s.cited_in, s.doc_id
        for n in s.cited_in:
            c = brief.citations[n - 1]
            assert s.doc_id in (c.doc_id, *c.also_reported_by)


def test_near_duplicates_credit_other_sources_only() -> None:
    brief = make_brief()
    merged = brief.sections[0].quotes[1].citation
    # One duplicate came from another source (c), one from the same article (a): only c counts.
    assert merged.also_reported_by == ("c",)
    assert merged.also_reported_labels == ("Tariff Talk",)
    assert merged.note.endswith("Also reported by “Tariff Talk,” March 11, 2026, ¶ 4.")


def test_a_passage_in_two_topics_is_quoted_once_then_referred_to() -> None:
    brief = make_brief()
    first = brief.sections[0].quotes[0]
    again = brief.sections[1].quotes[1]
    assert first.citation.number == again.citation.number
    assert first.repeat_of is None and again.repeat_of == "Security and defence"


def test_empty_topic_has_no_quotes() -> None:
    assert make_brief().sections[2].quotes == ()


def test_key_points_are_verbatim_prefixes_of_cited_passages() -> None:
    brief = make_brief()
    assert [k.topic_title for k in brief.key_points] == ["Security and defence", "Trade", "Security and defence"]
    for k in brief.key_points:
        text = brief.citations[k.citation - 1].text
        assert text.startswith(k.excerpt.removesuffix("…"))


def test_key_point_quotes_from_the_passages_key_sentence() -> None:
    text = "Talks resumed on Monday after a long pause. Tariffs on cars topped the agenda in Tokyo."
    key = dataclasses.replace(scored(SRC_C, 1, text, 8.0), key_sentence=text.index("Tariffs"))
    sel = TopicSelection("trade", "Trade", "Tariffs.", (key,))
    day = dt.date(2026, 3, 15)
    brief = assemble_brief("t", SPEC, TOPICS, [sel], CORPUS, date=day, as_of=day,
                           generated_at="2026-03-15T00:00:00Z", version="0", previous=None)
    assert [k.excerpt for k in brief.key_points] == ["…Tariffs on cars topped the agenda in Tokyo."]


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=600))
def test_excerpt_is_always_a_prefix(text: str) -> None:
    cut = excerpt(text)
    assert text.startswith(cut.removesuffix("…"))
    assert len(cut) <= SENTENCE_MAX_CHARS + 1


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=600),
       st.integers(min_value=1, max_value=599))
def test_excerpt_from_a_later_sentence_is_verbatim_and_marked(text: str, start: int) -> None:
    start = min(start, len(text) - 1) or 1
    cut = excerpt(text, start=start)
    assert cut.startswith("…")
    assert text[start:].startswith(cut[1:].removesuffix("…"))


def test_a_long_opening_sentence_is_kept_whole() -> None:
    sentence = "A" + " word" * 55 + "."  # 281 characters: over max_chars, under SENTENCE_MAX_CHARS
    assert excerpt(sentence + " Next one.") == sentence
    assert excerpt("x" * 400).endswith("…")


def test_warnings_come_from_cited_sources() -> None:
    brief = make_brief()
    assert [(s.doc_id, w) for s, w in brief.warnings] == [
        ("c", "This content is AI-generated based on source articles.")
    ]


def test_record_has_exactly_the_contract_shape() -> None:
    record = brief_record(make_brief())
    assert list(record) == ["brief", "title", "generated_at", "as_of", "sections", "sources",
                            "new_since_previous"]
    assert record["as_of"] == "2026-03-15" and record["new_since_previous"] is None
    passage = record["sections"][0]["passages"][0]
    assert list(passage) == ["citation", "doc_id", "source_path", "start", "end", "text", "score",
                             "also_reported_by"]
    assert list(record["sources"][0]) == ["doc_id", "source_path", "title", "outlet", "author",
                                          "date", "url", "sha256", "warnings"]
    assert record["sections"][2] == {"topic": "korea", "title": "Korea", "passages": []}
    json.dumps(record)  # JSON-able as is


def test_passages_missing_from_the_previous_run_are_new(tmp_path: Path) -> None:
    old = make_brief()
    keep = {passage_key(c.doc_id, c.text) for c in old.citations[1:]}
    brief = make_brief(previous=keep)
    assert brief.new_since_previous == (1,)
    assert brief.citations[0].new and not any(c.new for c in brief.citations[1:])
    path = tmp_path / "brief.json"
    path.write_text(json.dumps(brief_record(old)), encoding="utf-8")
    assert read_previous(path) == {passage_key(c.doc_id, c.text) for c in old.citations}


def test_previous_run_absent_or_broken(tmp_path: Path) -> None:
    assert read_previous(None) is None
    assert read_previous(tmp_path / "gone.json") is None
    broken = tmp_path / "brief.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(RenderError, match="brief.json"):
        read_previous(broken)
