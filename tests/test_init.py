"""`briefgen init`: a neutral starter project that validates, builds and never overwrites."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
from pathlib import Path

from click.testing import CliRunner

from briefgen.cli import cli
from briefgen.config.jsonschema import config_json_schema
from briefgen.config.load import load_config
from briefgen.config.schema import CorpusSettings

ROOT = Path(__file__).resolve().parent.parent


def _sync_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "sync_starter", ROOT / "scripts" / "sync_starter.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_init_then_validate_succeeds(tmp_path: Path) -> None:
    target = tmp_path / "new"
    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert f"wrote {target / 'config.yaml'}" in result.stdout
    result = runner.invoke(cli, ["validate", "-c", str(target / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{target / 'config.yaml'}: ok")
    cfg = load_config(target / "config.yaml")
    assert set(cfg.topics) == {"economy", "security", "example"}
    assert cfg.topic_sources["example"] == target / "topics" / "example.yaml"
    assert cfg.resolve(cfg.config.corpus.path) == target / "corpus"
    assert (target / "corpus").is_dir()
    assert json.loads((target / "config.schema.json").read_text("utf-8")) == config_json_schema()


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    (tmp_path / "config.yaml").write_text("# mine\n", "utf-8")
    result = runner.invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists; nothing written (use --force" in result.stderr
    assert "Traceback" not in result.output
    assert (tmp_path / "config.yaml").read_text("utf-8") == "# mine\n"
    assert runner.invoke(cli, ["init", "--force", str(tmp_path)]).exit_code == 0
    assert (tmp_path / "config.yaml").read_text("utf-8") != "# mine\n"


def test_init_into_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x", "utf-8")
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "f")])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_corpus_readme_is_not_read_as_an_article(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    readme = [p.name for p in (tmp_path / "corpus").iterdir()]
    patterns = CorpusSettings().include
    assert readme and not any(fnmatch.fnmatch(n, pat) for n in readme for pat in patterns)


def test_packaged_starter_templates_match_the_project() -> None:
    sync = _sync_script()
    expected, actual = sync.expected_files(), sync.actual_files()
    assert sorted(actual) == sorted(expected), "run: .venv/bin/python scripts/sync_starter.py"
    for name in expected:
        assert actual[name] == expected[name], (
            f"{name} is stale; run: .venv/bin/python scripts/sync_starter.py"
        )


def test_starter_config_is_neutral_not_the_demo() -> None:
    text = (ROOT / "briefgen" / "starter" / "project" / "config.yaml").read_text("utf-8")
    assert text.startswith("# yaml-language-server: $schema=config.schema.json\n")
    for demo in ("japan", "takaichi", "tokyo", "korea", "china"):
        assert demo not in text.lower(), f"the starter config still mentions {demo!r}"
    assert text != (ROOT / "config.yaml").read_text("utf-8")


def test_starter_has_one_brief_using_every_topic_and_no_schedule(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    cfg = load_config(tmp_path / "config.yaml")
    assert list(cfg.config.briefs) == ["daily"] and cfg.config.default_brief == "daily"
    brief = cfg.config.briefs["daily"]
    assert brief.title == "My Policy Brief"
    assert brief.schedule is None  # commented out, with how to turn it on
    assert sorted(brief.topics) == sorted(cfg.topics)  # the example topic is in the brief
    config_text = (tmp_path / "config.yaml").read_text("utf-8")
    assert "# schedule:" in config_text and "briefgen run-due" in config_text


def test_starter_readme_gives_the_three_next_steps(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "p")])
    readme = (tmp_path / "p" / "README.md").read_text("utf-8")
    steps = [line for line in readme.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]
    assert len(steps) == 3
    assert "`corpus/`" in steps[0] and "topic" in steps[1] and "`briefgen build`" in steps[2]
    assert result.stdout.splitlines()[-1] == (
        f"next: put articles in {tmp_path / 'p' / 'corpus'}, edit a topic "
        f"({tmp_path / 'p' / 'topics' / 'example.yaml'}), then `cd {tmp_path / 'p'} && "
        f"briefgen build` (see {tmp_path / 'p' / 'README.md'})"
    )


def test_the_starter_builds(tmp_path: Path) -> None:
    target = tmp_path / "new"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(target)]).exit_code == 0
    for article in sorted((ROOT / "seeds").glob("*.txt")):
        (target / "corpus" / article.name).write_bytes(article.read_bytes())
    result = runner.invoke(cli, ["build", "-c", str(target / "config.yaml")])
    assert result.exit_code == 0, result.output
    folder = target / "briefs" / "daily"
    assert sorted(p.name for p in folder.iterdir()) == ["brief.json", "brief.md", "brief.pdf"]
    md = (folder / "brief.md").read_text("utf-8")
    assert md.startswith("# My Policy Brief\n")
    for title in ("Economy and trade", "Security and defence", "Energy security"):
        assert f"## {title}" in md
    brief = json.loads((folder / "brief.json").read_text("utf-8"))
    assert brief["sources"], "the starter's topics select nothing from five news articles"
    assert "warning" not in result.stderr
