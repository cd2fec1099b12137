"""`briefgen topics` and `briefgen briefs`, and the choices `select` and `build` name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefgen.build import find_brief
from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.errors import ConfigError
from briefgen.listing import format_briefs, format_schedule_list, format_topics
from briefgen.select.selection import find_topic

NOW = datetime(2026, 3, 13, 23, 0, tzinfo=UTC)  # Saturday 08:00 in Tokyo

TOPICS = """\
TOPIC     TITLE                        DEFINED IN           USED BY
security  Security and defence         config.yaml          japan-daily
trade     Trade and economic security  config.yaml          japan-daily
china     China                        config.yaml          japan-daily
korea     Korea                        config.yaml          japan-daily
example   Energy security              topics/example.yaml  -

not in any brief: example; add to a brief's `topics:` for a section (`briefgen select TOPIC` \
shows what one picks)"""

BRIEFS = """\
japan-daily (default): Japan Policy Brief
  topics:    security, trade, china, korea
  formats:   md, pdf, json
  output:    briefs/japan-daily/  (briefgen build japan-daily)
  schedule:  "0 7 * * 1-5" in Asia/Tokyo
  next run:  2026-03-16 Mon 07:00 JST -> briefs/japan-daily/2026-03-16/

weekly: Weekly
  topics:    example
  formats:   md
  output:    briefs/weekly-2026-03-13/  (briefgen build weekly)
  schedule:  none (add `schedule:` to build it with `briefgen run-due`)"""


@pytest.fixture
def two_briefs(project: Path) -> Path:
    """The project with a second, unscheduled brief that uses the example topic."""
    config = project / "config.yaml"
    config.write_text(
        config.read_text("utf-8").replace("default_brief: japan-daily", (
            "  weekly:\n    title: Weekly\n    topics: [example]\n    formats: [md]\n"
            '    output: "weekly-{date}"\n\ndefault_brief: japan-daily'
        )), "utf-8"
    )
    return config


def _example_topic(project: Path) -> None:
    (project / "topics" / "example.yaml").write_text(
        "title: Energy security\nterms: {energy: 3}\n", "utf-8"
    )


def test_topics_lists_key_title_file_and_briefs(project: Path) -> None:
    _example_topic(project)
    cfg = load_config(project / "config.yaml")
    assert format_topics(cfg) == TOPICS
    result = CliRunner().invoke(cli, ["topics", "-c", str(project / "config.yaml")])
    assert result.exit_code == 0 and result.stdout == TOPICS + "\n"


def test_briefs_lists_topics_formats_output_schedule_and_next_run(two_briefs: Path) -> None:
    _example_topic(two_briefs.parent)
    cfg = load_config(two_briefs)
    assert format_briefs(cfg, NOW) == BRIEFS
    result = CliRunner().invoke(cli, ["briefs", "-c", str(two_briefs), "--now", NOW.isoformat()])
    assert result.exit_code == 0
    assert result.stdout == BRIEFS + "\n"


def test_a_topic_in_every_brief_gets_no_hint(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "topics: {t: {title: T, terms: [x]}}\nbriefs: {b: {title: B, topics: [t]}}\n", "utf-8"
    )
    cfg = load_config(tmp_path / "config.yaml")
    assert format_topics(cfg).splitlines() == [
        "TOPIC  TITLE  DEFINED IN   USED BY", "t      T      config.yaml  b"
    ]
    assert format_briefs(load_config(tmp_path / "config.yaml"), NOW).splitlines()[0] == "b (default): B"


def test_select_and_build_help_name_the_choices(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _example_topic(project)
    monkeypatch.chdir(project)
    select = CliRunner().invoke(cli, ["select", "--help"])
    assert select.exit_code == 0
    assert " ".join(select.stdout.split()).endswith(
        "Topics in config.yaml: security, trade, china, korea, example "
        "(`briefgen topics` describes them)."
    )
    (project / "other.yaml").write_text(
        "topics: {t: {title: T, terms: [x]}}\nbriefs: {b: {title: B, topics: [t]}}\n", "utf-8"
    )
    build = CliRunner().invoke(cli, ["build", "--help", "--config", "other.yaml"])
    assert " ".join(build.stdout.split()).endswith(
        "Briefs in other.yaml: b (`briefgen briefs` describes them)."
    )


def test_help_without_a_config_says_which_command_lists_them(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["select", "-c", str(tmp_path / "none.yaml"), "--help"])
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith("`briefgen topics` lists the topics a project defines.")


def test_unknown_topic_and_brief_name_the_choices(project: Path) -> None:
    _example_topic(project)
    cfg = load_config(project / "config.yaml")
    with pytest.raises(ConfigError) as topic:
        find_topic(cfg, "securty")
    assert str(topic.value) == (
        "config.yaml: unknown topic 'securty' (did you mean 'security'?); known topics: china, "
        "example, korea, security, trade; `briefgen topics` describes them"
    )
    with pytest.raises(ConfigError) as brief:
        find_brief(cfg, "japan-dialy")
    assert str(brief.value) == (
        f"{cfg.path}: no brief named 'japan-dialy' (did you mean 'japan-daily'?); known briefs: "
        "japan-daily; `briefgen briefs` describes them"
    )


def test_schedule_list_prints_the_folder_of_each_run(two_briefs: Path) -> None:
    _example_topic(two_briefs.parent)
    text = format_schedule_list(load_config(two_briefs), now=NOW)
    assert "{" not in text
    assert text.splitlines() == [
        'japan-daily: "0 7 * * 1-5" in Asia/Tokyo (catch up within 12 h, 3 retries, keep 30)',
        "  2026-03-16 Mon 07:00 JST   2026-03-15 22:00 UTC  -> briefs/japan-daily/2026-03-16/",
        "  2026-03-17 Tue 07:00 JST   2026-03-16 22:00 UTC  -> briefs/japan-daily/2026-03-17/",
        "  2026-03-18 Wed 07:00 JST   2026-03-17 22:00 UTC  -> briefs/japan-daily/2026-03-18/",
        "weekly: not scheduled",
    ]
