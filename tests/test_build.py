"""build_brief and `briefgen build` on a copy of the project (seeds, config, templates)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest
from briefdata import ROOT
from click.testing import CliRunner

from briefgen.build import build_brief, empty_corpus_message, parse_as_of, parse_formats
from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.config.schema import LoadedConfig
from briefgen.errors import ConfigError, RenderError
from briefgen.index.update import update_index
from briefgen.schedule.run_due import run_due, runs_db_path
from briefgen.schedule.sqlite_history import RunState

AS_OF = dt.date(2026, 3, 15)
NOW = dt.datetime(2026, 3, 15, 6, 0, tzinfo=dt.UTC)  # "Generated": fixed, so files compare


def copy_project(dest: Path) -> Path:
    """Copy config.yaml, seeds/, topics/ and templates/ (as the `project` fixture does)."""
    dest.mkdir(parents=True)
    shutil.copy2(ROOT / "config.yaml", dest / "config.yaml")
    for name in ("seeds", "topics", "templates"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, dest / name)
    return dest


def indexed(root: Path) -> LoadedConfig:
    cfg = load_config(root / "config.yaml")
    update_index(cfg, progress=False, warn=lambda _m: None)
    return cfg


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadedConfig, list[Path]]:
    """The default brief built once, every format, into the default folder."""
    cfg = indexed(copy_project(tmp_path_factory.mktemp("build") / "project"))
    return cfg, build_brief(cfg, as_of=AS_OF, now=NOW).files


def test_default_brief_goes_to_the_configured_folder(built: tuple[LoadedConfig, list[Path]]) -> None:
    cfg, files = built
    folder = cfg.root / "briefs" / "japan-daily"
    assert files == [folder / "brief.md", folder / "brief.pdf", folder / "brief.json"]
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_json_record_matches_the_markdown(built: tuple[LoadedConfig, list[Path]]) -> None:
    _, files = built
    record = json.loads(files[2].read_text(encoding="utf-8"))
    md = files[0].read_text(encoding="utf-8")
    assert record["brief"] == "japan-daily" and record["as_of"] == "2026-03-15"
    assert record["generated_at"] == "2026-03-15T06:00:00Z"
    assert [s["topic"] for s in record["sections"]] == ["security", "trade", "china", "korea"]
    listed = {s["doc_id"] for s in record["sources"]}
    cited = {d for s in record["sections"] for p in s["passages"] for d in (p["doc_id"], *p["also_reported_by"])}
    assert cited == listed
    for section in record["sections"]:
        assert f"## {section['title']}" in md
        for p in section["passages"]:
            assert f"[^{p['citation']}]: " in md
    assert "AI-generated" in json.dumps(record["sources"])


def test_same_inputs_give_identical_files(
    built: tuple[LoadedConfig, list[Path]], tmp_path: Path
) -> None:
    cfg, files = built
    again = build_brief(cfg, out_dir=tmp_path, as_of=AS_OF, now=NOW).files
    for first, second in zip(files, again, strict=True):
        if first.suffix == ".pdf":
            def text(p: Path) -> list[str]:
                return [page.extract_text() for page in pypdf.PdfReader(p).pages]
            assert text(first) == text(second)
        else:
            assert first.read_bytes() == second.read_bytes(), first.name


def test_previous_run_marks_new_passages(built: tuple[LoadedConfig, list[Path]], tmp_path: Path) -> None:
    cfg, files = built
    record = json.loads(files[2].read_text(encoding="utf-8"))
    dropped = record["sections"][1]["passages"][0]
    for section in record["sections"]:
        section["passages"] = [p for p in section["passages"] if p["text"] != dropped["text"]]
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(record), encoding="utf-8")
    result = build_brief(cfg, formats=["md", "json"], out_dir=tmp_path / "out", as_of=AS_OF,
                         previous=previous)
    notes = tuple(c.number for c in result.brief.citations if c.text == dropped["text"])
    assert dropped["citation"] in notes and result.brief.new_since_previous == notes[:1]
    new = json.loads((tmp_path / "out" / "brief.json").read_text(encoding="utf-8"))
    assert new["new_since_previous"] == list(notes[:1])
    assert (tmp_path / "out" / "brief.md").read_text(encoding="utf-8").count("**New** “") == 1
    same = build_brief(cfg, formats=["json"], out_dir=tmp_path / "same", as_of=AS_OF,
                       previous=files[2])
    assert same.brief.new_since_previous == ()


def test_failed_render_leaves_previous_outputs_intact(tmp_path: Path) -> None:
    cfg = indexed(copy_project(tmp_path / "project"))
    out = tmp_path / "out"
    build_brief(cfg, formats=["md", "json"], out_dir=out, as_of=AS_OF)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # The PDF template breaks: brief.md renders fine but must not be written either.
    (cfg.root / "templates" / "brief.html.j2").write_text("<p>{{ brief.missing }}</p>\n", encoding="utf-8")
    with pytest.raises(RenderError) as err:
        build_brief(cfg, formats=["md", "pdf", "json"], out_dir=out, as_of=dt.date(2026, 3, 16))
    assert "brief japan-daily" in str(err.value) and "brief.html.j2:1" in str(err.value)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_brief_can_use_its_own_template_folder(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    own = root / "my-templates"
    own.mkdir()
    (own / "brief.md.j2").write_text("Custom: {{ brief.title }} ({{ brief.sections | length }})\n",
                                     encoding="utf-8")
    config = (root / "config.yaml").read_text(encoding="utf-8")
    (root / "config.yaml").write_text(
        config.replace("    paper: A4\n", "    paper: A4\n    template_dir: my-templates\n"), encoding="utf-8"
    )
    cfg = indexed(root)
    build_brief(cfg, formats=["md"], out_dir=tmp_path / "out", as_of=AS_OF)
    assert (tmp_path / "out" / "brief.md").read_text(encoding="utf-8") == "Custom: Japan Policy Brief (4)\n"


def test_option_parsing() -> None:
    assert parse_formats(None) is None
    assert parse_formats("md, PDF,md") == ["md", "pdf"]
    assert parse_as_of("2026-03-15") == AS_OF and parse_as_of(None) is None
    with pytest.raises(ConfigError, match="--format: unknown format docx"):
        parse_formats("md,docx")
    with pytest.raises(ConfigError, match="--as-of"):
        parse_as_of("15/03/2026")


def test_unknown_brief_is_a_config_error(built: tuple[LoadedConfig, list[Path]]) -> None:
    with pytest.raises(ConfigError, match="no brief named 'nope'.*japan-daily"):
        build_brief(built[0], "nope")


def test_cli_build_and_verify(built: tuple[LoadedConfig, list[Path]], tmp_path: Path) -> None:
    cfg, _ = built
    runner = CliRunner()
    config = str(cfg.path)
    result = runner.invoke(cli, ["build", "-c", config, "--format", "md,json", "--out", str(tmp_path),
                                 "--as-of", "2026-03-15"])
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'brief.md'}" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brief.json", "brief.md"]
    ok = runner.invoke(cli, ["verify", "-c", config, str(tmp_path / "brief.json")])
    assert ok.exit_code == 0 and ": ok — " in ok.output
    bad = runner.invoke(cli, ["build", "-c", config, "--format", "docx"])
    assert bad.exit_code == 2 and "unknown format docx" in bad.output
    assert "Traceback" not in bad.output


def test_cli_build_with_the_pdf_process_forked_ahead_writes_the_same_files(
    built: tuple[LoadedConfig, list[Path]], tmp_path: Path
) -> None:
    cfg, files = built
    result = CliRunner(env={"SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))}).invoke(
        cli, ["build", "-c", str(cfg.path), "--out", str(tmp_path), "--as-of", "2026-03-15"]
    )
    assert result.exit_code == 0, result.output
    by_name = {p.name: p for p in files}
    for name in ("brief.md", "brief.json"):
        assert (tmp_path / name).read_bytes() == by_name[name].read_bytes()

    def pdf_text(path: Path) -> list[str]:
        return [page.extract_text() for page in pypdf.PdfReader(path).pages]

    assert pdf_text(tmp_path / "brief.pdf") == pdf_text(by_name["brief.pdf"])


# --- an empty corpus --------------------------------------------------------------------------

EMPTY = (
    "the corpus has 0 articles: seeds/ has no file matching corpus.include "
    "(*.txt, *.md, *.html, *.htm, *.jsonl, *.jsonl.gz)"
)


@pytest.fixture
def empty_project(tmp_path: Path) -> Path:
    """The project with every article removed (its metadata file kept)."""
    root = copy_project(tmp_path / "project")
    for article in (root / "seeds").glob("*.txt"):
        article.unlink()
    return root


def test_build_on_an_empty_corpus_says_so(empty_project: Path, tmp_path: Path) -> None:
    config = str(empty_project / "config.yaml")
    result = CliRunner().invoke(cli, ["build", "-c", config, "--format", "md", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert result.stderr == f'warning: {EMPTY}; the brief says "No relevant reporting" in every section\n'
    assert "No relevant reporting" in (tmp_path / "o" / "brief.md").read_text("utf-8")


def test_build_strict_on_an_empty_corpus_fails_and_writes_nothing(
    empty_project: Path, tmp_path: Path
) -> None:
    config = str(empty_project / "config.yaml")
    out = tmp_path / "o"
    result = CliRunner().invoke(cli, ["build", "-c", config, "--strict", "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr == f"error: {EMPTY}; nothing written\n"
    assert not out.exists()


def test_empty_corpus_message_when_every_file_was_skipped(empty_project: Path) -> None:
    (empty_project / "seeds" / "blank.txt").write_text("   \n", "utf-8")
    cfg = load_config(empty_project / "config.yaml")
    assert empty_corpus_message(cfg) == (
        "the corpus has 0 articles: the 1 file(s) in seeds/ gave no article "
        "(`briefgen index` says why)"
    )


def test_a_scheduled_run_on_an_empty_corpus_is_recorded_as_such(empty_project: Path) -> None:
    cfg = load_config(empty_project / "config.yaml")
    lines: list[str] = []
    # config.yaml builds japan-daily at 07:00 Asia/Tokyo on weekdays; Monday 07:05 is due.
    result = run_due(cfg, now=dt.datetime(2026, 3, 16, 7, 5, tzinfo=ZoneInfo("Asia/Tokyo")),
                     echo=lines.append)
    assert result.exit_code == 1 and not result.built
    assert [(b, e) for b, _, e in result.failed] == [("japan-daily", f"{EMPTY}; nothing written")]
    with RunState(runs_db_path(cfg)) as state:
        (row,) = state.history("japan-daily", limit=5)
    assert (row.status, row.error) == ("failed", f"{EMPTY}; nothing written")
    assert not (empty_project / "briefs" / "japan-daily" / "2026-03-16").exists()
