"""The brief as data: citation numbering, notes, sources, key points, the brief.json record."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from briefdata import CORPUS, SPEC, SRC_A, SRC_B, SRC_C, TOPICS, make_brief, scored, source
from hypothesis import given
from hypothesis import strategies as st

from briefgen.brief.assemble import assemble_brief
from briefgen.brief.cite import (
    SENTENCE_MAX_CHARS,
    attribution,
    citation_note,
    excerpt,
    kind_label,
    reader_name,
)
from briefgen.brief.model import Brief
from briefgen.brief.record import passage_key, read_previous, record_digest, record_text
from briefgen.config.schema import BriefSpec, Schedule
from briefgen.errors import RenderError
from briefgen.models import ScoredPassage, Source, SourceMeta, TopicSelection


def test_note_has_author_title_outlet_date_and_paragraph() -> None:
    assert citation_note(SRC_A, 3) == "Ann Writer, “Alliance Deepens,” Nikkei Asia, March 10, 2026, ¶ 3."


def test_note_without_metadata_names_no_file() -> None:
    assert citation_note(SRC_B, 1) == "Untitled article, ¶ 1."
    assert citation_note(SRC_C, 4) == "“Tariff Talk,” March 11, 2026, ¶ 4."


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
    merged = next(c for c in brief.citations if c.also_reported_by and c.see is None)
    # One duplicate came from another source (c), one from the same article (a): only c counts.
    assert merged.also_reported_by == ("c",)
    assert merged.also_reported_labels == ("“Tariff Talk,” March 11, 2026",)
    assert merged.note.endswith("Also reported by “Tariff Talk,” March 11, 2026, ¶ 4.")


def test_a_passage_quoted_again_gets_a_new_note_pointing_to_the_first() -> None:
    brief = make_brief()
    first = brief.sections[0].quotes[0]
    again = brief.sections[1].quotes[1]
    assert first.citation.doc_id == again.citation.doc_id and first.citation.ordinal == again.citation.ordinal
    assert first.repeat_of is None and again.repeat_of == "Security and defence"
    assert again.citation.number > first.citation.number
    # The shared passage is also the first key point: every later note points to that one.
    assert brief.key_points[0].citation == 1 and brief.citations[0].see is None
    assert first.citation.see == again.citation.see == 1
    assert again.citation.note == "Nikkei Asia, ¶ 2; see note 1."


def test_notes_run_upwards_in_reading_order_and_each_is_used_once() -> None:
    brief = make_brief(hostile=True)
    reading = [k.citation for k in brief.key_points]
    reading += [q.citation.number for s in brief.sections for q in s.quotes]
    assert reading == list(range(1, len(brief.citations) + 1))


def test_empty_topic_has_no_quotes() -> None:
    assert make_brief().sections[2].quotes == ()


def test_key_points_are_verbatim_parts_of_cited_passages() -> None:
    brief = make_brief()
    assert [k.topic_title for k in brief.key_points] == ["Security and defence", "Trade", "Security and defence"]
    for k in brief.key_points:
        text = brief.citations[k.citation - 1].text
        assert k.excerpt.strip(" …") == text[k.start:k.end].strip()
        assert k.excerpt.startswith("…") == (k.start > 0)
        assert k.excerpt.endswith("…") == (k.end < len(text))


def _brief_of(*passages: ScoredPassage, spec: BriefSpec = SPEC) -> Brief:
    sel = TopicSelection("korea", "Korea", "Both Koreas.", passages)
    day = dt.date(2026, 3, 15)
    return assemble_brief("t", spec, TOPICS, [sel], CORPUS, date=day, as_of=day,
                          generated_at="2026-03-15T00:00:00Z", version="0", previous=None)


def _korea(src: Source, ordinal: int, text: str, key: str, score: float = 8.0) -> ScoredPassage:
    """A Korea passage whose selection found ``Korea``/``Seoul`` and named ``key`` its key sentence."""
    sp = scored(src, ordinal, text, score)
    return dataclasses.replace(sp, key_sentence=text.index(key),
                               hits=(("Korea", 3.0, 1), ("Seoul", 3.0, 1)))


def test_key_point_quotes_the_key_sentence_with_an_ellipsis_exactly_where_it_is_cut() -> None:
    text = ("Talks resumed on Monday after a long pause in the capital. Officials in Seoul said "
            "the South Korea talks would go on for weeks. Nothing else was agreed.")
    brief = _brief_of(_korea(SRC_C, 1, text, "Officials"))
    (point,) = brief.key_points
    assert point.excerpt == "…Officials in Seoul said the South Korea talks would go on for weeks. …"
    assert text[point.start:point.end] == point.excerpt[1:-2]
    whole = "Officials in Seoul said the South Korea talks would go on for weeks."
    assert _brief_of(_korea(SRC_C, 1, whole, "Officials")).key_points[0].excerpt == whole


def test_a_key_point_never_quotes_a_sentence_without_the_topics_evidence() -> None:
    # The selection's key sentence (as over the Reuters corpus) names no Korea term: the key
    # point quotes the sentence that does.
    text = ("China has been Japan's biggest trade partner since 2009, customs data showed. "
            "Seoul, meanwhile, pressed for a trilateral meeting.")
    point = _brief_of(_korea(SRC_C, 1, text, "China")).key_points[0]
    assert point.excerpt == "…Seoul, meanwhile, pressed for a trilateral meeting."
    # A passage with no sentence carrying the evidence gives no key point; the next one does.
    none = _korea(SRC_B, 2, "China has been Japan's biggest trade partner since 2009.", "China", 9.0)
    ok = _korea(SRC_C, 3, "Korea and Japan will meet in May, officials in Seoul said.", "Korea", 5.0)
    assert [k.excerpt for k in _brief_of(none, ok).key_points] == [ok.passage.text]


def test_a_key_point_is_not_cut_at_an_abbreviation() -> None:
    text = ("Trade between Korean and U.S. firms rose by a third in the year to March, the ministry "
            "said. Exports of chips led the rise.")
    point = _brief_of(_korea(SRC_C, 1, text, "Trade")).key_points[0]
    assert point.excerpt.startswith("Trade between Korean and U.S. firms rose by a third in the year to March")


def test_key_points_prefer_news_and_label_what_is_not() -> None:
    essay = source("e", title="Why Seoul Matters", outlet="Policy Review", kind="opinion")
    wire = source("w", title="Seoul Talks", outlet="Wire Agency", kind="news")
    strong = _korea(essay, 1, "Seoul and Korea matter more than ever, I argue.", "Seoul", 9.0)
    weaker = _korea(wire, 1, "Officials in Seoul said Korea would attend.", "Officials", 6.0)
    brief = _brief_of(strong, weaker, spec=SPEC.model_copy(update={"key_points": 2}))
    assert [k.citation for k in brief.key_points] == [1, 2]
    assert [brief.citations[k.citation - 1].doc_id for k in brief.key_points] == ["w", "e"]
    assert [k.kind_label for k in brief.key_points] == [None, "Opinion"]
    assert brief.key_points[1].label == "Policy Review (opinion)"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=600))
def test_excerpt_is_always_a_prefix(text: str) -> None:
    cut = excerpt(text)
    assert text.startswith(cut.removesuffix("…").rstrip(" "))
    assert len(cut) <= SENTENCE_MAX_CHARS + 2


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=600),
       st.integers(min_value=1, max_value=599))
def test_excerpt_from_a_later_sentence_is_verbatim_and_marked(text: str, start: int) -> None:
    start = min(start, len(text) - 1) or 1
    cut = excerpt(text, start=start)
    assert cut.startswith("…")
    assert text[start:].startswith(cut[1:].removesuffix("…").rstrip(" "))


def test_a_long_opening_sentence_is_kept_whole() -> None:
    sentence = "A" + " word" * 55 + "."  # 281 characters: over max_chars, under SENTENCE_MAX_CHARS
    assert excerpt(sentence + " Next one.") == sentence + " …"
    assert excerpt("x" * 400).endswith("…")


@given(st.builds(SourceMeta, title=st.none() | st.just("A Title: With Subtitle"),
                 outlet=st.none() | st.just("Daily"), author=st.none() | st.just("Ann Writer"),
                 date=st.none() | st.just("2026-03-01"), url=st.none(),
                 kind=st.sampled_from([None, "news", "analysis", "aggregator", "press release"])),
       st.booleans())
def test_a_reader_never_sees_a_file_name_or_hash(meta: SourceMeta, translated: bool) -> None:
    warnings = ("Originally published in Japanese.",) if translated else ()
    src = Source("001_692c35d782a7bbcb", "seeds/001_692c35d782a7bbcb.txt", "9f" * 32, meta, warnings)
    for shown in (attribution(src), citation_note(src, 3), reader_name(src)):
        assert "692c35d782a7bbcb" not in shown and ".txt" not in shown and "9f9f" not in shown
    if meta.kind in ("analysis", "aggregator", "press release"):
        assert kind_label(src) and kind_label(src).lower() in attribution(src).lower()  # type: ignore[union-attr]


def test_untitled_source_is_described_by_what_is_known() -> None:
    essay = source("x", date="2026-03-12", kind="analysis", warning="Originally published in Japanese.")
    assert attribution(essay) == "Analysis, translated from Japanese, March 12, 2026"
    ai = source("y", title="A Very Long Title: With a Subtitle", kind="aggregator",
                warning="This content is AI-generated based on source articles.")
    assert attribution(ai) == "“A Very Long Title” (AI-generated summary)"


def test_warnings_come_from_cited_sources() -> None:
    brief = make_brief()
    assert [(s.doc_id, w) for s, w in brief.warnings] == [
        ("c", "This content is AI-generated based on source articles.")
    ]


def test_sources_are_listed_in_note_order() -> None:
    brief = make_brief()
    firsts = [s.cited_in[0] for s in brief.sources]
    assert firsts == sorted(firsts)


def test_a_source_with_a_third_of_the_quotes_is_named() -> None:
    brief = make_brief()
    counts = {s.doc_id: sum(c.doc_id == s.doc_id for c in brief.citations) for s in brief.sources}
    expected = [s.label for s in brief.sources if 3 * counts[s.doc_id] >= len(brief.citations)]
    assert [c.label for c in brief.concentration] == expected == ["Nikkei Asia"]


def test_stale_reporting_is_said_for_a_scheduled_brief() -> None:
    old = source("o", outlet="Daily", date="2026-03-01")
    passage = _korea(old, 1, "Seoul and Korea agreed on talks.", "Seoul")
    assert _brief_of(passage).latest_reporting is None  # no schedule, no limit
    scheduled = SPEC.model_copy(update={"schedule": Schedule(cron="0 7 * * *")})
    assert _brief_of(passage, spec=scheduled).latest_reporting == "2026-03-01"  # 14 days > 7
    relaxed = scheduled.model_copy(update={"stale_after_days": 30})
    assert _brief_of(passage, spec=relaxed).latest_reporting is None


def test_record_has_the_contract_shape_with_key_points_and_files() -> None:
    record = json.loads(record_text(make_brief(), {"brief.md": "ab" * 32}))
    assert list(record) == ["brief", "title", "generated_at", "as_of", "window", "corpus",
                            "key_points", "sections", "sources", "new_since_previous", "files",
                            "record_sha256"]
    assert record["as_of"] == "2026-03-15" and record["new_since_previous"] is None
    assert record["files"] == {"brief.md": "ab" * 32}
    assert record["record_sha256"] == record_digest(record)
    passage = record["sections"][0]["passages"][0]
    assert list(passage) == ["citation", "see_note", "doc_id", "source_path", "start", "end", "text",
                             "score", "also_reported_by"]
    assert list(record["sources"][0]) == ["doc_id", "source_path", "title", "outlet", "author",
                                          "date", "url", "kind", "sha256", "warnings", "cited_in"]
    point = record["key_points"][0]
    assert list(point) == ["topic", "text", "citation", "doc_id", "start", "end", "kind"]
    assert point["topic"] == "security" and point["citation"] == 1
    assert record["sections"][2] == {"topic": "korea", "title": "Korea", "passages": []}


def test_passages_missing_from_the_previous_run_are_new(tmp_path: Path) -> None:
    old = make_brief()
    first = old.citations[0]
    keep = {passage_key(c.doc_id, c.text) for c in old.citations if c.text != first.text}
    brief = make_brief(previous=keep)
    again = tuple(c.number for c in brief.citations if c.text == first.text)
    assert len(again) == 3  # key point, section, repeat: each marked new, counted once
    assert brief.new_since_previous == (again[0],)
    assert all(c.new == (c.number in again) for c in brief.citations)
    assert brief.key_points[0].new and not any(k.new for k in brief.key_points[1:])
    path = tmp_path / "brief.json"
    path.write_text(record_text(old), encoding="utf-8")
    assert read_previous(path) == {passage_key(c.doc_id, c.text) for c in old.citations}


def test_previous_run_absent_or_broken(tmp_path: Path) -> None:
    assert read_previous(None) is None
    assert read_previous(tmp_path / "gone.json") is None
    broken = tmp_path / "brief.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(RenderError, match="brief.json"):
        read_previous(broken)


def test_a_title_ending_in_a_question_mark_takes_no_comma() -> None:
    asked = source("q", title="What is causing tension?", date="2010-09-29")
    assert citation_note(asked, 3) == "“What is causing tension?” September 29, 2010, ¶ 3."
    assert attribution(asked) == "“What is causing tension?” September 29, 2010"
