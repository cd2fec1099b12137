"""verify_brief and `briefgen verify`: a fresh brief passes; an edited seed, record or brief.md
fails and says which changed; a quote that only moved is a warning."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_build import copy_project, indexed

from briefgen._fs import sha256_file
from briefgen.build import build_brief
from briefgen.cli import cli
from briefgen.config.schema import LoadedConfig
from briefgen.errors import VerifyError
from briefgen.verify import RECORD_CHANGED, verify_brief


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[LoadedConfig, Path, dict]:  # type: ignore[type-arg]
    """A project copy with a freshly built brief.md and brief.json (no PDF: it takes longer)."""
    cfg = indexed(copy_project(tmp_path / "project"))
    build_brief(cfg, formats=["md", "json"], out_dir=tmp_path / "out", as_of=dt.date(2026, 3, 15))
    path = tmp_path / "out" / "brief.json"
    return cfg, path, json.loads(path.read_text(encoding="utf-8"))


def test_fresh_brief_verifies(fresh: tuple[LoadedConfig, Path, dict]) -> None:  # type: ignore[type-arg]
    cfg, path, record = fresh
    report = verify_brief(path, cfg)
    assert report.ok, report.format()
    assert report.quotes == len({p["text"] for s in record["sections"] for p in s["passages"]})
    assert report.format().endswith(f"{report.sources} source(s) match the corpus; 1 file(s) as written")
    assert record["files"] == {"brief.md": sha256_file(path.parent / "brief.md")}


def test_edited_seed_fails_with_citation_file_and_difference(
    fresh: tuple[LoadedConfig, Path, dict],  # type: ignore[type-arg]
) -> None:
    cfg, path, record = fresh
    quoted = record["sections"][0]["passages"][0]
    seed = cfg.root / quoted["source_path"]
    raw = seed.read_text(encoding="utf-8")
    word = quoted["text"].split()[3]
    at = raw.index(word, quoted["start"])
    seed.write_text(raw[:at] + word.upper() + raw[at + len(word):], encoding="utf-8")

    report = verify_brief(path, cfg)
    assert not report.ok
    text = report.format()
    assert f"warning: {quoted['source_path']}: source {quoted['doc_id']} changed since the brief was built" in text
    assert f"note {quoted['citation']} ({quoted['source_path']}): quote no longer matches at characters" in text
    assert word.upper() in text and "(the source changed since the brief was built)" in text
    result = CliRunner().invoke(cli, ["verify", "-c", str(cfg.path), str(path)])
    assert result.exit_code == 1 and "problem(s)" in result.output


def test_missing_seed_fails(fresh: tuple[LoadedConfig, Path, dict]) -> None:  # type: ignore[type-arg]
    cfg, path, record = fresh
    gone = record["sources"][0]
    (cfg.root / gone["source_path"]).unlink()
    report = verify_brief(path, cfg)
    assert not report.ok
    assert f"{gone['source_path']}: source {gone['doc_id']} is missing" in report.format()


def test_tampered_quote_fails_and_blames_the_record(
    fresh: tuple[LoadedConfig, Path, dict],  # type: ignore[type-arg]
) -> None:
    cfg, path, record = fresh
    record["sections"][1]["passages"][0]["text"] += " (and more)"
    path.write_text(json.dumps(record), encoding="utf-8")
    report = verify_brief(path, cfg)
    tampered = record["sections"][1]["passages"][0]
    assert [p.where for p in report.problems] == [
        "brief.json", f"note {tampered['citation']} ({tampered['source_path']})"]
    assert "the record changed" in report.problems[0].message
    assert report.problems[1].message.endswith(f"({RECORD_CHANGED})")


def test_edited_brief_md_is_caught(fresh: tuple[LoadedConfig, Path, dict]) -> None:  # type: ignore[type-arg]
    cfg, path, _ = fresh
    md = path.parent / "brief.md"
    text = md.read_text(encoding="utf-8")
    assert "2% of GDP" in text
    md.write_text(text.replace("2% of GDP", "5% of GDP"), encoding="utf-8")
    report = verify_brief(path, cfg)
    assert [p.where for p in report.problems] == ["brief.md"]
    assert "changed since the brief was built" in report.problems[0].message
    assert "not the sources" in report.problems[0].message
    result = CliRunner().invoke(cli, ["verify", "-c", str(cfg.path), str(path)])
    assert result.exit_code == 1 and "brief.md: changed since the brief was built" in result.output


def test_a_quote_that_only_moved_is_a_warning_saying_where_it_is(
    fresh: tuple[LoadedConfig, Path, dict],  # type: ignore[type-arg]
) -> None:
    cfg, path, record = fresh
    quoted = record["sections"][0]["passages"][0]
    seed = cfg.root / quoted["source_path"]
    raw = seed.read_text(encoding="utf-8")
    cut = raw.index("\n") + 1  # a line added below the first one: every quote shifts
    seed.write_text(raw[:cut] + "A line added by an editor.\n\n" + raw[cut:], encoding="utf-8")
    report = verify_brief(path, cfg)
    assert report.ok, report.format()
    moved = [w for w in report.warnings if w.where.startswith(f"note {quoted['citation']} ")]
    shift = len("A line added by an editor.\n\n")
    assert moved and f"now at {quoted['start'] + shift}–{quoted['end'] + shift}" in moved[0].message
    result = CliRunner().invoke(cli, ["verify", "-c", str(cfg.path), str(path)])
    assert result.exit_code == 0 and "quote moved but is still verbatim" in result.output


def test_key_point_and_file_list_are_checked(fresh: tuple[LoadedConfig, Path, dict]) -> None:  # type: ignore[type-arg]
    cfg, path, record = fresh
    record["key_points"][0]["text"] = "…Something nobody said."
    record["files"]["brief.pdf"] = "0" * 64  # listed, but not written here
    record["files"]["../secret"] = "0" * 64
    path.write_text(json.dumps(record), encoding="utf-8")
    report = verify_brief(path, cfg)
    wheres = [p.where for p in report.problems]
    assert f"key point (note {record['key_points'][0]['citation']})" in wheres and "../secret" in wheres
    assert [w.where for w in report.warnings] == ["brief.pdf"]


@pytest.mark.parametrize("content, message", [
    ("{broken", "not valid JSON"),
    ('{"sections": []}', "not a brief.json record"),
    ('{"sections": [{"passages": [{"citation": 1}]}], "sources": []}', "not a brief.json record"),
])
def test_unreadable_record_is_a_verify_error(tmp_path: Path, content: str, message: str) -> None:
    cfg = indexed(copy_project(tmp_path / "project"))
    path = tmp_path / "brief.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VerifyError, match=message):
        verify_brief(path, cfg)
    with pytest.raises(VerifyError, match="no such file"):
        verify_brief(tmp_path / "absent.json", cfg)
