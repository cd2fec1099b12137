"""verify_brief and `briefgen verify`: a fresh brief passes; an edited or missing seed fails."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_build import copy_project, indexed

from briefgen.build import build_brief
from briefgen.cli import cli
from briefgen.config.schema import LoadedConfig
from briefgen.errors import VerifyError
from briefgen.verify import verify_brief


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[LoadedConfig, Path, dict]:  # type: ignore[type-arg]
    """A project copy with a freshly built brief.json (no PDF: verify reads only the JSON)."""
    cfg = indexed(copy_project(tmp_path / "project"))
    build_brief(cfg, formats=["json"], out_dir=tmp_path / "out", as_of=dt.date(2026, 3, 15))
    path = tmp_path / "out" / "brief.json"
    return cfg, path, json.loads(path.read_text(encoding="utf-8"))


def test_fresh_brief_verifies(fresh: tuple[LoadedConfig, Path, dict]) -> None:  # type: ignore[type-arg]
    cfg, path, record = fresh
    report = verify_brief(path, cfg)
    assert report.ok, report.format()
    assert report.quotes == len({p["citation"] for s in record["sections"] for p in s["passages"]})
    assert report.format().endswith(f"{report.sources} source(s) match the corpus")


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
    assert f"{quoted['source_path']}: source {quoted['doc_id']} changed since the brief was built" in text
    assert f"note {quoted['citation']} ({quoted['source_path']}): quote no longer matches at characters" in text
    assert word.upper() in text
    result = CliRunner().invoke(cli, ["verify", "-c", str(cfg.path), str(path)])
    assert result.exit_code == 1 and "problem(s)" in result.output


def test_missing_seed_fails(fresh: tuple[LoadedConfig, Path, dict]) -> None:  # type: ignore[type-arg]
    cfg, path, record = fresh
    gone = record["sources"][0]
    (cfg.root / gone["source_path"]).unlink()
    report = verify_brief(path, cfg)
    assert not report.ok
    assert f"{gone['source_path']}: source {gone['doc_id']} is missing" in report.format()


def test_tampered_quote_fails(fresh: tuple[LoadedConfig, Path, dict]) -> None:  # type: ignore[type-arg]
    cfg, path, record = fresh
    record["sections"][1]["passages"][0]["text"] += " (and more)"
    path.write_text(json.dumps(record), encoding="utf-8")
    report = verify_brief(path, cfg)
    assert [p.where.split()[1] for p in report.problems] == [str(record["sections"][1]["passages"][0]["citation"])]


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
