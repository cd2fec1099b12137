"""Passage selection: scoring, FTS5 query escaping, near-duplicates, caps, the select command."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_project

from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.config.schema import LoadedConfig, Topic
from briefgen.errors import ConfigError
from briefgen.index.backends import open_store
from briefgen.index.sqlite.analyzer import FtsAnalyzer, fts_phrase
from briefgen.index.sqlite.schema import TOKENIZE
from briefgen.index.sqlite.store import SqliteStore, match_expression
from briefgen.index.update import update_index
from briefgen.select.dedup import content_sets, is_near_duplicate, overlap
from briefgen.select.report import selection_to_json
from briefgen.select.scoring import CompiledTopic, score_texts
from briefgen.select.selection import find_topic, key_sentence, select_passages, select_topic

ROOT = Path(__file__).resolve().parent.parent
SEC = "002_78850c45ae877038"  # the coalition article that restates its facts
LEAD = "003_414f1652bcec3914"  # the article that repeats its lead
HOSTILE = ['"', '""', 'a"b', "(", ")", "AND", "OR", "NOT", "NEAR", "NEAR(a b)", "*", "x*",
           "^start", "col:umn", "-", "+", "{a b}", ":", "' OR 1=1 --", "\x00", "Japan\"China"]


@pytest.fixture(scope="module")
def seeds_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with the seeds indexed, built once for the module."""
    dest = copy_project(tmp_path_factory.mktemp("select") / "project")
    update_index(load_config(dest / "config.yaml"), progress=False, warn=lambda m: None)
    return dest


@pytest.fixture(scope="module")
def cfg(seeds_project: Path) -> LoadedConfig:
    return load_config(seeds_project / "config.yaml")


@pytest.fixture(scope="module")
def index(cfg: LoadedConfig) -> SqliteStore:
    with open_store(cfg) as opened:
        yield opened  # type: ignore[misc]


def ids(selection: object) -> list[tuple[str, int]]:
    return [(sp.passage.doc_id, sp.passage.ordinal) for sp in selection.passages]  # type: ignore[attr-defined]


def passage_text(index: SqliteStore, doc_id: str, ordinal: int) -> str:
    return next(p.text for p in index.passages(doc_id) if p.ordinal == ordinal)


def run_cli(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--config", str(project / "config.yaml")])
    return result.exit_code, result.stdout, result.stderr


# --- scoring: tokens agree with the index -----------------------------------------------

def test_analyzer_uses_the_index_tokenizer(cfg: LoadedConfig) -> None:
    with sqlite3.connect(cfg.resolve(cfg.config.index.path)) as con:
        sql = con.execute("SELECT sql FROM sqlite_master WHERE name = 'passages_fts'").fetchone()[0]
    assert f"tokenize='{TOKENIZE}'" in sql


def test_terms_match_inflections_hyphens_and_case() -> None:
    topic = Topic(title="t", terms={"tariffs": 3, "Japan-China": 2, "self-defense": 2, "U.S.": 1})
    [ev] = score_texts(topic, ["A tariff on JAPAN–CHINA trade; Self-Defense Forces; the U.S. envoy"], FtsAnalyzer())
    assert {t.label: n for t, n in ev.hits} == {
        "tariffs": 1, "Japan-China": 1, "self-defense": 1, "U.S.": 1}
    [none] = score_texts(topic, ["Japan and China; defense of self"], FtsAnalyzer())
    assert none.hits == ()  # a phrase needs its words next to each other


def test_evidence_formula_and_repeats() -> None:
    topic = Topic(title="t", terms={"trade": 2, "trade war": 3, "tariff": 3, "tariffs": 1})
    [once, twice] = score_texts(topic, ["a trade war", "tariffs, tariffs"], FtsAnalyzer())
    assert once.evidence == pytest.approx(5.0)  # the phrase and its word both count
    # "tariff" and "tariffs" are one term (largest weight), repeated: w * (1 + ln 2)
    assert [t.label for t, _ in twice.hits] == ["tariff"]
    assert twice.evidence == pytest.approx(3 * (1 + 0.6931471805599453))


def test_require_exclude_and_min_score() -> None:
    topic = Topic(title="t", terms={"Korea": 3, "summit": 1}, require=["Seoul"],
                  exclude=["K-pop"], min_score=4)
    a, b, c = score_texts(topic, ["Korea summit in Seoul", "Korea summit", "Seoul K-pop Korea summit"], FtsAnalyzer())
    assert a.qualifies(4) and a.evidence == 4
    assert not b.qualifies(4) and not b.required
    assert not c.qualifies(4) and c.excluded_by == "K-pop"


# --- FTS5 query escaping ----------------------------------------------------------------

def test_fts_phrase_escapes_quotes() -> None:
    assert fts_phrase('say "no"') == '"say ""no"""'


@pytest.mark.parametrize("term", HOSTILE)
def test_hostile_terms_never_break_the_query(term: str) -> None:
    analyzer = FtsAnalyzer()
    compiled = CompiledTopic(
        Topic(title="t", terms={term: 1, "Japan": 1}, require=[term, "Japan"], exclude=[term]),
        analyzer,
    )
    con = sqlite3.connect(":memory:")
    con.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZE}')")
    con.execute("INSERT INTO t VALUES ('Japan and China'), ('AND OR NOT NEAR start')")
    query = match_expression(compiled.query())
    con.execute("SELECT rowid FROM t WHERE t MATCH ?", (query,)).fetchall()  # no syntax error


def test_hostile_topic_through_the_index(index: SqliteStore) -> None:
    topic = Topic(title="Hostile", terms={**{t: 1 for t in HOSTILE}, "Korea": 3}, min_score=1)
    selection = select_passages(topic, index, key="hostile")
    assert selection.passages  # the sane term still finds Korea passages
    assert all("Korea" in sp.matched for sp in selection.passages)


# --- near-duplicates ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ((SEC, 8), (SEC, 13), True),  # China's concern: summary bullet vs body
        ((SEC, 2), (SEC, 5), True),  # the coalition, executive summary vs story so far
        ((SEC, 3), (SEC, 12), True),  # military buildup, doubling defence spending
        ((SEC, 9), (SEC, 15), True),  # Sahashi on the parliamentary minority
        ((LEAD, 1), (LEAD, 2), True),  # 003 repeats its lead
        ((SEC, 10), ("004_36b7389141b5a7d5", 1), False),  # both: Takaichi meets Trump
        ((LEAD, 1), (LEAD, 4), False),  # the lead vs the summit-plans paragraph
        ((LEAD, 8), ("001_692c35d782a7bbcb", 5), False),  # both about Japan's security
        (("001_692c35d782a7bbcb", 15), ("001_692c35d782a7bbcb", 22), False),
        (("001_692c35d782a7bbcb", 4), ("001_692c35d782a7bbcb", 6), False),  # a short question
    ],
)
def test_near_duplicate_pairs(
    index: SqliteStore, a: tuple[str, int], b: tuple[str, int], same: bool
) -> None:
    texts = [passage_text(index, *a), passage_text(index, *b)]
    sa, sb = content_sets(texts, FtsAnalyzer())
    assert is_near_duplicate(sa, sb) is same, overlap(sa, sb)


def test_identical_text_is_a_duplicate_and_empty_is_not() -> None:
    text = "Japan will double its defence budget to two percent of GDP by 2027, the minister said."
    sa, sb, empty = content_sets([text, text.upper(), "the of and"], FtsAnalyzer())
    assert is_near_duplicate(sa, sb)
    assert not is_near_duplicate(sa, empty)


def test_restatements_are_merged_as_corroboration(cfg: LoadedConfig, index: SqliteStore) -> None:
    selection = select_topic(cfg, "security", store=index)
    by_id = {(sp.passage.doc_id, sp.passage.ordinal): sp for sp in selection.passages}
    merged = {(c.passage.doc_id, c.passage.ordinal)
              for sp in selection.passages for c in sp.corroborated_by}
    assert (SEC, 12) in by_id and {(SEC, 3), (SEC, 7)} <= merged
    assert (LEAD, 2) in merged or (LEAD, 2) not in by_id  # a restatement is never shown twice
    assert not merged & set(by_id)  # a merged passage is never also shown
    analyzer = FtsAnalyzer()
    sets = content_sets([sp.passage.text for sp in selection.passages], analyzer)
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            assert not is_near_duplicate(sets[i], sets[j])


# --- the four topics on the seeds ----------------------------------------------------------

EXPECTED = {  # passages that must be chosen, and words every chosen passage must contain
    "security": ({(SEC, 12), (LEAD, 8), ("001_692c35d782a7bbcb", 5)},
                 ("defense", "defence", "military", "security", "alliance", "nuclear")),
    "trade": ({(LEAD, 7), ("004_36b7389141b5a7d5", 7), ("000_71d93d24bdf0b820", 11)},
              ("trade", "tariff", "invest", "export", "supply chain", "purchases")),
    "china": ({("001_692c35d782a7bbcb", 11), (SEC, 13)}, ("China", "Chinese", "Beijing")),
    "korea": ({("001_692c35d782a7bbcb", 13), ("000_71d93d24bdf0b820", 12)},
              ("Korea", "Seoul", "ROK")),
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_topic_selects_sensible_passages(cfg: LoadedConfig, index: SqliteStore, key: str) -> None:
    must, words = EXPECTED[key]
    topic = cfg.topics[key]
    selection = select_topic(cfg, key, store=index)
    assert must <= set(ids(selection))
    assert 0 < len(selection.passages) <= topic.max_passages
    for sp in selection.passages:
        assert any(w.lower() in sp.passage.text.lower() for w in words), sp.passage.text
        assert sp.score >= topic.min_score
    scores = [sp.score for sp in selection.passages]
    assert scores == sorted(scores, reverse=True)
    # spread across sources: every seed that has a qualifying passage (Korea: only two do)
    assert len({sp.source.doc_id for sp in selection.passages}) >= (2 if key == "korea" else 3)


def test_passing_mentions_stay_out(cfg: LoadedConfig, index: SqliteStore) -> None:
    # "... the APEC summit in South Korea" and "threats ... from China and North Korea"
    korea = ids(select_topic(cfg, "korea", store=index))
    assert (SEC, 14) not in korea and (LEAD, 8) not in korea


def test_irrelevant_topic_selects_nothing(index: SqliteStore) -> None:
    farming = Topic(
        title="Farming",
        terms={"wheat": 3, "harvest": 3, "rice paddies": 3, "fertilizer": 2, "livestock": 2},
        min_score=3,
    )
    assert select_passages(farming, index, key="farming").passages == ()
    japan = Topic(title="Japan", terms={"Japan": 1, "Takaichi": 1}, min_score=50)
    assert select_passages(japan, index, key="japan").passages == ()


def test_deterministic(cfg: LoadedConfig, index: SqliteStore) -> None:
    for key in EXPECTED:
        first = selection_to_json(select_topic(cfg, key, store=index), cfg)
        again = selection_to_json(select_topic(cfg, key), cfg)  # opens its own index
        assert json.dumps(first) == json.dumps(again)


@pytest.mark.parametrize("per_source", [1, 2, 3])
def test_max_per_source_and_limit(index: SqliteStore, per_source: int) -> None:
    topic = Topic(
        title="Takaichi",
        terms={"Takaichi": 2, "Japan": 1},
        min_score=2,
        max_passages=20,
        max_per_source=per_source,
    )
    selection = select_passages(topic, index, key="t")
    per_doc = [sp.source.doc_id for sp in selection.passages]
    assert max(per_doc.count(d) for d in per_doc) == per_source
    assert len(selection.passages) == 5 * per_source  # five seeds, each has enough passages
    limited = select_passages(topic, index, key="t", limit=2)
    assert len(limited.passages) == 2


def test_unknown_topic_suggests_a_name(cfg: LoadedConfig) -> None:
    with pytest.raises(ConfigError, match=r"unknown topic 'securty' \(did you mean 'security'\?\)"):
        find_topic(cfg, "securty")


# --- date windows (a small dated JSONL corpus) ---------------------------------------------

def test_date_window_and_undated_sources(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    records = [
        {"id": "old", "date": "2025-01-05", "text": "Tariffs on steel rose sharply in the trade war."},
        {"id": "new", "date": "2025-03-01", "text": "New tariffs hit cars in the trade war."},
        {"id": "undated", "text": "Tariffs and the trade war dominated the talks."},
    ]
    (tmp_path / "corpus" / "news.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (tmp_path / "config.yaml").write_text(
        "corpus:\n  path: corpus\n  metadata: null\n"
        "topics:\n  trade:\n    title: Trade\n    terms: {tariff: 3, trade war: 3}\n    min_score: 3\n"
        "  recent:\n    title: Recent\n    terms: {tariff: 3}\n    min_score: 3\n    within_days: 10\n"
        "  spring:\n    title: Spring\n    terms: {tariff: 3}\n    min_score: 3\n"
        "    date_from: 2025-02-01\n    date_to: 2025-12-31\n",
        encoding="utf-8")
    cfg = load_config(tmp_path / "config.yaml")
    update_index(cfg, progress=False, warn=lambda m: None)
    import datetime as dt

    def docs(key: str, as_of: dt.date | None = None) -> list[str]:
        return sorted(sp.passage.doc_id for sp in select_topic(cfg, key, as_of=as_of).passages)

    assert docs("trade") == ["new", "old", "undated"]  # no window: undated sources count
    assert docs("recent", dt.date(2025, 3, 5)) == ["new"]  # window: only dated sources
    assert docs("recent", dt.date(2025, 1, 10)) == ["old"]  # later articles are not "recent"
    assert docs("spring") == ["new"]


# --- the select command -------------------------------------------------------------------

def test_select_json_shape(seeds_project: Path) -> None:
    code, out, _ = run_cli(seeds_project, "select", "korea", "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["topic", "passages"] and data["topic"] == "korea"
    assert data["passages"]
    for p in data["passages"]:
        assert list(p) == ["doc_id", "source_path", "start", "end", "text", "score", "matched"]
        assert isinstance(p["start"], int) and isinstance(p["end"], int)
        assert isinstance(p["score"], float) and all(isinstance(m, str) for m in p["matched"])
        assert p["source_path"] == f"seeds/{p['doc_id']}.txt"
        raw = (seeds_project / p["source_path"]).read_text(encoding="utf-8")
        assert p["text"] == " ".join(raw[p["start"]:p["end"]].split())


def test_select_explain_and_limit(seeds_project: Path) -> None:
    code, out, _ = run_cli(seeds_project, "select", "security", "--explain", "--limit", "2")
    assert code == 0
    assert out.count("matched:") == 2 and "relevance" in out and "score" in out
    assert "near-duplicates merged:" in out


def test_custom_topic_file_through_the_cli(seeds_project: Path, tmp_path: Path) -> None:
    topic_file = tmp_path / "diplomacy.yaml"
    topic_file.write_text(
        'title: "Diplomacy (test)"\nterms:\n  shuttle diplomacy: 3\n  summit: 2\n'
        '  "NEAR(a b) AND *": 1\nmin_score: 2\nmax_passages: 3\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["select", "diplomacy", "--json", "--topic-file",
                                      str(topic_file), "--config",
                                      str(seeds_project / "config.yaml")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["topic"] == "diplomacy" and 0 < len(data["passages"]) <= 3
    assert all({"summit", "shuttle diplomacy"} & set(p["matched"]) for p in data["passages"])


def test_select_unknown_topic_exits_2(seeds_project: Path) -> None:
    code, out, err = run_cli(seeds_project, "select", "koera")
    assert code == 2
    assert "did you mean 'korea'" in err and "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1


def test_select_without_index_says_what_to_do(tmp_path: Path) -> None:
    shutil.copy2(ROOT / "config.yaml", tmp_path / "config.yaml")
    code, _, err = run_cli(tmp_path, "select", "security")
    assert code != 0 and "briefgen index" in err and "Traceback" not in err


def test_key_sentence_is_the_one_that_states_the_topic_best() -> None:
    topic = Topic.model_validate(
        {"title": "Trade", "description": "d", "min_score": 1, "terms": {"tariff": 3, "trade": 2}}
    )
    analyzer = FtsAnalyzer()
    compiled = CompiledTopic(topic, analyzer)
    text = "Talks resumed on Monday. Tariffs on steel and a trade deal topped the agenda. Trade rose."
    assert text[key_sentence(compiled, text):].startswith("Tariffs on steel")
    tie = "Trade fell. Trade rose in the U.S. market."
    assert key_sentence(compiled, tie) == 0  # of equals, the earliest: the opening stays
    assert key_sentence(compiled, "One sentence about tariffs only.") == 0
    analyzer.close()


def test_seed_trade_key_sentence_names_the_supply_chain_agenda(cfg: LoadedConfig, index: SqliteStore) -> None:
    best = select_topic(cfg, "trade", store=index).passages[0]
    assert (best.passage.doc_id, best.passage.ordinal) == ("003_414f1652bcec3914", 7)
    assert best.passage.text[best.key_sentence:].startswith("With global supply chains")
