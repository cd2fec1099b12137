"""`briefgen init`: a starter project that validates, never overwrites, and matches the project."""

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
    assert {"security", "trade", "china", "korea", "example"} <= set(cfg.topics)
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


def test_packaged_starter_matches_the_project() -> None:
    sync = _sync_script()
    expected, actual = sync.expected_files(), sync.actual_files()
    assert sorted(actual) == sorted(expected), "run: .venv/bin/python scripts/sync_starter.py"
    for name in expected:
        assert actual[name] == expected[name], (
            f"{name} is stale; run: .venv/bin/python scripts/sync_starter.py"
        )


def test_starter_config_differs_from_the_project_only_in_corpus_location() -> None:
    starter = _sync_script().starter_config((ROOT / "config.yaml").read_text("utf-8"))
    project_lines = (ROOT / "config.yaml").read_text("utf-8").splitlines()
    changed = [line for line in starter.splitlines() if line not in project_lines]
    assert [line.split("#")[0].strip() for line in changed] == [
        "",
        "path: corpus",
        "metadata: null",
    ]
