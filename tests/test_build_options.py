"""`briefgen build` and `select` options for one run: --topics, --topic-file, --as-of, --since,
--within-days; unused topics are warned about; an HTML page's metadata reaches the sources list.

A small dated corpus (Markdown front matter, one HTML page), built through the real command.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from briefgen.cli import cli

DATA = Path(__file__).resolve().parent / "data"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

CONFIG = """\
corpus: {path: corpus, metadata: null}
topic_files: [topics/*.yaml]
topics:
  trade:
    title: Trade
    terms: {tariff: 3, trade: 2, export controls: 3}
    min_score: 2
    max_passages: 10
    max_per_source: 1
  korea:
    title: Korea
    terms: {Korea: 3, Seoul: 3}
    min_score: 3
briefs:
  desk:
    title: Desk Brief
    topics: [trade]
    formats: [md, json]
    key_points: 2
    stale_after_days: 3
"""

ENERGY = "title: Energy\nterms: {LNG: 3, energy: 2}\nmin_score: 2\n"


STORIES = {
    "early": ("Steel makers asked the ministry for a tariff on imported coil before the summer.",
              "A utility said LNG cargoes and energy prices worried its board more than anything."),
    "mid": ("Negotiators met in Geneva to narrow gaps over farm tariff cuts and quotas.",
            "Ministers also discussed energy security and long-term LNG supply contracts."),
    "late": ("The finance minister warned a tariff war would hurt growth in the second half.",
             "Power companies raised energy bills after LNG spot prices doubled in a week."),
    "undated": ("Port officials said tariff revenue fell as trade with neighbours slowed.",
                "A new pipeline could cut the island's dependence on LNG and energy imports."),
}


def _article(day: str | None, name: str) -> str:
    front = f"---\ntitle: {name.title()} report\noutlet: Wire\ndate: {day}\nkind: news\n---\n" if day else ""
    return front + "\n\n".join(STORIES[name]) + "\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("options")
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    corpus = root / "corpus"
    corpus.mkdir()
    (root / "topics").mkdir()
    shutil.copytree(TEMPLATES, root / "templates")
    for name, day in (("early", "2026-03-01"), ("mid", "2026-03-10"), ("late", "2026-03-20"),
                      ("undated", None)):
        (corpus / f"{name}.md").write_text(_article(day, name), encoding="utf-8")
    shutil.copy(DATA / "page_with_metadata.html", corpus / "chips.html")
    (root / "energy.yaml").write_text(ENERGY, encoding="utf-8")
    result = CliRunner().invoke(cli, ["index", "-q", "-c", str(root / "config.yaml")])
    assert result.exit_code == 0, result.output
    return root


def _run(project: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, [args[0], "-c", str(project / "config.yaml"), *args[1:]])
    assert result.exit_code == 0, result.output
    return result


def _build(project: Path, out: Path, *args: str) -> tuple[str, dict, Result]:  # type: ignore[type-arg]
    result = _run(project, "build", "--out", str(out), *args)
    record = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    return (out / "brief.md").read_text(encoding="utf-8"), record, result


def _cited(record: dict) -> set[str]:  # type: ignore[type-arg]
    return {s["doc_id"] for s in record["sources"]}


def test_as_of_is_the_corpus_as_it_stood_that_day(project: Path, tmp_path: Path) -> None:
    md, record, _ = _build(project, tmp_path, "--as-of", "2026-03-15")
    assert _cited(record) == {"early", "mid", "undated", "chips"}  # "late" is dated after
    assert ("Window: up to March 15, 2026 (the corpus as it stood that day), 3 dated sources and "
            "1 undated, of 5 in the corpus; 1 dated later left out; 4 cited.") in md
    assert record["window"] == {"from": None, "to": "2026-03-15", "dated_inside": 3, "undated": 1,
                                "undated_kept": True, "dated_later": 1}
    # "Generated" is when it was built, not the as-of day; the as-of day is stated apart.
    generated = dt.datetime.fromisoformat(record["generated_at"])
    assert abs(generated - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)
    assert f"Generated {record['generated_at']}" in md
    assert "As of March 15, 2026: sources dated after that day are left out." in md


def test_since_and_within_days_leave_out_undated_and_older_sources(
    project: Path, tmp_path: Path
) -> None:
    md, record, _ = _build(project, tmp_path / "a", "--as-of", "2026-03-15", "--since", "2026-03-05")
    assert _cited(record) == {"mid", "chips"}
    assert ("Window: March 5, 2026 to March 15, 2026, 2 of 5 sources dated inside it "
            "(undated sources left out); 2 cited.") in md
    _, record, _ = _build(project, tmp_path / "b", "--as-of", "2026-03-15", "--within-days", "6")
    assert _cited(record) == {"mid", "chips"} and record["window"]["from"] == "2026-03-09"


def test_stale_reporting_is_said(project: Path, tmp_path: Path) -> None:
    md, _, _ = _build(project, tmp_path, "--as-of", "2026-03-15", "--since", "2026-03-01")
    assert "**Latest reporting: March 10, 2026.**" in md  # 5 days > stale_after_days: 3
    md, _, _ = _build(project, tmp_path / "fresh", "--as-of", "2026-03-12")
    assert "Latest reporting" not in md


def test_select_takes_the_same_window(project: Path) -> None:
    def selected(*args: str) -> set[str]:
        out = _run(project, "select", "trade", "--json", *args).output
        return {p["doc_id"] for p in json.loads(out)["passages"]}

    assert selected("--as-of", "2026-03-15") == {"early", "mid", "undated", "chips"}
    assert selected("--as-of", "2026-03-15", "--since", "2026-03-05") == {"mid", "chips"}
    assert selected("--as-of", "2026-03-15", "--within-days", "6") == {"mid", "chips"}
    bad = CliRunner().invoke(cli, ["select", "-c", str(project / "config.yaml"), "trade",
                                   "--since", "5 March"])
    assert bad.exit_code == 2 and "'--since'" in bad.output and "%Y-%m-%d" in bad.output


def test_html_page_metadata_reaches_the_sources_list(project: Path, tmp_path: Path) -> None:
    md, record, _ = _build(project, tmp_path, "--as-of", "2026-03-15")
    assert ("- Aiko Tanaka. “Japan and Korea agree on chip supply talks.” Harbour Daily, "
            "March 9, 2026. <https://harbourdaily.example/world/2026/03/09/chip-supply-talks>") in md
    chips = next(s for s in record["sources"] if s["doc_id"] == "chips")
    assert (chips["outlet"], chips["author"], chips["date"]) == ("Harbour Daily", "Aiko Tanaka", "2026-03-09")
    assert "TOKYO" not in md


def test_topics_sets_the_sections_for_one_run(project: Path, tmp_path: Path) -> None:
    md, record, result = _build(project, tmp_path, "--topics", "korea")
    assert [s["topic"] for s in record["sections"]] == ["korea"]
    assert "## Korea" in md and "## Trade" not in md
    assert "warning:" not in result.output
    bad = CliRunner().invoke(cli, ["build", "-c", str(project / "config.yaml"), "--topics", "kroea"])
    assert bad.exit_code != 0 and "unknown topic 'kroea'" in bad.output and "did you mean 'korea'" in bad.output


def test_topic_file_adds_its_topic_to_the_sections(project: Path, tmp_path: Path) -> None:
    energy = str(project / "energy.yaml")
    _, record, result = _build(project, tmp_path / "a", "--topic-file", energy)
    assert [s["topic"] for s in record["sections"]] == ["trade", "energy"]
    assert record["sections"][1]["passages"]
    assert "energy" not in result.output.split("wrote")[0]  # used: no warning about it
    # --topics wins; a topic file left out of the sections is a warning, never silence.
    _, record, result = _build(project, tmp_path / "b", "--topic-file", energy, "--topics", "trade")
    assert [s["topic"] for s in record["sections"]] == ["trade"]
    assert "topic 'energy' is loaded but not in this build's sections (--topics trade)" in result.output


def test_a_topic_no_brief_uses_is_a_warning_from_build_and_validate(project: Path, tmp_path: Path) -> None:
    warning = "config.yaml: topic 'korea' is used by no brief"
    assert warning in _run(project, "validate").output
    assert warning in _build(project, tmp_path)[2].output
    (project / "topics" / "spare.yaml").write_text(ENERGY, encoding="utf-8")
    try:
        assert "topics/spare.yaml: topic 'spare' is used by no brief" in _run(project, "validate").output
    finally:
        (project / "topics" / "spare.yaml").unlink()
