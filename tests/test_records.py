"""JSONL records with other field names: one message per file, and `corpus.fields` to map them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from indexdata import article, make_cfg

from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.corpus.files import read_path, read_raw
from briefgen.corpus.metadata import normalize_date
from briefgen.index.backends import open_store
from briefgen.index.update import update_index

# The issue's contract, spelled exactly as users will write it.
FIELDS = {"id": "story_id", "title": "headline", "text": "body", "date": "published",
          "outlet": "source", "url": "link", "author": "byline"}
PRESENT = "story_id, headline, body, published, source, link, byline"


def _records(n: int) -> list[dict[str, object]]:
    return [
        {"story_id": f"s{i}", "headline": f"Story {i}", "body": article("tariff"),
         "published": "26-FEB-1987 15:01:01.79", "source": "Wire", "link": f"https://example.org/{i}",
         "byline": "By A. Writer"}
        for i in range(1, n + 1)
    ]


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


def _missing(line: int, example: str = "body") -> str:
    return (
        f'corpus/wire.jsonl:{line}: the records have no "text" field (fields present: {PRESENT}); '
        "each record without it is skipped. Name the field that holds the article's text as "
        f"corpus.fields.text in config.yaml, e.g. corpus: {{fields: {{text: {example}}}}}"
    )


def test_a_file_without_the_text_field_is_reported_once(tmp_path: Path) -> None:
    _write(tmp_path / "corpus" / "wire.jsonl", _records(30))
    shown: list[str] = []
    summary = update_index(make_cfg(tmp_path), progress=False, warn=shown.append)
    assert shown == [_missing(1)]
    assert summary.skipped == [_missing(1)] and summary.unlisted == 29
    assert "0 added, 0 updated, 0 unchanged, 0 removed, 30 skipped" in summary.format()


def test_the_non_index_reader_reports_it_once_too(tmp_path: Path) -> None:
    path = _write(tmp_path / "corpus" / "wire.jsonl", _records(3))
    shown: list[str] = []
    assert list(read_path(path, make_cfg(tmp_path), warn=shown.append)) == []
    assert shown == [_missing(1)]


def test_no_guess_when_no_field_looks_like_text(tmp_path: Path) -> None:
    _write(tmp_path / "corpus" / "wire.jsonl", [{"a": 1, "b": "x"}])
    shown: list[str] = []
    update_index(make_cfg(tmp_path), progress=False, warn=shown.append)
    assert shown == [(
        'corpus/wire.jsonl:1: the records have no "text" field (fields present: a, b); each '
        "record without it is skipped. Name the field that holds the article's text as "
        "corpus.fields.text in config.yaml, e.g. corpus: {fields: {text: FIELD}}"
    )]


def test_corpus_fields_map_every_field(tmp_path: Path) -> None:
    path = _write(tmp_path / "corpus" / "wire.jsonl", _records(3))
    cfg = make_cfg(tmp_path, fields=FIELDS)
    shown: list[str] = []
    summary = update_index(cfg, progress=False, warn=shown.append)
    assert (shown, summary.added) == ([], 3)
    (doc, *_) = read_path(path, cfg, warn=shown.append)
    meta = doc.source.meta
    assert doc.source.doc_id == "s1"
    assert (meta.title, meta.date, meta.outlet, meta.url, meta.author) == (
        "Story 1", "1987-02-26", "Wire", "https://example.org/1", "A. Writer"
    )
    with open_store(cfg) as store:
        assert store.date_summary()[:2] == (3, 3)  # three sources, all dated


def test_a_mapped_field_wins_over_the_usual_name(tmp_path: Path) -> None:
    record = {"id": "x", "title": "Old title", "headline": "New title", "text": article("trade")}
    path = _write(tmp_path / "corpus" / "wire.jsonl", [record])
    (doc,) = read_path(path, make_cfg(tmp_path, fields={"title": "headline"}), warn=print)
    assert doc.source.meta.title == "New title"
    del record["headline"]
    _write(path, [record])
    (doc,) = read_path(path, make_cfg(tmp_path, fields={"title": "headline"}), warn=print)
    assert doc.source.meta.title == "Old title"  # absent: the usual name is still read


def test_mapping_the_fields_later_reads_the_unchanged_file_again(tmp_path: Path) -> None:
    _write(tmp_path / "corpus" / "wire.jsonl", _records(4))
    assert update_index(make_cfg(tmp_path), progress=False).added == 0
    again = update_index(make_cfg(tmp_path, fields={"text": "body"}), progress=False)
    assert (again.added, again.skipped) == (4, [])


def test_corpus_fields_is_read_from_config_yaml_as_the_issue_spells_it(tmp_path: Path) -> None:
    fields = ", ".join(f"{k}: {v}" for k, v in FIELDS.items())
    (tmp_path / "config.yaml").write_text(f"corpus: {{fields: {{{fields}}}}}\n", "utf-8")
    cfg = load_config(tmp_path / "config.yaml")
    assert cfg.config.corpus.fields.model_dump() == FIELDS
    (tmp_path / "config.yaml").write_text("corpus:\n  fields:\n    txt: body\n", "utf-8")
    result = CliRunner().invoke(cli, ["validate", "-c", str(tmp_path / "config.yaml")])
    assert result.exit_code == 2
    assert (
        f"{tmp_path / 'config.yaml'}:3:5: corpus.fields.txt: unknown key 'txt'; did you mean 'text'?"
        in result.stderr.splitlines()
    )


@pytest.mark.parametrize("verbose", [False, True])
def test_index_caps_the_warnings_it_prints_like_its_summary(tmp_path: Path, verbose: bool) -> None:
    records = [{"id": f"e{i}", "text": ""} for i in range(25)]
    _write(tmp_path / "corpus" / "wire.jsonl", records)
    (tmp_path / "config.yaml").write_text("corpus: {path: corpus, metadata: null}\n", "utf-8")
    args = ["index", "-c", str(tmp_path / "config.yaml")] + (["--verbose"] if verbose else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    if verbose:
        assert len(lines) == 25
    else:
        assert lines[:10] == [f"warning: corpus/wire.jsonl:{i}: empty text; skipped" for i in range(1, 11)]
        assert lines[10:] == [
            "warning: … and 15 more skipped input(s) not shown; `briefgen index --verbose` lists them all"
        ]
    assert "  … and 15 more" in result.stdout  # the summary's own cap, the same ten


def test_reuters_21578_dates_are_read() -> None:
    assert normalize_date("26-FEB-1987 15:01:01.79") == "1987-02-26"


def test_reuters_21578_as_shipped(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "reuters21578.jsonl.gz"
    warnings: list[str] = []
    assert list(read_raw(path, make_cfg(tmp_path, str(path)), warn=warnings.append)) == []
    assert len(warnings) == 1 and "e.g. corpus: {fields: {text: body}}" in warnings[0]
    cfg = make_cfg(tmp_path, str(path), fields={"id": "newid", "text": "body"})
    first = next(read_raw(path, cfg, warn=warnings.append))
    assert (first.doc_id, first.meta.title, first.meta.date) == ("1", "BAHIA COCOA REVIEW", "1987-02-26")
